// SimNode: a stand-in for a Beam/Hds node's stratum server, for integration tests, benchmarks and the demo.
// It reproduces the node's real behaviour (docs/node-protocol.md), not the wiki's: it is deliberately brutal with bad input.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { encodeMessage, parseMessage, resultMessage, ProtocolError, type SolutionMessage, type StratumMessage } from '../protocol/messages.js';
import { LineSplitter, LineTooLongError } from '../protocol/LineSplitter.js';
import { ResultCode } from '../protocol/resultCodes.js';
import { difficultyToPacked, meetsTarget } from '../pow/difficulty.js';
import { forkHeights, variantForHeight, VARIANTS, type ChainName, type PowVariant } from '../pow/variants.js';
import { silentLogger, type Logger } from '../config/logger.js';
import { ApiKeys } from '../stratum/ApiKeys.js';
import { selfSignedPair } from '../transports/certificates.js';
import { checkSimNodeValues, type ScriptedJob } from './simNodeConfig.js';

/** docs/node-protocol.md: a solution for a job ≥ 64 jobs older than the newest is answered `3 "expired"`. */
export const EXPIRY_WINDOW = 64;
/** Bytes queued to a connection that does not read before it is dropped. */
const MAX_SEND_QUEUE_BYTES = 1 << 20;
/** Blocks remembered in stats (oldest dropped first). */
const MAX_BLOCKS_KEPT = 1000;
const NONCE_RE = /^[0-9a-fA-F]{16}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const DECIMAL_RE = /^[1-9][0-9]{0,15}$/;

/** Checks the PoW itself (no target); injectable so the addon stays optional for non-PoW tests. */
export type PowCheck = (variant: PowVariant, input: Buffer, nonce: Buffer, output: Buffer) => boolean;

export interface SimNodeOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** TLS with a self-signed certificate unless files are given (node default); false = plain TCP. */
  tls?: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** '' or a missing file = any api key (docs/node-protocol.md). */
  apiKeysFile?: string;
  /** 0–6 hex digits given at login; '' (default) = none. */
  noncePrefix?: string;
  chain?: ChainName;
  startHeight?: number;
  /** Block difficulty as a float (default 1: every valid solution is a block). */
  difficulty?: number;
  /** A new tip every this many ms; 0 (default) = only via newTip() or an accepted block. */
  blockIntervalMs?: number;
  /** miner_job_latency (default 1000). */
  minerJobLatencyMs?: number;
  /** Simulated fee rises every this many ms; 0 (default) = only via txUpdate(). */
  txIntervalMs?: number;
  /** Jobs served in order, one per tip; generated jobs follow once the script is used up. */
  script?: readonly ScriptedJob[];
  maxLineBytes?: number;
  loginTimeoutMs?: number;
  maxConnections?: number;
  /** Default: the native addon's verifyOne. */
  powCheck?: PowCheck;
  logger?: Logger;
}

export interface SimJob {
  /** Decimal job id from the node's counter (restarts at 1 with the node). */
  readonly id: string;
  readonly seq: number;
  readonly input: string;
  readonly difficulty: number;
  readonly height: number;
  /** true when this job opened a new tip, false for a tx-pool refresh. */
  readonly newTip: boolean;
  readonly fees: number;
}

export interface SimBlock {
  readonly height: number;
  readonly hash: string;
  readonly jobId: string;
  readonly nonce: string;
  readonly at: number;
}

export type SimRejectReason = 'bad-pow' | 'below-target' | 'stale-tip' | 'already-solved' | 'prefix-mismatch' | 'unknown-job';

export type SimDropReason =
  | 'bad-json'
  | 'malformed'
  | 'unknown-method'
  | 'blank-line'
  | 'line-too-long'
  | 'login-failed'
  | 'prefix-mismatch'
  | 'not-logged-in'
  | 'login-timeout'
  | 'send-queue-full'
  | 'too-many-connections'
  | 'kicked'
  | 'shutdown';

export interface SimSolutionOutcome {
  readonly connectionId: number;
  readonly jobId: string;
  readonly nonce: string;
  readonly code: number;
  readonly reason: SimRejectReason | 'accepted' | 'expired';
  readonly blockhash?: string;
}

export interface SimNodeStats {
  readonly connections: number;
  readonly loggedIn: number;
  readonly logins: number;
  readonly loginFailures: number;
  readonly height: number;
  readonly currentJobId: string;
  /** Jobs created (tips + tx refreshes). */
  readonly jobsCreated: number;
  /** `job` messages written, over all connections. */
  readonly jobsSent: number;
  readonly blocks: readonly SimBlock[];
  /** Answers to `solution`, keyed by result code ("1", "2", "3"). */
  readonly solutionsByCode: Readonly<Record<string, number>>;
  readonly rejectReasons: Readonly<Partial<Record<SimRejectReason, number>>>;
  readonly drops: Readonly<Partial<Record<SimDropReason, number>>>;
}

export interface SimNodeEvents {
  job: [SimJob];
  block: [SimBlock];
  solution: [SimSolutionOutcome];
  login: [{ connectionId: number; ok: boolean }];
  drop: [{ connectionId: number; reason: SimDropReason }];
}

interface Tip {
  readonly height: number;
  readonly difficulty: number;
  readonly scripted?: ScriptedJob;
  solved: boolean;
  /** Fees in the simulated pool now, and in the newest job of this tip. */
  poolFees: number;
  jobFees: number;
}

interface StoredJob extends SimJob {
  readonly tip: Tip;
}

interface Conn {
  readonly id: number;
  readonly socket: net.Socket;
  readonly lines: LineSplitter;
  loggedIn: boolean;
  closed: boolean;
  loginTimer: NodeJS.Timeout | undefined;
}

/** Mutable counters behind SimNodeStats. */
interface Counters {
  logins: number;
  loginFailures: number;
  jobsCreated: number;
  jobsSent: number;
  solutionsByCode: Record<string, number>;
  rejectReasons: Partial<Record<SimRejectReason, number>>;
  drops: Partial<Record<SimDropReason, number>>;
}

function bump<K extends string>(map: Partial<Record<K, number>>, key: K): void {
  map[key] = (map[key] ?? 0) + 1;
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

async function defaultPowCheck(): Promise<PowCheck> {
  // Loaded only when no check is injected, so SimNode runs without the addon when tests inject one.
  const { native } = await import('../pow/native.js');
  return (variant, input, nonce, output) => native.verifyOne(variant.nativeId, input, nonce, output).code === 0;
}

export class SimNode extends EventEmitter<SimNodeEvents> {
  private readonly conns = new Map<number, Conn>();
  /** Sockets flushing a last message before they close. */
  private readonly closing = new Set<net.Socket>();
  /** Jobs within the expiry window, by id. */
  private readonly jobs = new Map<string, StoredJob>();
  private readonly blocks: SimBlock[] = [];
  private readonly counters: Counters = { logins: 0, loginFailures: 0, jobsCreated: 0, jobsSent: 0, solutionsByCode: {}, rejectReasons: {}, drops: {} };
  /** Undefined without a keys file: any key logs in. */
  private readonly apiKeys: ApiKeys | undefined;
  private readonly script: ScriptedJob[];
  private readonly difficulty: number;
  private readonly log: Logger;
  private nextConnId = 1;
  private jobSeq = 0;
  private tip: Tip | undefined;
  private newest: StoredJob | undefined;
  private blockTimer: NodeJS.Timeout | undefined;
  private txTimer: NodeJS.Timeout | undefined;
  private txSimTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private boundPort = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly opts: Required<Omit<SimNodeOptions, 'script' | 'powCheck' | 'logger' | 'tlsCertFile' | 'tlsKeyFile'>>,
    private readonly powCheck: PowCheck,
    script: readonly ScriptedJob[],
    logger: Logger,
  ) {
    super();
    // The production keys reader with the node's rules: re-read at every login, a missing file means no check.
    this.apiKeys =
      opts.apiKeysFile === '' ? undefined : new ApiKeys({ file: opts.apiKeysFile, logger, missingFileAllowsAll: true, pollIntervalMs: 60_000 });
    this.script = [...script];
    this.difficulty = difficultyToPacked(opts.difficulty);
    this.log = logger;
  }

  /** Starts listening and opens the first tip. */
  static async start(options: SimNodeOptions = {}): Promise<SimNode> {
    checkSimNodeValues(options);
    const opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tls: options.tls ?? true,
      apiKeysFile: options.apiKeysFile ?? '',
      noncePrefix: options.noncePrefix ?? '',
      chain: options.chain ?? 'devnet',
      startHeight: options.startHeight ?? 1,
      difficulty: options.difficulty ?? 1,
      blockIntervalMs: options.blockIntervalMs ?? 0,
      minerJobLatencyMs: options.minerJobLatencyMs ?? 1000,
      txIntervalMs: options.txIntervalMs ?? 0,
      maxLineBytes: options.maxLineBytes ?? 65536,
      loginTimeoutMs: options.loginTimeoutMs ?? 30000,
      maxConnections: options.maxConnections ?? 1024,
    };
    const powCheck = options.powCheck ?? (await defaultPowCheck());
    let server: net.Server;
    if (opts.tls) {
      let key: string;
      let cert: string;
      if (options.tlsCertFile && options.tlsKeyFile) {
        key = fs.readFileSync(options.tlsKeyFile, 'utf8');
        cert = fs.readFileSync(options.tlsCertFile, 'utf8');
      } else {
        // The node serves its own stratum.crt; ours is made at start, like a fresh node's.
        ({ key, cert } = await selfSignedPair('equigate-simnode'));
      }
      server = tls.createServer({ key, cert });
    } else {
      server = net.createServer();
    }
    const node = new SimNode(server, opts, powCheck, options.script ?? [], options.logger ?? silentLogger());
    server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => node.accept(socket));
    server.on('tlsClientError', (err: Error) => node.log.debug({ err: err.message }, 'tls handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    node.boundPort = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
    node.openTip();
    if (opts.txIntervalMs > 0) {
      node.txSimTimer = setInterval(() => node.txUpdate((node.tip?.poolFees ?? 0) + 1 + Math.floor(Math.random() * 100)), opts.txIntervalMs);
    }
    node.log.info({ host: opts.host, port: node.boundPort, tls: opts.tls, chain: opts.chain, prefix: opts.noncePrefix }, 'sim node listening');
    return node;
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.opts.host;
  }

  get tls(): boolean {
    return this.opts.tls;
  }

  /** The newest job (what a connection logging in now receives). */
  get currentJob(): SimJob {
    if (!this.newest) throw new Error('sim node has no job yet');
    return this.publicJob(this.newest);
  }

  /** Someone else found a block: all older jobs die and a new job follows at once (docs/node-protocol.md). */
  newTip(): SimJob {
    return this.openTip();
  }

  /**
   * The simulated tx pool now holds `fees`. If that is more than the newest job carries, one refresh job
   * follows after miner_job_latency ms (rises in between coalesce); otherwise nothing. Returns true if a
   * refresh is pending. Scripted jobs never refresh (their input is fixed).
   */
  txUpdate(fees: number): boolean {
    const tip = this.tip;
    if (!tip || this.stopped || tip.scripted) return false;
    tip.poolFees = Math.max(tip.poolFees, fees);
    if (tip.poolFees <= tip.jobFees) return false;
    if (this.txTimer === undefined) {
      this.txTimer = setTimeout(() => {
        this.txTimer = undefined;
        if (this.tip === tip && tip.poolFees > tip.jobFees) this.createJob(tip, false);
      }, this.opts.minerJobLatencyMs);
    }
    return true;
  }

  /** Drops every connection (to test reconnects); returns how many. */
  kickAll(): number {
    const n = this.conns.size;
    for (const conn of [...this.conns.values()]) this.drop(conn, 'kicked');
    return n;
  }

  stats(): SimNodeStats {
    const c = this.counters;
    let loggedIn = 0;
    for (const conn of this.conns.values()) if (conn.loggedIn) loggedIn++;
    return {
      connections: this.conns.size,
      loggedIn,
      logins: c.logins,
      loginFailures: c.loginFailures,
      height: this.tip?.height ?? 0,
      currentJobId: this.newest?.id ?? '',
      jobsCreated: c.jobsCreated,
      jobsSent: c.jobsSent,
      blocks: [...this.blocks],
      solutionsByCode: { ...c.solutionsByCode },
      rejectReasons: { ...c.rejectReasons },
      drops: { ...c.drops },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.blockTimer);
    clearTimeout(this.txTimer);
    clearInterval(this.txSimTimer);
    this.apiKeys?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of [...this.conns.values()]) this.drop(conn, 'shutdown');
    for (const socket of this.closing) socket.destroy();
    await closed;
  }

  // --- chain ---------------------------------------------------------------------------------------

  private openTip(): SimJob {
    clearTimeout(this.txTimer);
    this.txTimer = undefined;
    const scripted = this.script.shift();
    const height = scripted?.height ?? (this.tip ? this.tip.height + 1 : this.opts.startHeight);
    const difficulty = scripted?.difficulty ?? this.difficulty;
    const tip: Tip = { height, difficulty, solved: false, poolFees: 0, jobFees: 0, ...(scripted ? { scripted } : {}) };
    this.tip = tip;
    const job = this.createJob(tip, true);
    clearTimeout(this.blockTimer);
    if (this.opts.blockIntervalMs > 0 && !this.stopped) {
      this.blockTimer = setTimeout(() => this.openTip(), this.opts.blockIntervalMs);
    }
    return job;
  }

  private createJob(tip: Tip, newTip: boolean): SimJob {
    const seq = ++this.jobSeq;
    const input = tip.scripted && newTip ? tip.scripted.input : randomBytes(32).toString('hex');
    tip.jobFees = tip.poolFees;
    const job: StoredJob = { id: String(seq), seq, input, difficulty: tip.difficulty, height: tip.height, newTip, fees: tip.jobFees, tip };
    this.jobs.set(job.id, job);
    // Keep exactly the jobs a solution may still name without being "expired".
    this.jobs.delete(String(seq - EXPIRY_WINDOW));
    this.newest = job;
    this.counters.jobsCreated++;
    const line = encodeMessage({ method: 'job', id: job.id, input, difficulty: job.difficulty, height: job.height });
    for (const conn of this.conns.values()) if (conn.loggedIn) this.sendJobLine(conn, line);
    const pub = this.publicJob(job);
    this.emit('job', pub);
    return pub;
  }

  private publicJob(job: StoredJob): SimJob {
    const { tip: _tip, ...rest } = job;
    return rest;
  }

  private variantFor(height: number): PowVariant {
    return this.opts.chain === 'devnet' ? VARIANTS.devnet : variantForHeight(this.opts.chain, height);
  }

  // --- connections ---------------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    const conn: Conn = { id: this.nextConnId++, socket, lines: new LineSplitter(this.opts.maxLineBytes, true), loggedIn: false, closed: false, loginTimer: undefined };
    socket.setNoDelay(true);
    socket.on('error', (err) => this.log.debug({ conn: conn.id, err: err.message }, 'socket error'));
    socket.on('close', () => this.forget(conn));
    if (this.stopped) return this.drop(conn, 'shutdown');
    this.conns.set(conn.id, conn);
    if (this.conns.size > this.opts.maxConnections) return this.drop(conn, 'too-many-connections');
    conn.loginTimer = setTimeout(() => {
      if (!conn.loggedIn) this.drop(conn, 'login-timeout');
    }, this.opts.loginTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
  }

  private forget(conn: Conn): void {
    conn.closed = true;
    clearTimeout(conn.loginTimer);
    this.conns.delete(conn.id);
  }

  /** Closes at once, without a reply: how the node treats anything it cannot parse (docs/node-protocol.md). */
  private drop(conn: Conn, reason: SimDropReason): void {
    if (conn.closed) return;
    bump(this.counters.drops, reason);
    this.log.debug({ conn: conn.id, reason }, 'dropping connection');
    this.forget(conn);
    conn.socket.destroy();
    this.emit('drop', { connectionId: conn.id, reason });
  }

  /** Sends a last message, then closes (login failed, prefix mismatch). */
  private closeAfter(conn: Conn, message: StratumMessage, reason: SimDropReason): void {
    if (conn.closed) return;
    this.send(conn, message);
    bump(this.counters.drops, reason);
    this.forget(conn);
    conn.socket.end();
    // Bounded: a peer that does not read its last message is cut off (at once on stop()).
    this.closing.add(conn.socket);
    const cut = setTimeout(() => conn.socket.destroy(), 2000).unref();
    conn.socket.once('close', () => {
      clearTimeout(cut);
      this.closing.delete(conn.socket);
    });
    this.emit('drop', { connectionId: conn.id, reason });
  }

  private send(conn: Conn, message: StratumMessage): void {
    this.write(conn, encodeMessage(message));
  }

  private sendJobLine(conn: Conn, line: string): void {
    this.counters.jobsSent++;
    this.write(conn, line);
  }

  private write(conn: Conn, line: string): void {
    if (conn.closed) return;
    if (conn.socket.writableLength > MAX_SEND_QUEUE_BYTES) return this.drop(conn, 'send-queue-full');
    conn.socket.write(line);
  }

  private onData(conn: Conn, chunk: Buffer): void {
    let lines: string[];
    try {
      lines = conn.lines.push(chunk);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      return this.drop(conn, 'line-too-long');
    }
    for (const line of lines) {
      if (conn.closed) return;
      this.onLine(conn, line);
    }
  }

  private onLine(conn: Conn, line: string): void {
    // The node parses every line, so a blank one is a parse failure like any other (docs/node-protocol.md).
    if (line.trim() === '') return this.drop(conn, 'blank-line');
    let msg: StratumMessage;
    try {
      msg = parseMessage(line);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.drop(conn, err.code === ResultCode.UnknownMethod ? 'unknown-method' : isJson(line) ? 'malformed' : 'bad-json');
    }
    switch (msg.method) {
      case 'login':
        return this.onLogin(conn, msg.id, msg.api_key);
      case 'solution':
        return this.onSolution(conn, msg);
      default:
        // job, cancel and result are node-to-miner messages: unknown coming from a miner.
        return this.drop(conn, 'unknown-method');
    }
  }

  private onLogin(conn: Conn, id: string, apiKey: string): void {
    this.apiKeys?.refreshSync();
    if (this.apiKeys !== undefined && !this.apiKeys.isAllowed(apiKey)) {
      this.counters.loginFailures++;
      this.emit('login', { connectionId: conn.id, ok: false });
      return this.closeAfter(conn, resultMessage(id, ResultCode.LoginFailed), 'login-failed');
    }
    this.counters.logins++;
    clearTimeout(conn.loginTimer);
    const extra: { description: string; nonceprefix?: string; forkheight?: number; forkheight2?: number } = { description: 'Success' };
    if (this.opts.noncePrefix !== '') extra.nonceprefix = this.opts.noncePrefix;
    const { fork1, fork2 } = forkHeights(this.opts.chain);
    if (Number.isFinite(fork1)) extra.forkheight = fork1;
    if (Number.isFinite(fork2)) extra.forkheight2 = fork2;
    this.send(conn, resultMessage(id, ResultCode.LoginOk, extra));
    conn.loggedIn = true;
    this.emit('login', { connectionId: conn.id, ok: true });
    // A fresh login gets the current job at once.
    const job = this.newest;
    if (job) this.sendJobLine(conn, encodeMessage({ method: 'job', id: job.id, input: job.input, difficulty: job.difficulty, height: job.height }));
  }

  private onSolution(conn: Conn, msg: SolutionMessage): void {
    if (!conn.loggedIn) return this.drop(conn, 'not-logged-in');
    const prefix = this.opts.noncePrefix;
    if (!msg.nonce.startsWith(prefix)) {
      // Case-sensitive, on hex digits; answered, then the node disconnects (docs/node-protocol.md).
      this.record(conn, msg, { code: ResultCode.Rejected, reason: 'prefix-mismatch' });
      return this.closeAfter(conn, resultMessage(msg.id, ResultCode.Rejected), 'prefix-mismatch');
    }
    const verdict = this.judge(msg);
    this.record(conn, msg, verdict);
    const extra = verdict.blockhash !== undefined ? { blockhash: verdict.blockhash } : {};
    const code = verdict.code === 1 ? ResultCode.Accepted : verdict.code === 3 ? ResultCode.Expired : ResultCode.Rejected;
    this.send(conn, resultMessage(msg.id, code, extra));
    // An accepted block moves the chain on: the next height starts at once.
    if (verdict.code === 1) this.openTip();
  }

  private record(conn: Conn, msg: SolutionMessage, verdict: Verdict): void {
    bump(this.counters.solutionsByCode, String(verdict.code));
    if (verdict.code === 2) bump(this.counters.rejectReasons, verdict.reason as SimRejectReason);
    const outcome: SimSolutionOutcome = { connectionId: conn.id, jobId: msg.id, nonce: msg.nonce, code: verdict.code, reason: verdict.reason };
    this.emit('solution', verdict.blockhash !== undefined ? { ...outcome, blockhash: verdict.blockhash } : outcome);
  }

  /** Everything but the prefix: expiry, dead tip, PoW, target (docs/node-protocol.md, docs/pow.md). */
  private judge(msg: SolutionMessage): Verdict {
    const job = this.jobs.get(msg.id);
    if (!job) {
      const issued = DECIMAL_RE.test(msg.id) && Number(msg.id) <= this.jobSeq;
      return issued ? { code: 3, reason: 'expired' } : { code: 2, reason: 'unknown-job' };
    }
    if (job.tip !== this.tip) return { code: 2, reason: job.tip.solved ? 'already-solved' : 'stale-tip' };
    const variant = this.variantFor(job.height);
    if (!NONCE_RE.test(msg.nonce) || !HEX_RE.test(msg.output) || msg.output.length !== variant.solutionBytes * 2) {
      return { code: 2, reason: 'bad-pow' };
    }
    const input = Buffer.from(job.input, 'hex');
    const nonce = Buffer.from(msg.nonce, 'hex');
    const output = Buffer.from(msg.output, 'hex');
    if (!this.powCheck(variant, input, nonce, output)) return { code: 2, reason: 'bad-pow' };
    if (!meetsTarget(sha256(output), job.difficulty)) return { code: 2, reason: 'below-target' };
    // A real block hash commits to the header and the PoW; a generated job's hash does the same with its input.
    const hash = job.tip.scripted?.blockhash ?? sha256(input, output, nonce).toString('hex');
    job.tip.solved = true;
    const block: SimBlock = { height: job.height, hash, jobId: job.id, nonce: msg.nonce, at: Date.now() };
    this.blocks.push(block);
    if (this.blocks.length > MAX_BLOCKS_KEPT) this.blocks.shift();
    this.log.info({ height: block.height, hash, job: job.id }, 'block accepted');
    this.emit('block', block);
    return { code: 1, reason: 'accepted', blockhash: hash };
  }
}

interface Verdict {
  readonly code: 1 | 2 | 3;
  readonly reason: SimRejectReason | 'accepted' | 'expired';
  readonly blockhash?: string;
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

