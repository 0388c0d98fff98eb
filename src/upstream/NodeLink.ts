// NodeLink: the gateway's client to the Beam/Hds node's stratum server (docs/architecture.md, docs/node-protocol.md).
// The node drops the connection on any malformed line (docs/node-protocol.md), so everything sent here is built by
// encodeMessage from checked fields. Facts from the node's source (node.cpp OnMinedExternal, stratum_server.cpp):
// a `solution`'s `id` IS the node job id (parsed as a decimal u64) and the `result` echoes it, answered in order;
// so results are matched first-in first-out per job id, and an answer that could belong to a timed-out block or to
// the next one for the same job id is held until it is clear which (docs/transports.md "Blocks").
import { EventEmitter } from 'node:events';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from '../config/logger.js';
import type { UpstreamConfig } from '../config/schema.js';
import { readRegularFileSync } from '../config/watchedFile.js';
import type { EventBus, UpstreamEvent } from '../events/EventBus.js';
import { LineSplitter, LineTooLongError } from '../protocol/LineSplitter.js';
import { encodeMessage, parseMessage, ProtocolError, type JobMessage, type ResultMessage, type StratumMessage } from '../protocol/messages.js';
import { ResultCode } from '../protocol/resultCodes.js';
import { nonceForNode } from './noncePrefix.js';
import { ReconnectBackoff } from './ReconnectBackoff.js';
import type { BlockSubmitOutcome, Upstream, UpstreamEvents, UpstreamJob, UpstreamLogin } from './types.js';

export type NodeLinkErrorCode = 'UPSTREAM_CA_LOAD';

export class NodeLinkError extends Error {
  constructor(
    readonly code: NodeLinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NodeLinkError';
  }
}

export interface NodeLinkOptions {
  readonly config: UpstreamConfig;
  readonly logger: Logger;
  /** Receives `upstream` state events (connecting/connected/logged-in/disconnected). */
  readonly bus?: EventBus;
  /** Source of jitter in [0, 1) (tests pin it). */
  readonly random?: () => number;
  /** Blocks kept while the link is down (oldest dropped first). Default 16. */
  readonly maxQueuedBlocks?: number;
  /** Node job ids remembered with their height, to judge queued blocks. Default 1024 (the node keeps 64). */
  readonly jobHeightWindow?: number;
}

const LOGIN_ID = 'login';
const JOB_ID_RE = /^[0-9]{1,20}$/; // the node's job ids are a decimal u64 counter (docs/node-protocol.md)
const INPUT_RE = /^[0-9a-fA-F]{64}$/;
const NONCE_RE = /^[0-9a-fA-F]{16}$/;
// 104 bytes for BeamHash I–III, 36 for the devnet variant; the verifier checks the size per variant.
const OUTPUT_RE = /^(?:[0-9a-fA-F]{2}){1,1024}$/;
const NONCE_PREFIX_RE = /^[0-9a-fA-F]{0,6}$/; // 0–6 hex digits (docs/node-protocol.md)
const BLOCK_HASH_RE = /^[0-9a-fA-F]{64}$/;
const STOP_GRACE_MS = 1_000;
const MAX_CA_FILE_BYTES = 4 * 1024 * 1024;
/** A block whose answer is lost with the link is sent again after re-login at most this often in all. */
const MAX_SEND_ATTEMPTS = 3;
const MAX_LOGGED_LINE = 200;

interface Submission {
  readonly jobId: string;
  readonly nonce: string;
  readonly output: string;
  readonly resolve: (outcome: BlockSubmitOutcome) => void;
  /** Times it went on the wire before (a re-send after the link dropped unanswered). */
  readonly attempts: number;
}

interface QueuedSubmission extends Submission {
  /** Height of the job the solution was found for (from the node's job id). */
  readonly height: number;
}

interface InFlight extends Submission {
  /** Height of its job when sent (undefined if the link did not know it: then it is never re-sent). */
  readonly height: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Already resolved as 'unanswered'; kept so a late answer is matched to it and not to a later block. */
  timedOut: boolean;
  /**
   * An answer for this job id that came while an older, timed-out block of the same job id was still waiting:
   * it is that block's late answer or this one's (the node skipped the older). A second answer settles it as
   * the late one; this block's own timeout settles it as this block's.
   */
  held: ResultMessage | undefined;
}

function truncate(line: string): string {
  return line.length > MAX_LOGGED_LINE ? `${line.slice(0, MAX_LOGGED_LINE)}…` : line;
}

function optionalHeight(value: number | undefined): number | undefined {
  return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export class NodeLink extends EventEmitter<UpstreamEvents> implements Upstream {
  private readonly config: UpstreamConfig;
  private readonly log: Logger;
  private readonly bus: EventBus | undefined;
  private readonly backoff: ReconnectBackoff;
  private readonly ca: Buffer | undefined;
  private readonly maxQueuedBlocks: number;
  private readonly jobHeightWindow: number;

  private started = false;
  private stopped = false;
  private socket: Socket | undefined;
  private splitter: LineSplitter | undefined;
  /** Why the current socket is being closed, when we close it. */
  private dropReason: string | undefined;
  private loggedIn = false;
  /** The node's nonce prefix of the current login, exactly as it wrote it. */
  private nodePrefix = '';
  private connectTimer: NodeJS.Timeout | undefined;
  private loginTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** After a re-login with blocks queued: the first job decides whether they can still be valid. */
  private awaitingFirstJob = false;
  private readonly jobHeights = new Map<string, number>();
  private readonly inFlight = new Map<string, InFlight[]>();
  private queued: QueuedSubmission[] = [];

  /** Throws NodeLinkError('UPSTREAM_CA_LOAD') when tlsCaFile is set but unreadable. */
  constructor(options: NodeLinkOptions) {
    super();
    this.config = options.config;
    this.log = options.logger.child({ component: 'nodelink', node: `${options.config.host}:${options.config.port}` });
    this.bus = options.bus;
    this.backoff = new ReconnectBackoff(this.config.reconnectMinMs, this.config.reconnectMaxMs, options.random);
    this.maxQueuedBlocks = Math.max(1, options.maxQueuedBlocks ?? 16);
    this.jobHeightWindow = Math.max(1, options.jobHeightWindow ?? 1024);
    if (this.config.tls && this.config.tlsCaFile !== '') {
      try {
        this.ca = readRegularFileSync(this.config.tlsCaFile, MAX_CA_FILE_BYTES).data; // never blocks on a FIFO
      } catch (error) {
        throw new NodeLinkError('UPSTREAM_CA_LOAD', `cannot read upstream.tlsCaFile ${this.config.tlsCaFile}: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  /** Logged in and able to take a block right now. */
  get isUp(): boolean {
    return this.loggedIn;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  submitBlock(upstreamJobId: string, nonce: string, output: string): Promise<BlockSubmitOutcome> {
    return new Promise<BlockSubmitOutcome>((resolve) => {
      const fields = { jobId: upstreamJobId, nonce };
      // Never put a line on the wire the node would drop us for (docs/node-protocol.md).
      if (!JOB_ID_RE.test(upstreamJobId) || !NONCE_RE.test(nonce) || !OUTPUT_RE.test(output)) {
        this.log.error({ ...fields, outputLength: output.length }, 'block not sent: malformed job id, nonce or output');
        resolve({ status: 'dropped', detail: 'malformed solution' });
        return;
      }
      if (this.stopped) {
        this.log.error(fields, 'block dropped: the node link is stopped');
        resolve({ status: 'dropped', detail: 'link stopped' });
        return;
      }
      const submission: Submission = { jobId: upstreamJobId, nonce, output, resolve, attempts: 0 };
      if (this.loggedIn) {
        this.send(submission);
        return;
      }
      const height = this.jobHeights.get(upstreamJobId);
      if (height === undefined) {
        this.log.error(fields, 'block dropped: the node link is down and the job is unknown, so it cannot be judged later');
        resolve({ status: 'dropped', detail: 'link down, unknown job' });
        return;
      }
      this.queued.push({ ...submission, height });
      this.log.warn({ ...fields, height, queued: this.queued.length }, 'block queued: the node link is down; sent after re-login if the height is unchanged');
      if (this.queued.length > this.maxQueuedBlocks) {
        const oldest = this.queued.shift();
        if (oldest !== undefined) this.dropQueued(oldest, 'queue full');
      }
    });
  }

  async stop(graceMs = 0): Promise<void> {
    if (this.stopped) return;
    // Graceful shutdown: blocks already on the wire deserve the node's answer (it comes in milliseconds).
    const deadline = Date.now() + graceMs;
    while (this.loggedIn && this.inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const queued of this.queued) this.dropQueued(queued, 'link stopped');
    this.queued = [];
    this.settleInFlight({ status: 'dropped', detail: 'link stopped before the node answered' });
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    this.dropReason = 'stopped';
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (this.loggedIn) socket.end(); // a clean FIN; the node has nothing more to tell us
    else socket.destroy();
    const timer = setTimeout(() => socket.destroy(), STOP_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }

  // ---- connection cycle ----

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const { host, port } = this.config;
    this.announce('connecting', `${host}:${port}`);
    this.dropReason = undefined;
    const socket = this.config.tls
      ? tlsConnect({
          host,
          port,
          rejectUnauthorized: this.config.tlsVerify,
          ...(this.ca !== undefined ? { ca: this.ca } : {}),
          ...(isIP(host) === 0 ? { servername: host } : {}),
        })
      : netConnect({ host, port });
    this.socket = socket;
    this.splitter = new LineSplitter(this.config.maxLineBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.connectTimer = setTimeout(() => this.drop(socket, `connect timeout after ${this.config.connectTimeoutMs} ms`), this.config.connectTimeoutMs);
    socket.once(this.config.tls ? 'secureConnect' : 'connect', () => this.onConnected(socket));
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error: Error & { code?: string }) => {
      this.dropReason ??= `socket error: ${error.code ?? error.message}`;
    });
    socket.on('close', () => this.onClosed(socket));
  }

  private onConnected(socket: Socket): void {
    if (socket !== this.socket) return;
    clearTimeout(this.connectTimer);
    this.announce('connected');
    this.log.info({ tls: this.config.tls }, 'connected to the node; logging in');
    socket.write(encodeMessage({ method: 'login', id: LOGIN_ID, api_key: this.config.apiKey }));
    this.loginTimer = setTimeout(() => this.drop(socket, `no login result within ${this.config.loginTimeoutMs} ms`), this.config.loginTimeoutMs);
  }

  private drop(socket: Socket, reason: string): void {
    if (socket !== this.socket || socket.destroyed) return;
    this.dropReason ??= reason;
    socket.destroy();
  }

  private onClosed(socket: Socket): void {
    if (socket !== this.socket) return;
    clearTimeout(this.connectTimer);
    clearTimeout(this.loginTimer);
    this.socket = undefined;
    this.splitter = undefined;
    const reason = this.dropReason ?? 'closed by the node';
    const wasUp = this.loggedIn;
    this.loggedIn = false;
    this.awaitingFirstJob = false;
    // The node answers on the connection the solution came on: nothing more will come for these. Blocks still
    // waiting are sent again after re-login if the node is still at their height (it judges a duplicate).
    this.requeueInFlight(reason);
    this.announce('disconnected', reason);
    if (wasUp) this.safeEmit('down', reason);
    if (this.stopped) {
      this.log.info({ reason }, 'node link stopped');
      return;
    }
    const delay = this.backoff.next();
    this.log.warn({ reason, reconnectInMs: delay, queuedBlocks: this.queued.length }, 'node link down; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- reading the node ----

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket || this.splitter === undefined) return;
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      this.log.error({ limit: error.limit }, 'the node sent a line over upstream.maxLineBytes; reconnecting');
      this.drop(socket, 'line too long');
      return;
    }
    for (const line of lines) {
      if (socket !== this.socket) return;
      this.onLine(socket, line);
    }
  }

  private onLine(socket: Socket, line: string): void {
    let message: StratumMessage;
    try {
      message = parseMessage(line);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.log.error({ line: truncate(line), problem: error.message }, 'malformed line from the node ignored');
      return;
    }
    switch (message.method) {
      case 'result':
        if (message.id === LOGIN_ID && !this.loggedIn) this.onLoginResult(socket, message, line);
        else this.onSolutionResult(message);
        return;
      case 'job':
        this.onJob(message, line);
        return;
      case 'cancel':
        this.log.debug({ jobId: message.id }, 'cancel from the node (jobs die with the next tip anyway)');
        return;
      default:
        this.log.warn({ method: message.method }, 'unexpected message from the node ignored');
    }
  }

  private onLoginResult(socket: Socket, result: ResultMessage, line: string): void {
    clearTimeout(this.loginTimer);
    const problem = loginFieldProblem(line);
    if (problem !== undefined) {
      this.log.error({ problem, line: truncate(line) }, 'malformed login result from the node (login failed); retrying with backoff');
      this.drop(socket, `login failed: malformed login result (${problem})`);
      return;
    }
    if (result.code === ResultCode.LoginFailed) {
      this.log.error({ code: result.code, description: result.description }, 'the node refused the api key (upstream.apiKey is not in its stratum.api.keys); retrying with backoff');
      this.drop(socket, 'login failed: api key refused');
      return;
    }
    if (result.code !== ResultCode.LoginOk) {
      this.log.error({ code: result.code, description: result.description }, 'login not accepted by the node; retrying with backoff');
      this.drop(socket, `login failed: code ${result.code}`);
      return;
    }
    const noncePrefix = result.nonceprefix ?? '';
    if (!NONCE_PREFIX_RE.test(noncePrefix)) {
      this.log.error({ nonceprefix: truncate(noncePrefix) }, 'the node gave a nonceprefix that is not 0–6 hex digits; reconnecting');
      this.drop(socket, 'invalid nonceprefix');
      return;
    }
    this.nodePrefix = noncePrefix;
    const login: { -readonly [K in keyof UpstreamLogin]: UpstreamLogin[K] } = { noncePrefix };
    const forkHeight = optionalHeight(result.forkheight);
    const forkHeight2 = optionalHeight(result.forkheight2);
    if (forkHeight !== undefined) login.forkHeight = forkHeight;
    if (forkHeight2 !== undefined) login.forkHeight2 = forkHeight2;
    this.loggedIn = true;
    this.backoff.reset();
    // A new session: the JobBook voids older node job ids; queued blocks carry their height with them.
    this.jobHeights.clear();
    this.awaitingFirstJob = this.queued.length > 0;
    this.log.info({ ...login }, 'logged in to the node');
    this.announce('logged-in', noncePrefix === '' ? undefined : `nonceprefix ${noncePrefix}`);
    this.safeEmit('login', login);
  }

  private onJob(message: JobMessage, line: string): void {
    if (!this.loggedIn) {
      this.log.warn({ jobId: message.id }, 'job before the login result ignored');
      return;
    }
    const { id, input, difficulty, height } = message;
    if (!JOB_ID_RE.test(id) || !INPUT_RE.test(input) || difficulty > 0xffff_ffff || height < 1) {
      this.log.error({ line: truncate(line) }, 'malformed job from the node ignored');
      return;
    }
    this.jobHeights.delete(id);
    this.jobHeights.set(id, height);
    if (this.jobHeights.size > this.jobHeightWindow) {
      const oldest = this.jobHeights.keys().next();
      if (oldest.done !== true) this.jobHeights.delete(oldest.value);
    }
    const job: UpstreamJob = { id, input: input.toLowerCase(), difficulty, height };
    this.log.debug({ jobId: id, height, difficulty }, 'job from the node');
    this.safeEmit('job', job);
    if (this.awaitingFirstJob) {
      this.awaitingFirstJob = false;
      this.flushQueued(height);
    }
  }

  private onSolutionResult(result: ResultMessage): void {
    const waiting = this.inFlight.get(result.id);
    const entry = waiting?.[0];
    if (waiting === undefined || entry === undefined) {
      this.log.warn({ id: result.id, code: result.code, description: result.description }, 'result from the node for nothing we sent; ignored');
      return;
    }
    if (entry.timedOut) {
      const next = waiting[1];
      if (next !== undefined && !next.timedOut && next.held === undefined) {
        // The late answer of `entry`, or `next`'s if the node skipped `entry`: hold it on `next` until clear.
        next.held = result;
        return;
      }
      waiting.shift();
      if (next !== undefined && next.held !== undefined) {
        // A second answer: the held one was `entry`'s (late), this one is `next`'s.
        this.logLate(entry, next.held);
        next.held = undefined;
        this.onSolutionResult(result);
        this.cleanUp(result.id, waiting);
        return;
      }
      this.cleanUp(result.id, waiting);
      this.logLate(entry, result);
      return;
    }
    waiting.shift();
    this.cleanUp(result.id, waiting);
    this.settle(entry, result);
  }

  private cleanUp(jobId: string, waiting: InFlight[]): void {
    if (waiting.length === 0 && this.inFlight.get(jobId) === waiting) this.inFlight.delete(jobId);
  }

  private settle(entry: InFlight, result: ResultMessage): void {
    clearTimeout(entry.timer);
    const outcome = this.outcomeOf(result);
    const fields = { jobId: entry.jobId, nonce: entry.nonce, code: result.code, description: result.description, blockHash: outcome.blockHash };
    if (outcome.status === 'accepted') this.log.info(fields, 'block accepted by the node');
    else this.log.warn({ ...fields, status: outcome.status }, 'block not accepted by the node');
    entry.resolve(outcome);
  }

  private logLate(entry: InFlight, result: ResultMessage): void {
    const outcome = this.outcomeOf(result);
    this.log.warn(
      { jobId: entry.jobId, nonce: entry.nonce, code: result.code, description: result.description, blockHash: outcome.blockHash, status: outcome.status },
      'the node answered a block after upstream.resultTimeoutMs (already reported unanswered)',
    );
  }

  private outcomeOf(result: ResultMessage): BlockSubmitOutcome {
    switch (result.code) {
      case ResultCode.Accepted:
        return result.blockhash !== undefined && BLOCK_HASH_RE.test(result.blockhash)
          ? { status: 'accepted', code: result.code, blockHash: result.blockhash.toLowerCase() }
          : { status: 'accepted', code: result.code };
      case ResultCode.Expired:
        return { status: 'expired', code: result.code, detail: result.description };
      default:
        // 2 "rejected", and anything the node may invent: not accepted.
        return { status: 'rejected', code: result.code, detail: result.description };
    }
  }

  // ---- sending blocks ----

  private send(submission: Submission): void {
    const socket = this.socket;
    if (socket === undefined) return; // unreachable while logged in
    const height = 'height' in submission ? (submission as QueuedSubmission).height : this.jobHeights.get(submission.jobId);
    const entry: InFlight = { ...submission, attempts: submission.attempts + 1, height, timer: undefined, timedOut: false, held: undefined };
    entry.timer = setTimeout(() => this.onResultTimeout(entry), this.config.resultTimeoutMs);
    const waiting = this.inFlight.get(submission.jobId);
    if (waiting === undefined) this.inFlight.set(submission.jobId, [entry]);
    else waiting.push(entry);
    const nonce = nonceForNode(this.nodePrefix, submission.nonce);
    socket.write(encodeMessage({ method: 'solution', id: submission.jobId, nonce, output: submission.output }));
    this.log.info({ jobId: submission.jobId, nonce: submission.nonce }, 'block submitted to the node');
  }

  private onResultTimeout(entry: InFlight): void {
    entry.timer = undefined;
    const held = entry.held;
    if (held !== undefined) {
      // No second answer came: the held one was this block's, and the node skipped the older block's answer.
      entry.held = undefined;
      const waiting = this.inFlight.get(entry.jobId);
      if (waiting !== undefined) {
        const older = waiting.indexOf(entry);
        if (older > 0) {
          for (const skipped of waiting.splice(0, older)) this.log.warn({ jobId: skipped.jobId, nonce: skipped.nonce }, 'the node never answered this block (it answered a later one for the same job id)');
        }
        waiting.shift();
        this.cleanUp(entry.jobId, waiting);
      }
      this.settle(entry, held);
      return;
    }
    entry.timedOut = true;
    this.log.error({ jobId: entry.jobId, nonce: entry.nonce, timeoutMs: this.config.resultTimeoutMs }, 'the node did not answer a block in time');
    entry.resolve({ status: 'unanswered', detail: `no result within ${this.config.resultTimeoutMs} ms` });
  }

  /** Resolves everything sent and not yet answered (the connection is gone or the link stops). */
  private settleInFlight(outcome: BlockSubmitOutcome): void {
    for (const waiting of this.inFlight.values()) {
      for (const entry of waiting) {
        clearTimeout(entry.timer);
        if (entry.timedOut) continue;
        this.log.error({ jobId: entry.jobId, nonce: entry.nonce, status: outcome.status, detail: outcome.detail }, 'block left without an answer from the node');
        entry.resolve(outcome);
      }
    }
    this.inFlight.clear();
  }

  /** The link dropped: unanswered blocks go back to the front of the queue (bounded attempts), the rest settle. */
  private requeueInFlight(reason: string): void {
    const again: QueuedSubmission[] = [];
    for (const waiting of this.inFlight.values()) {
      for (const entry of waiting) {
        clearTimeout(entry.timer);
        if (entry.timedOut) continue;
        const { height } = entry;
        if (height !== undefined && entry.attempts < MAX_SEND_ATTEMPTS && !this.stopped) {
          again.push({ jobId: entry.jobId, nonce: entry.nonce, output: entry.output, resolve: entry.resolve, attempts: entry.attempts, height });
          this.log.warn({ jobId: entry.jobId, nonce: entry.nonce, height, attempts: entry.attempts, reason }, 'block unanswered when the link dropped; queued to send again after re-login');
          continue;
        }
        const detail = `link down before the node answered (${reason})`;
        this.log.error({ jobId: entry.jobId, nonce: entry.nonce, attempts: entry.attempts, detail }, 'block left without an answer from the node');
        entry.resolve({ status: 'unanswered', detail });
      }
    }
    this.inFlight.clear();
    if (again.length === 0) return;
    this.queued = [...again, ...this.queued];
    while (this.queued.length > this.maxQueuedBlocks) {
      const oldest = this.queued.shift();
      if (oldest !== undefined) this.dropQueued(oldest, 'queue full');
    }
  }

  /** After re-login: blocks whose job was at the height of the node's first job may still be valid. */
  private flushQueued(height: number): void {
    const queued = this.queued;
    this.queued = [];
    for (const entry of queued) {
      if (entry.height === height) {
        this.log.warn({ jobId: entry.jobId, nonce: entry.nonce, height }, 'sending a block queued while the link was down');
        this.send(entry);
      } else {
        this.dropQueued(entry, `the node moved on to height ${height}`);
      }
    }
  }

  private dropQueued(entry: QueuedSubmission, why: string): void {
    this.log.error({ jobId: entry.jobId, nonce: entry.nonce, height: entry.height, why }, 'queued block dropped');
    entry.resolve({ status: 'dropped', detail: why });
  }

  // ---- events ----

  private announce(state: UpstreamEvent['state'], detail?: string): void {
    if (this.bus === undefined) return;
    const event: UpstreamEvent = detail === undefined ? { state, at: Date.now() } : { state, detail, at: Date.now() };
    this.bus.emit('upstream', event);
  }

  /** A listener's bug must not take the node link down with it. */
  private safeEmit<K extends keyof UpstreamEvents>(event: K, ...args: UpstreamEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: UpstreamEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.log.error({ err: error, event }, `a '${event}' listener threw`);
    }
  }
}

/**
 * Why a login result line cannot be trusted, if it cannot: fields the node may send must have their types
 * (a non-string nonceprefix is not "no prefix"). undefined = well-formed.
 */
function loginFieldProblem(line: string): string | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if ('nonceprefix' in raw && typeof raw.nonceprefix !== 'string') return `nonceprefix is ${describeType(raw.nonceprefix)}, not a string`;
  for (const field of ['forkheight', 'forkheight2'] as const) {
    if (!(field in raw)) continue;
    const value = raw[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return `${field} is not a non-negative integer`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
