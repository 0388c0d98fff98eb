// Group commit in front of a LedgerStore (docs/ledger.md "Accepted means written").
// Shares wait in a bounded queue; a flush takes what arrived within `commitDelayMs` (or `maxBatch` rows), writes it
// in one transaction, and only then resolves each share's promise, so the miner's `1 accepted` follows the commit.
// One transaction is in flight at a time; whatever arrives meanwhile forms the next group.
//
// When the store fails: the queue keeps its shares (bounded by maxBufferedShares), writes are retried with
// backoff, the state goes out on the bus ('ledger' topic), and a share still unwritten after shareWaitMs is
// answered 'unavailable' and dropped from the queue, so it can never be written after the miner was told it was
// not credited. Shares of a batch whose COMMIT failed ambiguously are not expired: they wait for the retry, which
// tells (by token) whether the first commit went through.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../config/logger.js';
import type { EventBus } from '../events/EventBus.js';
import type { BlockEvent, ShareEvent } from '../events/topics.js';
import type { Ban } from '../bans/BanList.js';
import type { BanHistory, BanRecorder, BanSource } from '../bans/BanRecorder.js';
import { LedgerError, type BanEntry, type BlockRecord, type LedgerStore, type PendingShareRow, type RecordOutcome, type RejectCount, type ShareRecord } from './types.js';

export interface BookKeeperOptions {
  readonly store: LedgerStore;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly bus?: EventBus;
  readonly commitDelayMs: number;
  readonly maxBatch: number;
  readonly maxBufferedShares: number;
  readonly shareWaitMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Roll-up of shares older than this many hours (0 = never). */
  readonly retentionHours: number;
  /** While nothing is written, the database is pinged this often so its state (and /ready) stays true (0 = never). */
  readonly probeIntervalMs?: number;
  readonly now?: () => number;
}

interface Pending {
  readonly row: PendingShareRow;
  readonly resolve: (outcome: RecordOutcome) => void;
  readonly deadline: number;
  /** In a batch whose commit may have succeeded: must be settled by a retry, never expired. */
  ambiguous: boolean;
}

export type LedgerState = 'available' | 'unavailable' | 'closed';

/** Told of every committed transaction: its duration (writeBatch call to commit) and the shares it recorded (duplicates not counted). */
export type CommitListener = (seconds: number, shares: number) => void;

const MINUTE_MS = 60_000;
const MAX_BUFFERED_BLOCKS = 10_000;
const ROLLUP_EVERY_MS = 10 * MINUTE_MS;
const ROLLUP_CHUNK = 50_000;

/** Field by field: `{ ...share, instanceId, token }` takes V8's slow path, microseconds on every accepted share. */
function pendingRow(s: ShareRecord, instanceId: string, token: string): PendingShareRow {
  return {
    miner: s.miner,
    worker: s.worker,
    sessionId: s.sessionId,
    transport: s.transport,
    jobId: s.jobId,
    upstreamJobId: s.upstreamJobId,
    height: s.height,
    nonce: s.nonce,
    outputHash: s.outputHash,
    sharePacked: s.sharePacked,
    achievedDifficulty: s.achievedDifficulty,
    isBlockCandidate: s.isBlockCandidate,
    at: s.at,
    instanceId,
    token,
  };
}

export class BookKeeper implements BanRecorder, BanHistory {
  private queue: Pending[] = [];
  private rejects = new Map<string, RejectCount>();
  private blocks: BlockRecord[] = [];
  private bans: BanEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly rollupTimer: NodeJS.Timeout | undefined;
  private readonly probeTimer: NodeJS.Timeout | undefined;
  /** When a write last committed (ms, this.now()): the probe is for idle books only. */
  private lastWriteAt: number;
  private probing = false;
  /** Transactions in flight (at most writeConcurrency). */
  private readonly writing = new Set<Promise<void>>();
  private readonly writeConcurrency: number;
  private retryDelay: number;
  private stateNow: LedgerState = 'available';
  private readonly tokenPrefix = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly commitListeners = new Set<CommitListener>();

  constructor(private readonly o: BookKeeperOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ component: 'ledger' });
    this.retryDelay = o.retryMinMs;
    // SQLite commits synchronously (one at a time anyway); PostgreSQL overlaps two transactions on two connections.
    this.writeConcurrency = o.store.kind === 'postgres' ? 2 : 1;
    this.expiryTimer = setInterval(() => this.expire(), Math.max(50, Math.floor(o.shareWaitMs / 4)));
    this.expiryTimer.unref();
    if (o.retentionHours > 0) {
      this.rollupTimer = setInterval(() => void this.rollUp(), ROLLUP_EVERY_MS);
      this.rollupTimer.unref();
    }
    this.lastWriteAt = this.now();
    const probeMs = o.probeIntervalMs ?? 0;
    if (probeMs > 0) {
      this.probeTimer = setInterval(() => void this.probe(probeMs), probeMs);
      this.probeTimer.unref();
    }
    if (o.bus !== undefined) {
      this.unsubscribe.push(o.bus.subscribe('share', 'ledger', (e) => this.countReject(e)));
      this.unsubscribe.push(o.bus.subscribe('block', 'ledger', (e) => this.noteBlock(e)));
    }
  }

  get store(): LedgerStore {
    return this.o.store;
  }

  get state(): LedgerState {
    return this.stateNow;
  }

  /** Shares waiting to be written (not counting a batch in flight). */
  get buffered(): number {
    return this.queue.length;
  }

  /** Observes commits (metrics: commit latency); returns the function that stops observing. */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  record(share: ShareRecord): Promise<RecordOutcome> {
    if (this.stateNow === 'closed' || this.queue.length >= this.o.maxBufferedShares) return Promise.resolve('unavailable');
    return new Promise<RecordOutcome>((resolve) => {
      const token = `${this.tokenPrefix}-${(this.seq++).toString(36)}`;
      this.queue.push({ row: pendingRow(share, this.o.instanceId, token), resolve, deadline: this.now() + this.o.shareWaitMs, ambiguous: false });
      this.schedule();
    });
  }

  /** Rejected shares become per-minute counts (the share path reports them on the bus). */
  private countReject(e: ShareEvent): void {
    if (e.code === 1 || this.stateNow === 'closed') return;
    const minute = Math.floor(e.at / MINUTE_MS) * MINUTE_MS;
    const key = `${minute}\u0000${e.miner}\u0000${e.worker}\u0000${e.code}`;
    const current = this.rejects.get(key);
    // Bounded: at most one entry per minute × miner × worker × code until the next flush; beyond a hard cap, counts are dropped.
    if (current === undefined && this.rejects.size >= this.o.maxBufferedShares) return;
    this.rejects.set(key, { minute, miner: e.miner, worker: e.worker, code: e.code, count: (current?.count ?? 0) + 1 });
    this.schedule();
  }

  private noteBlock(e: BlockEvent): void {
    if (this.stateNow === 'closed') return;
    if (this.blocks.length >= MAX_BUFFERED_BLOCKS) {
      this.log.error({ height: e.height, status: e.status }, 'ledger: block buffer full, block event not recorded');
      return;
    }
    this.blocks.push({
      upstreamJobId: e.upstreamJobId,
      nonce: e.nonce,
      height: e.height,
      miner: e.miner,
      worker: e.worker,
      instanceId: this.o.instanceId,
      status: e.status,
      blockHash: e.blockHash,
      nodeCode: e.nodeCode,
      at: e.at,
    });
    this.schedule();
  }

  /** A ban put in force (by the abuse guard or an operator): written with its reason in the next transaction. */
  banned(ban: Ban, source: BanSource): void {
    this.noteBan({ action: 'ban', key: ban.key, reason: ban.reason, source, instanceId: this.o.instanceId, at: ban.bannedAt, until: ban.until });
  }

  /** An operator lifted the ban under `key`. */
  lifted(key: string, source: BanSource, at: number): void {
    this.noteBan({ action: 'unban', key, reason: '', source, instanceId: this.o.instanceId, at, until: null });
  }

  /** This gateway's bans still in force, read straight from the store (the restart's restore; docs/decisions.md D36). */
  async bansInForce(limit: number): Promise<Ban[]> {
    const entries = await this.o.store.bansInForce(this.o.instanceId, this.now(), limit);
    return entries.flatMap((e) => (e.until === null ? [] : [{ key: e.key, reason: e.reason, bannedAt: e.at, until: e.until }]));
  }

  private noteBan(entry: BanEntry): void {
    if (this.stateNow === 'closed') return;
    if (this.bans.length >= MAX_BUFFERED_BLOCKS) {
      this.log.error({ key: entry.key, action: entry.action }, 'ledger: ban buffer full, ban not recorded');
      return;
    }
    this.bans.push(entry);
    this.schedule();
  }

  private schedule(): void {
    if (this.retryTimer !== undefined) return; // the retry restarts writing
    if (this.writing.size >= this.writeConcurrency) return; // a finishing write reschedules
    if (this.queue.length >= this.o.maxBatch) {
      this.clearFlushTimer();
      this.startWrite();
      return;
    }
    if (this.writing.size > 0) return; // under load the group forms while a write is in flight
    if (this.flushTimer !== undefined) return;
    const fire = (): void => {
      this.flushTimer = undefined;
      this.startWrite();
    };
    // 0: the next event-loop turn (everything read from sockets in this turn joins the group).
    this.flushTimer = this.o.commitDelayMs === 0 ? (setImmediate(fire) as unknown as NodeJS.Timeout) : setTimeout(fire, this.o.commitDelayMs);
  }

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      clearImmediate(this.flushTimer as unknown as NodeJS.Immediate);
    }
    this.flushTimer = undefined;
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || this.rejects.size > 0 || this.blocks.length > 0 || this.bans.length > 0;
  }

  private startWrite(): void {
    if (this.writing.size >= this.writeConcurrency || !this.hasWork()) return;
    const write: Promise<void> = this.writeOnce().finally(() => {
      this.writing.delete(write);
      // The next group starts from the event loop, not a microtask: SQLite commits synchronously, and a chain of
      // write → resolve → record → write would otherwise never let sockets or timers run.
      if (this.retryTimer === undefined && this.hasWork()) setImmediate(() => this.startWrite());
    });
    this.writing.add(write);
  }

  private async writeOnce(): Promise<void> {
    const batch = this.queue.splice(0, this.o.maxBatch);
    const rejects = [...this.rejects.values()];
    this.rejects = new Map();
    const blocks = this.blocks;
    this.blocks = [];
    const bans = this.bans;
    this.bans = [];
    try {
      const started = performance.now();
      const held = await this.o.store.writeBatch({ shares: batch.map((p) => p.row), rejects, blocks, bans });
      const seconds = (performance.now() - started) / 1000;
      for (const listener of this.commitListeners) {
        try {
          listener(seconds, held.filter((h) => h).length);
        } catch (err) {
          this.log.warn({ err }, 'ledger: commit listener failed');
        }
      }
      batch.forEach((p, i) => p.resolve(held[i] === true ? 'recorded' : 'duplicate'));
      this.lastWriteAt = this.now();
      this.setState('available');
      this.retryDelay = this.o.retryMinMs;
    } catch (err) {
      const ambiguous = err instanceof LedgerError && err.ambiguous;
      for (const p of batch) p.ambiguous ||= ambiguous;
      // Back to the front, in order: nothing of this batch is lost or reordered.
      this.queue = [...batch, ...this.queue];
      for (const r of rejects) this.mergeReject(r);
      this.blocks = [...blocks, ...this.blocks];
      this.bans = [...bans, ...this.bans];
      this.setState('unavailable', err);
      this.expire();
      const delay = this.retryDelay;
      this.retryDelay = Math.min(this.o.retryMaxMs, this.retryDelay * 2);
      if (this.stateNow !== 'closed' && this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.startWrite();
        }, delay);
      }
    }
  }

  /**
   * The idle probe: with nothing written for a probe interval and nothing waiting, one ping (which takes the write
   * path as far as it can without writing: LedgerStore.ping) tells whether the books could take a write, so an idle
   * gateway whose database went away says so (bus `ledger`, /ready) before a miner's share finds out, and says so
   * again when it is back. Never while writes run or retry: they report the state themselves.
   */
  private async probe(intervalMs: number): Promise<void> {
    if (this.probing || this.stateNow === 'closed' || this.writesPending()) return;
    if (this.now() - this.lastWriteAt < intervalMs) return;
    this.probing = true;
    const writesBefore = this.lastWriteAt;
    // A write that started or ended meanwhile knows better than this ping: its outcome stands.
    const overtaken = (): boolean => this.lastWriteAt !== writesBefore || this.writesPending();
    try {
      await this.o.store.ping();
      if (!overtaken()) this.setState('available');
    } catch (err) {
      if (!overtaken()) this.setState('unavailable', err);
    } finally {
      this.probing = false;
    }
  }

  /** A write runs, waits for its retry, or has something to write: it reports the books' state itself. */
  private writesPending(): boolean {
    return this.writing.size > 0 || this.retryTimer !== undefined || this.hasWork();
  }

  private mergeReject(r: RejectCount): void {
    const key = `${r.minute}\u0000${r.miner}\u0000${r.worker}\u0000${r.code}`;
    const current = this.rejects.get(key);
    this.rejects.set(key, { ...r, count: r.count + (current?.count ?? 0) });
  }

  /** Answers 'unavailable' to shares that waited too long (never to ones that may already be committed). */
  private expire(): void {
    if (this.queue.length === 0) return;
    const now = this.now();
    if (this.queue.every((p) => p.ambiguous || p.deadline > now)) return;
    const kept: Pending[] = [];
    let expired = 0;
    for (const p of this.queue) {
      if (!p.ambiguous && p.deadline <= now) {
        p.resolve('unavailable');
        expired++;
      } else {
        kept.push(p);
      }
    }
    this.queue = kept;
    if (expired > 0) this.log.warn({ expired, buffered: kept.length }, 'ledger: shares not credited (ledger unavailable)');
  }

  private setState(state: LedgerState, err?: unknown): void {
    if (state === this.stateNow || this.stateNow === 'closed') return;
    this.stateNow = state;
    const detail = err === undefined ? undefined : err instanceof Error ? err.message : String(err);
    if (state === 'unavailable') this.log.error({ err, buffered: this.queue.length }, 'ledger unavailable: shares are buffered, then answered as not credited');
    else this.log.warn('ledger available again');
    this.o.bus?.emit('ledger', { state, backend: this.o.store.kind, buffered: this.queue.length, detail, at: this.now() });
  }

  /** Writes everything queued now (retrying until `deadlineMs`), e.g. before shutdown. */
  async flush(deadlineMs = 5000): Promise<void> {
    const until = this.now() + deadlineMs;
    while (this.hasWork() || this.writing.size > 0) {
      if (this.now() > until) break;
      if (this.writing.size > 0) {
        await Promise.allSettled([...this.writing]);
        continue;
      }
      if (this.retryTimer !== undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      this.clearFlushTimer();
      this.startWrite();
    }
  }

  async rollUp(): Promise<number> {
    if (this.o.retentionHours <= 0 || this.stateNow === 'closed') return 0;
    const before = this.now() - this.o.retentionHours * 3_600_000;
    let moved = 0;
    try {
      for (;;) {
        const n = await this.o.store.rollUp(before, ROLLUP_CHUNK);
        moved += n;
        if (n < ROLLUP_CHUNK) break;
      }
      if (moved > 0) this.log.info({ moved }, 'ledger: old shares rolled up into hourly aggregates');
    } catch (err) {
      this.log.warn({ err }, 'ledger: roll-up failed, retried at the next interval');
    }
    return moved;
  }

  /** Flushes (bounded), answers anything still queued 'unavailable', and closes the store. */
  async close(deadlineMs = 5000): Promise<void> {
    if (this.stateNow === 'closed') return;
    await this.flush(deadlineMs);
    for (const off of this.unsubscribe) off();
    this.clearFlushTimer();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearInterval(this.expiryTimer);
    if (this.rollupTimer !== undefined) clearInterval(this.rollupTimer);
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    // A write still running when the deadline passed ends before the store closes; what a failed one puts back on
    // the queue is answered below, so no share waits for an answer that never comes.
    await Promise.allSettled([...this.writing]);
    this.clearFlushTimer();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const left = this.queue;
    this.queue = [];
    // A share whose write had an unknown outcome may yet be in the books (a late SQLite answer, a cut-off COMMIT):
    // it is never told 'unavailable', which promises it was not credited.
    const unconfirmed = left.filter((p) => p.ambiguous);
    for (const p of left) p.resolve(p.ambiguous ? 'unconfirmed' : 'unavailable');
    if (unconfirmed.length > 0) {
      this.log.error(
        { shares: unconfirmed.length, keys: unconfirmed.slice(0, 20).map((p) => `${p.row.upstreamJobId}/${p.row.nonce}/${p.row.outputHash}`) },
        'ledger closed with shares whose write had an unknown outcome: they may be in the books; answered unconfirmed',
      );
    }
    if (left.length > unconfirmed.length || this.blocks.length > 0 || this.bans.length > 0) {
      this.log.error({ shares: left.length - unconfirmed.length, blocks: this.blocks.length, bans: this.bans.length }, 'ledger closed with unwritten records');
    }
    this.stateNow = 'closed';
    await this.o.store.close();
  }
}
