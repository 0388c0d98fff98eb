// The gateway's jobs: upstream jobs in, gateway jobs (own ids) out, with tip detection, tx-refresh pacing and a
// bounded history to judge late solutions. spec: docs/node-protocol.md "Jobs", docs/gateway.md "Jobs and pacing";
// beam-mining-protocol.txt "Regulating miner jobs generation" (miner_job_latency, never discard jobs).
import type { Logger } from '../config/logger.js';
import type { EventBus } from '../events/EventBus.js';
import { isValidPacked } from '../pow/difficulty.js';
import { variantForHeight, type ChainName, type PowVariant } from '../pow/variants.js';
import type { Upstream, UpstreamJob, UpstreamLogin } from '../upstream/types.js';
import { JobShareMemory, type SolutionClaim, type SolutionDigest } from './ShareMemory.js';

/** One job as miners see it; immutable once published. */
export interface GatewayJob {
  /** Gateway job id: decimal string of `seq` (miners parse it as u64). spec: docs/gateway.md. */
  readonly id: string;
  readonly seq: number;
  /** The node's job id, used when forwarding a block. */
  readonly upstreamJobId: string;
  readonly height: number;
  /** 32-byte header hash, lowercase hex, as sent to miners. */
  readonly input: string;
  readonly inputBytes: Buffer;
  /** Block target, packed (docs/pow.md). */
  readonly blockTarget: number;
  readonly variant: PowVariant;
  /** true when this job started a new tip (all older jobs died with it). */
  readonly newTip: boolean;
  readonly publishedAt: number;
  /** Set on a re-issue (vardiff): the job this one repeats under a new id; it lives and dies with it. */
  readonly aliasOf?: GatewayJob;
}

/** How a solution's job id reads against the book. spec: docs/node-protocol.md — stale/expired like the node. */
export type JobLookup =
  | { readonly status: 'alive'; readonly job: GatewayJob }
  /** Published before the current tip (or before the upstream went down / re-logged in). */
  | { readonly status: 'stale' }
  /** Same tip, but more than `jobHistory` jobs older than the newest. */
  | { readonly status: 'expired' }
  /** Never published by this book. */
  | { readonly status: 'unknown' };

export type CancelReason = 'new-tip' | 'upstream-down' | 'upstream-login';
/**
 * The one consumer of published and dead jobs: the stratum fan-out. A direct call, not a subscription: this is
 * the data path under the event bus (docs/architecture.md "Event bus"), which must neither reorder nor drop a
 * job. The bus announces each job right after the sink has it.
 */
export interface JobSink {
  jobPublished(job: GatewayJob): void;
  jobsCancelled(deadJobs: readonly GatewayJob[], reason: CancelReason): void;
}

export interface JobBookOptions {
  readonly chain: ChainName;
  /** stratum.minerJobLatencyMs: at most one tx-pool refresh per this many ms. */
  readonly minerJobLatencyMs: number;
  /** stratum.jobHistory: jobs of the current tip kept alive (the node keeps 64). */
  readonly jobHistory: number;
  readonly upstream: Upstream;
  readonly logger: Logger;
  /** stratum.maxSharesPerJob: verified solutions remembered per job (docs/decisions.md D29). */
  readonly maxSharesPerJob?: number;
  readonly bus?: EventBus;
  readonly now?: () => number;
}

/** Default of stratum.maxSharesPerJob: verified solutions remembered per job; a full job refuses more. */
export const DEFAULT_MAX_SHARES_PER_JOB = 1 << 20;
/** Vardiff re-issues remembered at once (beyond it the oldest answer `expired`). */
export const MAX_REISSUES = 65536;

const INPUT_HEX_RE = /^[0-9a-fA-F]{64}$/;
const JOB_ID_RE = /^[0-9]{1,15}$/;

export class JobBook {
  private readonly latencyMs: number;
  private readonly history: number;
  private readonly log: Logger;
  private readonly now: () => number;
  /** Jobs of the current tip by seq, oldest first (Map keeps insertion order). */
  private readonly window = new Map<number, GatewayJob>();
  private lastSeq = 0;
  /** First seq of the current tip; anything below is dead. */
  private tipFirstSeq = 1;
  private newest: GatewayJob | undefined;
  /** Set by an upstream login or down: the next job starts a new tip whatever its height. */
  private sessionChanged = true;
  private lastPublishAt = Number.NEGATIVE_INFINITY;
  private pendingRefresh: UpstreamJob | undefined;
  private pacingTimer: NodeJS.Timeout | undefined;
  private sink: JobSink | undefined;
  private closed = false;
  /** Re-issues by seq (vardiff), cleared with the jobs they repeat. */
  private readonly aliases = new Map<number, GatewayJob>();
  private readonly newestReissue = new WeakMap<GatewayJob, GatewayJob>();
  /** Duplicate memory per job; freed with the job. */
  private readonly shareMemory = new WeakMap<GatewayJob, JobShareMemory>();
  private readonly maxSharesPerJob: number;
  private readonly onUpstreamJob = (job: UpstreamJob): void => this.receive(job);
  private readonly onUpstreamLogin = (_login: UpstreamLogin): void => this.killAll('upstream-login');
  private readonly onUpstreamDown = (detail: string): void => {
    this.log.warn({ detail }, 'upstream down: miners told to stop (cancel) and stay connected');
    this.suspend();
  };
  /** Jobs whose cancel went out at `down`; they stay judgeable until the next upstream session begins. */
  private suspended = false;

  constructor(private readonly options: JobBookOptions) {
    this.latencyMs = Math.max(0, options.minerJobLatencyMs);
    this.history = Math.max(1, options.jobHistory);
    this.maxSharesPerJob = Math.max(1, options.maxSharesPerJob ?? DEFAULT_MAX_SHARES_PER_JOB);
    this.log = options.logger.child({ component: 'jobbook' });
    this.now = options.now ?? Date.now;
    options.upstream.on('job', this.onUpstreamJob);
    options.upstream.on('login', this.onUpstreamLogin);
    options.upstream.on('down', this.onUpstreamDown);
  }

  /** The job miners should be working on, if any. */
  get current(): GatewayJob | undefined {
    return this.newest;
  }

  /** Connects the job consumer (once; see JobSink). */
  bindSink(sink: JobSink): void {
    if (this.sink !== undefined) throw new Error('JobBook already has its sink');
    this.sink = sink;
  }

  /** Judges a solution's job id. spec: docs/node-protocol.md — dead ⇒ stale, ≥ 64 jobs older ⇒ expired. */
  lookup(jobId: string): JobLookup {
    if (!JOB_ID_RE.test(jobId)) return UNKNOWN;
    const seq = Number(jobId);
    if (seq < 1 || seq > this.lastSeq) return UNKNOWN;
    if (seq < this.tipFirstSeq) return STALE;
    const alias = this.aliases.get(seq);
    if (alias?.aliasOf !== undefined) return this.window.get(alias.aliasOf.seq) === alias.aliasOf ? { status: 'alive', job: alias } : EXPIRED;
    const job = this.window.get(seq);
    // Published on this tip but evicted from the window: the node would say "expired" (3).
    return job === undefined ? EXPIRED : { status: 'alive', job };
  }

  /**
   * Claims a solution of a live job before verification (docs/gateway.md -32006, per job across all sessions;
   * a vardiff re-issue shares the memory of the job it repeats):
   * 'duplicate' when it was verified before or is being verified now, 'job-full' when the job already remembers
   * stratum.maxSharesPerJob verified solutions. A 'fresh' claim must be ended with settleSolution().
   */
  claimSolution(job: GatewayJob, digest: SolutionDigest): SolutionClaim {
    const work = job.aliasOf ?? job;
    let memory = this.shareMemory.get(work);
    if (memory === undefined) {
      memory = new JobShareMemory(this.maxSharesPerJob);
      this.shareMemory.set(work, memory);
    }
    return memory.claim(digest);
  }

  /** Ends a claim; `powValid` solutions are remembered for as long as the job is (never forgotten earlier). */
  settleSolution(job: GatewayJob, digest: SolutionDigest, powValid: boolean): void {
    this.shareMemory.get(job.aliasOf ?? job)?.settle(digest, powValid);
  }

  // --- re-issues for vardiff (docs/gateway.md "Vardiff") ---
  /** The seq the next job or re-issue will get. */
  get nextSeq(): number {
    return this.lastSeq + 1;
  }

  /**
   * The same work as `job` under a new id, for a session whose difficulty changed (each job id has one difficulty
   * per session). Re-issues are shared: the newest one of a job is returned when its seq is above `aboveSeq`
   * (every id the asking session was already sent), else a new one is made. Not published to anyone else; alive
   * exactly as long as the job it repeats; at most MAX_REISSUES remembered.
   */
  reissue(job: GatewayJob, aboveSeq: number): GatewayJob {
    const original = job.aliasOf ?? job;
    const newest = this.newestReissue.get(original);
    if (newest !== undefined && newest.seq > aboveSeq && this.aliases.get(newest.seq) === newest) return newest;
    const seq = ++this.lastSeq;
    const alias: GatewayJob = { ...original, id: String(seq), seq, newTip: false, publishedAt: this.now(), aliasOf: original };
    this.aliases.set(seq, alias);
    this.newestReissue.set(original, alias);
    if (this.aliases.size > MAX_REISSUES) {
      const oldest = this.aliases.keys().next();
      if (oldest.done !== true) this.aliases.delete(oldest.value);
    }
    return alias;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearPending();
    this.options.upstream.off('job', this.onUpstreamJob);
    this.options.upstream.off('login', this.onUpstreamLogin);
    this.options.upstream.off('down', this.onUpstreamDown);
    this.sink = undefined;
  }

  private receive(upstreamJob: UpstreamJob): void {
    if (this.closed) return;
    if (
      !INPUT_HEX_RE.test(upstreamJob.input) ||
      !Number.isSafeInteger(upstreamJob.height) ||
      upstreamJob.height < 0 ||
      !isValidPacked(upstreamJob.difficulty)
    ) {
      this.log.error({ upstreamJobId: upstreamJob.id, height: upstreamJob.height }, 'ignoring malformed upstream job');
      return;
    }
    const isNewTip = this.sessionChanged || this.newest === undefined || this.newest.height !== upstreamJob.height;
    if (isNewTip) {
      // spec: beam-mining-protocol.txt — a new block is announced immediately; older jobs die at once.
      this.clearPending();
      this.publish(upstreamJob, true);
      return;
    }
    // Same-height tx-pool refresh: at most one per latency window, coalesced to the latest, never dropped.
    const elapsed = this.now() - this.lastPublishAt;
    if (this.pacingTimer === undefined && elapsed >= this.latencyMs) {
      this.publish(upstreamJob, false);
      return;
    }
    if (this.pendingRefresh !== undefined) {
      this.log.debug({ replaced: this.pendingRefresh.id, by: upstreamJob.id }, 'tx refresh coalesced');
    }
    this.pendingRefresh = upstreamJob;
    if (this.pacingTimer === undefined) {
      this.pacingTimer = setTimeout(() => this.flushPending(), Math.max(0, this.latencyMs - elapsed));
    }
  }

  private flushPending(): void {
    this.pacingTimer = undefined;
    const pending = this.pendingRefresh;
    this.pendingRefresh = undefined;
    if (pending !== undefined && !this.closed) this.publish(pending, false);
  }

  private clearPending(): void {
    if (this.pacingTimer !== undefined) clearTimeout(this.pacingTimer);
    this.pacingTimer = undefined;
    this.pendingRefresh = undefined;
  }

  private publish(upstreamJob: UpstreamJob, newTip: boolean): void {
    const at = this.now();
    const seq = this.lastSeq + 1;
    if (newTip) this.killAll('new-tip', seq);
    this.lastSeq = seq;
    this.sessionChanged = false;
    const input = upstreamJob.input.toLowerCase();
    const job: GatewayJob = {
      id: String(seq),
      seq,
      upstreamJobId: upstreamJob.id,
      height: upstreamJob.height,
      input,
      inputBytes: Buffer.from(input, 'hex'),
      blockTarget: upstreamJob.difficulty,
      variant: variantForHeight(this.options.chain, upstreamJob.height),
      newTip,
      publishedAt: at,
    };
    this.window.set(seq, job);
    // Bounded history: keep the newest `jobHistory` jobs of this tip (docs/node-protocol.md, the node keeps 64).
    for (const oldSeq of this.window.keys()) {
      if (this.window.size <= this.history) break;
      this.window.delete(oldSeq);
    }
    this.newest = job;
    this.lastPublishAt = at;
    this.log.debug({ jobId: job.id, upstreamJobId: job.upstreamJobId, height: job.height, newTip }, 'job published');
    try {
      this.sink?.jobPublished(job);
    } catch (err) {
      this.log.error({ err, jobId: job.id }, 'job fan-out failed');
    }
    this.options.bus?.emit('job', {
      jobId: job.id,
      upstreamJobId: job.upstreamJobId,
      height: job.height,
      packedDifficulty: job.blockTarget,
      newTip,
      at,
    });
  }

  /**
   * Every job published so far dies: lookups of them answer stale from now on. `firstLiveSeq` is the seq of the
   * job about to be published (new tip), or the next one (down / re-login: the next job is a new tip).
   */
  private killAll(reason: CancelReason, firstLiveSeq = this.lastSeq + 1): void {
    if (reason !== 'new-tip') {
      this.sessionChanged = true;
      this.clearPending();
      this.newest = undefined;
    }
    this.tipFirstSeq = firstLiveSeq;
    const alreadyCancelled = this.suspended;
    this.suspended = false;
    this.aliases.clear();
    if (this.window.size === 0) return;
    const dead = [...this.window.values()];
    this.window.clear();
    if (!alreadyCancelled) this.notifyCancel(dead, reason);
  }

  /**
   * The node link is down: miners are told to stop (cancel) and get no job until the node is back, but the jobs
   * stay judgeable. A solution already on its way is still checked, and a block among them reaches NodeLink, which
   * holds it and sends it after re-login if the node is still on that height.
   * The next upstream login or job ends them for good (killAll, without a second cancel).
   */
  private suspend(): void {
    this.sessionChanged = true;
    this.clearPending();
    this.newest = undefined;
    if (this.suspended || this.window.size === 0) return;
    this.suspended = true;
    this.notifyCancel([...this.window.values()], 'upstream-down');
  }

  private notifyCancel(dead: readonly GatewayJob[], reason: CancelReason): void {
    try {
      this.sink?.jobsCancelled(dead, reason);
    } catch (err) {
      this.log.error({ err, reason }, 'cancel fan-out failed');
    }
  }
}

const STALE: JobLookup = { status: 'stale' };
const EXPIRED: JobLookup = { status: 'expired' };
const UNKNOWN: JobLookup = { status: 'unknown' };
