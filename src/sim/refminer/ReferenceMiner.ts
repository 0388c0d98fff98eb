// Reference miner: N stratum connections in one process, for tests, benchmarks and the demo.
// Honours `nonceprefix` (login result and each job), `cancel`, and the job's packed difficulty as the share
// target (docs/node-protocol.md, docs/gateway.md, docs/pow.md). Devnet jobs are solved for real on a shared worker pool; real-chain jobs are
// answered only from known solutions (--replay).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { encodeMessage, parseMessage, ProtocolError, type JobMessage, type ResultMessage } from '../../protocol/messages.js';
import { ResultCode } from '../../protocol/resultCodes.js';
import { meetsTarget } from '../../pow/difficulty.js';
import { NativeVariant } from '../../pow/nativeLayout.js';
import { variantForHeight, type ChainName } from '../../pow/variants.js';
import { silentLogger, type Logger } from '../../config/logger.js';
import { connectLink, parseMinerUrl, type MinerEndpoint, type MinerLink } from './minerLink.js';
import { SolverPool, SolverError, type FoundSolution } from './SolverPool.js';

export class MinerConfigError extends Error {
  readonly code = 'MINER_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'MinerConfigError';
  }
}

/** A known solution (vectors shape: input, nonce, output). */
export interface ReplayEntry {
  readonly input: string;
  readonly nonce: string;
  readonly output: string;
}

export interface MinerOptions {
  /** stratum+tcp://H:P, stratum+ssl://H:P, ws://H:P or wss://H:P. */
  url: string;
  key: string;
  /** Connections (default 1). */
  miners?: number;
  /** Most solutions submitted per second per connection (0 / undefined = no cap). */
  rate?: number;
  /**
   * Ignore `nonceprefix` and pick every nonce at random over all 64 bits, as miners that do not implement prefixes
   * do (Beam's own miner_client is one); such miners need a port with noncePrefixDigits 0 (docs/gateway.md).
   */
  ignoreNoncePrefix?: boolean;
  /** Most nonces tried per second per connection, i.e. a simulated hashrate (0 / undefined = as fast as the solver). */
  noncesPerSecond?: number;
  /** Chain rules deciding the variant of a job by height (default devnet: solved for real). */
  chain?: ChainName;
  replay?: readonly ReplayEntry[];
  /** Solver worker threads shared by all connections (default 1). */
  workers?: number;
  /** Verify the server certificate on stratum+ssl / wss (default false). */
  tlsVerify?: boolean;
  connectTimeoutMs?: number;
  loginTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Periodic stats log line (0 = none; default 10000). */
  statsIntervalMs?: number;
  logger?: Logger;
}

export interface MinerStats {
  connected: number;
  logins: number;
  loginFailures: number;
  reconnects: number;
  jobs: number;
  cancels: number;
  /** Nonces tried with the solver. */
  nonces: number;
  solutionsFound: number;
  /** Solutions found that missed the job's target (not submitted). */
  belowTarget: number;
  submitted: number;
  /** Answers to `solution`, keyed by result code. */
  results: Record<string, number>;
  accepted: number;
  /** Answers other than 1 (miners treat them all as rejects, docs/gateway.md "Miner clients"). */
  rejected: number;
  /** Submissions lost to a disconnect before their answer. */
  unanswered: number;
  /** Block hashes returned with accepted answers (newest 100). */
  blockHashes: string[];
}

export interface MinerGroupStats extends MinerStats {
  readonly perMiner: readonly MinerStats[];
}

export interface MinerGroup {
  stats(): MinerGroupStats;
  stop(): Promise<void>;
}

const HEX16_RE = /^[0-9a-fA-F]{0,14}$/;
const MAX_PENDING = 1024;
const MAX_BLOCK_HASHES = 100;

function emptyStats(): MinerStats {
  return {
    connected: 0, logins: 0, loginFailures: 0, reconnects: 0, jobs: 0, cancels: 0, nonces: 0, solutionsFound: 0,
    belowTarget: 0, submitted: 0, results: {}, accepted: 0, rejected: 0, unanswered: 0, blockHashes: [],
  };
}

interface Settings {
  readonly endpoint: MinerEndpoint;
  readonly key: string;
  readonly rate: number;
  readonly ignoreNoncePrefix: boolean;
  readonly noncesPerSecond: number;
  readonly chain: ChainName;
  readonly replay: ReadonlyMap<string, readonly ReplayEntry[]>;
  readonly tlsVerify: boolean;
  readonly connectTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

interface CurrentJob {
  readonly id: string;
  readonly input: string;
  readonly difficulty: number;
  readonly height: number;
  readonly prefix: string;
}

type Solver = Pick<SolverPool, 'solve'>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One miner connection: login, follow jobs, solve or replay, submit, count answers, reconnect. */
class MinerConnection {
  readonly stats = emptyStats();
  private link: MinerLink | undefined;
  private loginPrefix = '';
  private loggedIn = false;
  private job: CurrentJob | undefined;
  private looping = false;
  private stopped = false;
  /** Submitted solutions awaiting an answer, oldest first (answers carry the job id, in order). */
  private pending: string[] = [];
  private counter = randomBytes(8).readBigUInt64BE();
  private tokens: number;
  private lastRefill = Date.now();
  /** When the next nonce may be tried (noncesPerSecond). */
  private nextNonceAt = 0;
  private backoffMs: number;
  private loginTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly index: number,
    private readonly s: Settings,
    private readonly pool: Solver,
    private readonly log: Logger,
  ) {
    this.tokens = Math.max(1, s.rate);
    this.backoffMs = s.reconnectMinMs;
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.loginTimer);
    clearTimeout(this.reconnectTimer);
    this.wake?.();
    this.link?.close();
    this.link = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      const link = await connectLink(
        this.s.endpoint,
        { tlsVerify: this.s.tlsVerify, connectTimeoutMs: this.s.connectTimeoutMs, maxLineBytes: 65536 },
        { onLine: (line) => this.onLine(line), onClose: (detail) => this.onClose(detail) },
      );
      if (this.stopped) return link.close();
      this.link = link;
      this.stats.connected = 1;
      link.send(encodeMessage({ method: 'login', id: 'login', api_key: this.s.key }));
      this.loginTimer = setTimeout(() => {
        this.log.warn({ miner: this.index }, 'no login answer; reconnecting');
        link.close();
      }, this.s.loginTimeoutMs);
    } catch (err) {
      this.log.debug({ miner: this.index, err: err instanceof Error ? err.message : String(err) }, 'connect failed');
      this.scheduleReconnect();
    }
  }

  private onClose(detail: string): void {
    clearTimeout(this.loginTimer);
    this.link = undefined;
    this.loggedIn = false;
    this.job = undefined;
    this.stats.connected = 0;
    this.stats.unanswered += this.pending.length;
    this.pending = [];
    this.wake?.();
    if (this.stopped) return;
    this.log.debug({ miner: this.index, detail }, 'disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.s.reconnectMaxMs, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.stats.reconnects++;
      void this.connect();
    }, delay);
  }

  private onLine(line: string): void {
    let msg;
    try {
      msg = parseMessage(line);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.log.warn({ miner: this.index, err: err.message }, 'unreadable message from server');
      return;
    }
    switch (msg.method) {
      case 'result':
        return this.onResult(msg);
      case 'job':
        return this.onJob(msg);
      case 'cancel':
        if (this.job?.id === msg.id) this.job = undefined;
        this.stats.cancels++;
        return;
      default:
        return;
    }
  }

  private onResult(msg: ResultMessage): void {
    if (msg.id === 'login' && !this.loggedIn) {
      clearTimeout(this.loginTimer);
      if (msg.code !== ResultCode.LoginOk) {
        this.stats.loginFailures++;
        this.log.warn({ miner: this.index, code: msg.code }, 'login refused');
        return;
      }
      this.loggedIn = true;
      this.stats.logins++;
      this.backoffMs = this.s.reconnectMinMs;
      this.loginPrefix = msg.nonceprefix ?? '';
      return;
    }
    const at = this.pending.indexOf(msg.id);
    if (at !== -1) this.pending.splice(at, 1);
    const r = this.stats.results;
    r[String(msg.code)] = (r[String(msg.code)] ?? 0) + 1;
    if (msg.code === ResultCode.Accepted) this.stats.accepted++;
    else this.stats.rejected++;
    if (msg.blockhash !== undefined) {
      this.stats.blockHashes.push(msg.blockhash);
      if (this.stats.blockHashes.length > MAX_BLOCK_HASHES) this.stats.blockHashes.shift();
    }
  }

  private onJob(msg: JobMessage): void {
    // NiceHash style: a prefix in the job replaces the login one (docs/gateway.md).
    const prefix = msg.nonceprefix ?? this.loginPrefix;
    if (!HEX16_RE.test(prefix)) {
      this.log.warn({ miner: this.index, prefix }, 'unusable nonce prefix; job ignored');
      this.job = undefined;
      return;
    }
    this.stats.jobs++;
    this.job = { id: msg.id, input: msg.input.toLowerCase(), difficulty: msg.difficulty, height: msg.height, prefix };
    this.wake?.();
    void this.mine();
  }

  /** Nonce = prefix (as given) + counter digits, 16 hex digits in all; or 64 random bits when ignoring prefixes. */
  private nextNonce(prefix: string): string {
    if (this.s.ignoreNoncePrefix) return randomBytes(8).toString('hex');
    const digits = 16 - prefix.length;
    const mod = 1n << BigInt(4 * digits);
    this.counter = (this.counter + 1n) % mod;
    return prefix + this.counter.toString(16).padStart(digits, '0');
  }

  private async mine(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      while (!this.stopped && this.job && this.link) {
        const job = this.job;
        const variant = this.s.chain === 'devnet' ? NativeVariant.Devnet : variantForHeight(this.s.chain, job.height).nativeId;
        const known = this.s.replay.get(job.input);
        if (known) {
          await this.replay(job, known);
          if (this.job === job) this.job = undefined;
          continue;
        }
        if (variant !== NativeVariant.Devnet) {
          // Real chains cannot be solved here; wait for the next job.
          this.job = undefined;
          continue;
        }
        if (this.s.noncesPerSecond > 0) {
          const now = Date.now();
          this.nextNonceAt = Math.max(this.nextNonceAt + 1000 / this.s.noncesPerSecond, now - 1000);
          if (this.nextNonceAt > now) await this.pause(this.nextNonceAt - now);
          if (this.job !== job || !this.link || this.stopped) continue;
        }
        const nonce = this.nextNonce(job.prefix);
        let found: FoundSolution[];
        try {
          found = await this.pool.solve(variant, job.input, nonce);
        } catch (err) {
          if (err instanceof SolverError && err.code === 'CLOSED') return;
          this.log.warn({ miner: this.index, err: err instanceof Error ? err.message : String(err) }, 'solver failed');
          await sleep(500);
          continue;
        }
        this.stats.nonces++;
        for (const sol of found) {
          this.stats.solutionsFound++;
          if (this.job !== job) break;
          if (!meetsTarget(Buffer.from(sol.hash, 'hex'), job.difficulty)) {
            this.stats.belowTarget++;
            continue;
          }
          await this.takeToken();
          if (this.job !== job || !this.link) break;
          this.submit(job, nonce, sol.output);
        }
      }
    } finally {
      this.looping = false;
    }
  }

  private async replay(job: CurrentJob, known: readonly ReplayEntry[]): Promise<void> {
    for (const e of known) {
      if (this.job !== job || !this.link) return;
      if (!e.nonce.startsWith(job.prefix)) {
        this.log.warn({ miner: this.index, prefix: job.prefix }, 'known solution does not carry the nonce prefix; skipped');
        continue;
      }
      const hash = createHash('sha256').update(Buffer.from(e.output, 'hex')).digest();
      if (!meetsTarget(hash, job.difficulty)) {
        this.stats.belowTarget++;
        continue;
      }
      this.stats.solutionsFound++;
      await this.takeToken();
      if (this.job === job && this.link) this.submit(job, e.nonce, e.output);
    }
  }

  private submit(job: CurrentJob, nonce: string, output: string): void {
    this.link?.send(encodeMessage({ method: 'solution', id: job.id, nonce, output }));
    this.stats.submitted++;
    this.pending.push(job.id);
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.stats.unanswered++;
    }
  }

  /** Waits `ms`, woken early by a new job, disconnect or stop. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Token bucket: at most `rate` submissions per second (burst of max(1, rate)); no cap when rate is 0. */
  private async takeToken(): Promise<void> {
    const rate = this.s.rate;
    if (rate <= 0) return;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.lastRefill) / 1000) * rate);
      this.lastRefill = now;
      if (this.tokens >= 1 || this.stopped || !this.link) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) / rate) * 1000);
      // Woken early by a new job, disconnect or stop; the caller re-checks the job.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

function indexReplay(entries: readonly ReplayEntry[]): Map<string, ReplayEntry[]> {
  const map = new Map<string, ReplayEntry[]>();
  for (const e of entries) {
    const input = e.input.toLowerCase();
    map.set(input, [...(map.get(input) ?? []), e]);
  }
  return map;
}

/** Entries with input/nonce/output from a JSON array or a vectors file ({valid:[…]}). */
export function loadReplayFile(file: string): ReplayEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MinerConfigError(`cannot read replay file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list: unknown = Array.isArray(json) ? json : typeof json === 'object' && json !== null ? (json as { valid?: unknown }).valid : undefined;
  if (!Array.isArray(list)) throw new MinerConfigError(`replay file ${file}: expected an array or {"valid": [...]}`);
  const ok = (v: unknown, len?: number): v is string => typeof v === 'string' && /^(?:[0-9a-fA-F]{2})+$/.test(v) && (len === undefined || v.length === len);
  return list.flatMap((e: unknown): ReplayEntry[] => {
    if (typeof e !== 'object' || e === null) return [];
    const r = e as Record<string, unknown>;
    return ok(r.input, 64) && ok(r.nonce, 16) && ok(r.output) ? [{ input: r.input, nonce: r.nonce, output: r.output }] : [];
  });
}

function sumStats(all: readonly MinerStats[]): MinerStats {
  const total = emptyStats();
  for (const s of all) {
    for (const k of ['connected', 'logins', 'loginFailures', 'reconnects', 'jobs', 'cancels', 'nonces', 'solutionsFound', 'belowTarget', 'submitted', 'accepted', 'rejected', 'unanswered'] as const) {
      total[k] += s[k];
    }
    for (const [code, n] of Object.entries(s.results)) total.results[code] = (total.results[code] ?? 0) + n;
    total.blockHashes.push(...s.blockHashes);
  }
  return total;
}

function copyStats(s: MinerStats): MinerStats {
  return { ...s, results: { ...s.results }, blockHashes: [...s.blockHashes] };
}

/** Starts `miners` connections sharing one solver pool. */
export function startMiners(options: MinerOptions): MinerGroup {
  const endpoint = parseMinerUrl(options.url);
  const count = options.miners ?? 1;
  const rate = options.rate ?? 0;
  if (!Number.isInteger(count) || count < 1 || count > 10000) throw new MinerConfigError('miners must be an integer in 1..10000');
  if (!Number.isFinite(rate) || rate < 0) throw new MinerConfigError('rate must be a finite number >= 0');
  const log = options.logger ?? silentLogger();
  const settings: Settings = {
    endpoint,
    key: options.key,
    rate,
    ignoreNoncePrefix: options.ignoreNoncePrefix ?? false,
    noncesPerSecond: options.noncesPerSecond ?? 0,
    chain: options.chain ?? 'devnet',
    replay: indexReplay(options.replay ?? []),
    tlsVerify: options.tlsVerify ?? false,
    connectTimeoutMs: options.connectTimeoutMs ?? 10000,
    loginTimeoutMs: options.loginTimeoutMs ?? 10000,
    reconnectMinMs: options.reconnectMinMs ?? 500,
    reconnectMaxMs: options.reconnectMaxMs ?? 10000,
  };
  // Solving only happens on devnet; real chains replay, so no threads are started for them.
  const pool = settings.chain === 'devnet' ? new SolverPool(options.workers ?? 1) : undefined;
  const conns = Array.from({ length: count }, (_, i) => new MinerConnection(i, settings, pool ?? NO_SOLVER, log));
  for (const c of conns) c.start();
  const stats = (): MinerGroupStats => {
    const perMiner = conns.map((c) => copyStats(c.stats));
    return { ...sumStats(perMiner), perMiner };
  };
  const statsInterval = options.statsIntervalMs ?? 10000;
  const ticker =
    statsInterval > 0
      ? setInterval(() => {
          const s = stats();
          log.info({ connected: s.connected, submitted: s.submitted, results: s.results, blocks: s.blockHashes.length }, 'miner stats');
        }, statsInterval)
      : undefined;
  ticker?.unref();
  let stopping: Promise<void> | undefined;
  return {
    stats,
    stop: () => {
      stopping ??= (async () => {
        clearInterval(ticker);
        await Promise.all(conns.map((c) => c.stop()));
        await pool?.close();
      })();
      return stopping;
    },
  };
}

/** Stand-in for real chains: never asked to solve (mine() only solves devnet jobs). */
const NO_SOLVER: Solver = { solve: () => Promise.reject(new SolverError('CLOSED', 'no solver on this chain')) };
