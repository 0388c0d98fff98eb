// One miner connection: connected → logged-in → closing. Parses lines and dispatches to the per-method handlers
// (src/protocol/handlers/); never throws into the transport. spec: design.md §3.
// Kept small on purpose (many thousands live at once): plain fields, prototype methods, no timers of its own
// (the hub sweeps login timeouts).
import { encodeMessage, parseMessage, ProtocolError, resultMessage, type ResultMessage, type StratumMessage } from '../protocol/messages.js';
import { ResultCode, type ResultCodeValue } from '../protocol/resultCodes.js';
import type { SessionContext } from './handlers/context.js';
import { handleLogin } from './handlers/login.js';
import { handleSolution } from './handlers/solution.js';
import type { CloseReason, LineConnection, LineHandler } from '../transports/types.js';
import type { GatewayJob } from '../jobs/JobBook.js';
import type { NoncePrefixLease } from './NoncePrefixAllocator.js';
import { jobLine, type EncodedJob } from './jobLines.js';

export type SessionState = 'connected' | 'logged-in' | 'closing';

/** Result extras a handler may add to a reply. */
export type ReplyExtras = Partial<Pick<ResultMessage, 'nonceprefix' | 'forkheight' | 'forkheight2' | 'blockhash' | 'description'>>;

export class Session implements LineHandler {
  state: SessionState = 'connected';
  /** Label for events and logs, set at login (never the api key itself when keys are secret). */
  worker = '';
  /** Held from login until the session is gone. */
  lease: NoncePrefixLease | undefined;
  /** Packed share difficulty asked of this session (before capping by each job's block target). */
  sharePacked: number;
  readonly openedAt: number;
  private malformedCount = 0;
  private detached = false;

  constructor(
    readonly connection: LineConnection,
    private readonly ctx: SessionContext,
    sharePacked: number,
  ) {
    this.sharePacked = sharePacked;
    this.openedAt = ctx.now();
  }

  get id(): number {
    return this.connection.id;
  }

  get noncePrefix(): string {
    return this.lease?.prefix ?? '';
  }

  /** Share target for a job: the session's, but never harder than the block's (docs/decisions.md D5). */
  shareTargetFor(job: GatewayJob): number {
    return Math.min(this.sharePacked, job.blockTarget);
  }

  onLine(line: string): void {
    if (this.state === 'closing') return;
    // spec: design.md §3 — blank lines ignored.
    if (line.trim().length === 0) return;
    let message: StratumMessage;
    try {
      message = parseMessage(line);
    } catch (err) {
      if (err instanceof ProtocolError) this.malformed(err.code, err.requestId, err.message);
      else this.malformed(ResultCode.MalformedMessage, undefined, 'unreadable message');
      return;
    }
    try {
      switch (message.method) {
        case 'login':
          handleLogin(this, message, this.ctx.login);
          break;
        case 'solution':
          // Pending solutions are bounded where they wait for the verifier (VerificationScheduler), after the cheap
          // checks, so a stale or malformed one is always answered with its own code.
          void handleSolution(this, message, this.ctx.solution);
          break;
        default:
          // job / cancel / result are the server's messages, not a miner's.
          this.malformed(ResultCode.UnknownMethod, message.id, `method "${message.method}" is not accepted from miners`);
      }
    } catch (err) {
      this.ctx.logger.error({ err, sessionId: this.id }, 'handler failed');
    }
  }

  onClose(reason: CloseReason, detail?: string): void {
    this.state = 'closing';
    this.detach(detail === undefined ? reason : `${reason}: ${detail}`);
  }

  /** Sends one already-encoded line; false when the connection is gone or refused it. */
  send(line: string): boolean {
    if (this.connection.closed) return false;
    try {
      return this.connection.send(line);
    } catch (err) {
      this.ctx.logger.warn({ err, sessionId: this.id }, 'send failed');
      return false;
    }
  }

  reply(id: string, code: ResultCodeValue, extras?: ReplyExtras): void {
    this.send(encodeMessage(resultMessage(id, code, extras)));
  }

  /** spec: design.md §3 — job with the session's share difficulty and its prefix (NiceHash style, every job). */
  sendJob(encoded: EncodedJob): void {
    this.send(jobLine(encoded, this.shareTargetFor(encoded.job), this.noncePrefix));
  }

  /** Moves to logged-in with the given prefix lease; the handler then tells the hub. */
  markLoggedIn(lease: NoncePrefixLease, worker: string): void {
    this.lease = lease;
    this.worker = worker;
    this.state = 'logged-in';
  }

  close(reason: CloseReason): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.detach(reason);
    try {
      this.connection.close(reason);
    } catch (err) {
      this.ctx.logger.warn({ err, sessionId: this.id }, 'close failed');
    }
  }

  /** A solution refused as abuse (over the session's pending bound): answered, and charged to the malformed budget. */
  refuseAsMalformed(requestId: string, code: ResultCodeValue, description: string): void {
    this.malformed(code, requestId, description, description);
  }

  /** spec: design.md §3 — malformed lines answered with a result error until the budget is spent, then close. */
  private malformed(code: ResultCodeValue, requestId: string | undefined, detail: string, description?: string): void {
    this.malformedCount += 1;
    if (this.malformedCount > this.ctx.malformedBudget) {
      this.ctx.logger.info({ sessionId: this.id, remote: this.connection.remote }, 'malformed budget spent; closing');
      this.close('malformed-budget');
      return;
    }
    this.ctx.logger.debug({ sessionId: this.id, code, detail }, 'malformed message');
    // No readable id: answer with an empty one (miners match results by id, so it matches nothing).
    this.reply(requestId ?? '', code, description === undefined ? {} : { description });
  }

  private detach(reason: string): void {
    if (this.detached) return;
    this.detached = true;
    try {
      this.ctx.sessionClosed(this, reason);
    } catch (err) {
      this.ctx.logger.error({ err, sessionId: this.id }, 'session cleanup failed');
    }
  }
}
