// One miner connection: connected → logged-in → closing. Parses lines and dispatches to the per-method handlers
// (src/stratum/handlers/); never throws into the transport. spec: docs/gateway.md.
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
import { jobTail, type EncodedJob } from './jobLines.js';
import type { SessionProfile } from './SessionProfile.js';
import type { VardiffWindow } from './Vardiff.js';

/** Difficulty epochs kept per vardiff session: a share for a job older than the oldest is judged at the oldest. */
const MAX_DIFFICULTY_EPOCHS = 16;

/** Jobs with seq ≥ firstSeq were sent to this session at `packed` (docs/gateway.md "Vardiff"). */
interface DifficultyEpoch {
  readonly firstSeq: number;
  readonly packed: number;
}

export type SessionState = 'connected' | 'logged-in' | 'closing';

/** Result extras a handler may add to a reply. */
export type ReplyExtras = Partial<Pick<ResultMessage, 'nonceprefix' | 'forkheight' | 'forkheight2' | 'blockhash' | 'description'>>;

export class Session implements LineHandler {
  state: SessionState = 'connected';
  /** Who shares are credited to, set at login (never the api key itself when keys are secret). */
  miner = '';
  /** The rig's name from `KEY.WORKER` ('' when none). */
  worker = '';
  /** Held from login until the session is gone. */
  lease: NoncePrefixLease | undefined;
  /** Packed share difficulty asked of this session now (before capping by each job's block target). */
  sharePacked: number;
  /** Share difficulty now (float; vardiff moves it). */
  difficulty: number;
  /** Vardiff sessions only: the difficulty each job id was sent at, newest last. */
  private epochs: DifficultyEpoch[] | undefined;
  /** Vardiff sessions only: accepted shares since the window began. */
  vardiffWindow: VardiffWindow | undefined;
  // Abuse control (src/stratum/AbuseGuard.ts): solution-rate bucket and the current invalid-share window.
  /** The end of this session's job lines, and what it was built from (sendJob). */
  private tail = '';
  private tailPacked = -1;
  private tailPrefix = '';
  /** Highest job seq sent to this session (a vardiff re-issue must be above it). */
  lastSentSeq = 0;
  rateTokens = Number.POSITIVE_INFINITY; // a full bucket: clamped to the cap on first use
  rateRefillAt = 0;
  judgedInWindow = 0;
  invalidInWindow = 0;
  readonly openedAt: number;
  private malformedCount = 0;
  private detached = false;

  constructor(
    readonly connection: LineConnection,
    private readonly ctx: SessionContext,
    readonly profile: SessionProfile,
  ) {
    this.sharePacked = profile.initialPacked;
    this.difficulty = profile.initialDifficulty;
    this.openedAt = ctx.now();
    this.rateRefillAt = this.openedAt;
    if (profile.vardiff !== undefined) this.vardiffWindow = { difficulty: this.difficulty, windowStartMs: this.openedAt, shares: 0 };
  }

  get id(): number {
    return this.connection.id;
  }

  get noncePrefix(): string {
    return this.lease?.prefix ?? '';
  }

  /** Share target for a job as sent now: the session's, but never harder than the block's (docs/decisions.md D5). */
  shareTargetFor(job: GatewayJob): number {
    return Math.min(this.sharePacked, job.blockTarget);
  }

  /**
   * The share target a job was sent to this session with: a solution is judged at the difficulty of the job it
   * answers, so shares in flight across a vardiff change are neither lost nor over-credited.
   */
  sentShareTargetFor(job: GatewayJob): number {
    const epochs = this.epochs;
    if (epochs === undefined) return this.shareTargetFor(job);
    let packed = epochs[0]?.packed ?? this.sharePacked;
    for (let i = epochs.length - 1; i >= 0; i--) {
      const epoch = epochs[i] as DifficultyEpoch;
      if (job.seq >= epoch.firstSeq) {
        packed = epoch.packed;
        break;
      }
    }
    return Math.min(packed, job.blockTarget);
  }

  /**
   * Vardiff: from job seq `firstSeq` on, this session's jobs carry `packed`. The caller then sends the current job
   * again under an id ≥ firstSeq, so each job id has one difficulty for this session.
   */
  changeDifficulty(difficulty: number, packed: number, firstSeq: number): void {
    this.epochs ??= [{ firstSeq: 0, packed: this.sharePacked }];
    this.epochs.push({ firstSeq, packed });
    if (this.epochs.length > MAX_DIFFICULTY_EPOCHS) this.epochs.shift();
    this.difficulty = difficulty;
    this.sharePacked = packed;
  }

  onLine(line: string): void {
    if (this.state === 'closing') return;
    // spec: docs/gateway.md — blank lines ignored.
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
          if (this.state === 'logged-in' && !this.ctx.abuse.admitSolution(this)) {
            // Over stratum.bans.maxSolutionsPerSecond: refused unjudged, and counted as invalid for the ban ratio.
            this.reply(message.id, ResultCode.InvalidSolution, { description: 'Too many solutions' });
            break;
          }
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

  /** spec: docs/gateway.md — job with the session's share difficulty and its prefix (NiceHash style, every job). */
  sendJob(encoded: EncodedJob): void {
    if (encoded.job.seq > this.lastSentSeq) this.lastSentSeq = encoded.job.seq;
    const packed = this.shareTargetFor(encoded.job);
    const prefix = this.noncePrefix;
    // The tail is reused while difficulty and prefix stay (the prefix can change in place on a node re-login).
    if (packed !== this.tailPacked || prefix !== this.tailPrefix) {
      this.tail = jobTail(packed, prefix);
      this.tailPacked = packed;
      this.tailPrefix = prefix;
    }
    this.send(encoded.head + this.tail);
  }

  /** Moves to logged-in with the given prefix lease; the handler then tells the hub. */
  markLoggedIn(lease: NoncePrefixLease, miner: string, worker: string): void {
    this.lease = lease;
    this.miner = miner;
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

  /** spec: docs/gateway.md — malformed lines answered with a result error until the budget is spent, then close. */
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
