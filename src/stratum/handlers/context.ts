// What each handler may use: narrow views of the gateway's shared parts, assembled by MinerHub. Handlers hold
// no state of their own; per-connection state lives on the Session.
import type { Logger } from '../../config/logger.js';
import type { EventBus } from '../../events/EventBus.js';
import type { JobBook } from '../../jobs/JobBook.js';
import type { ShareRecorder } from '../../ledger/types.js';
import type { Upstream } from '../../upstream/types.js';
import type { ApiKeyChecker } from '../ApiKeys.js';
import type { Session } from '../Session.js';
import type { VerificationScheduler } from '../VerificationScheduler.js';

export interface LoginReplyExtras {
  readonly forkheight?: number;
  readonly forkheight2?: number;
}

/** `login`: check the key, lease a nonce prefix, start the session's job feed. */
export interface LoginContext {
  readonly apiKeys: ApiKeyChecker;
  readonly logger: Logger;
  /** Fork heights for the login reply, when known (beam-mining-protocol.txt "Result", login). */
  loginReplyExtras(): LoginReplyExtras;
  /** A session finished logging in: register it and send it the current job. */
  sessionLoggedIn(session: Session): void;
}

/** `solution`: judge against the job book, verify, forward a block, announce. */
export interface SolutionContext {
  readonly jobs: Pick<JobBook, 'lookup' | 'claimSolution' | 'settleSolution'>;
  /** Fair, bounded admission to the verifier (per session, per address, in all). */
  readonly verification: Pick<VerificationScheduler, 'submit'>;
  /** Every judged solution (vardiff counts accepted shares, abuse control the invalid ones). Never throws. */
  shareJudged(session: Session, code: number, reason: string): void;
  /** The books (docs/ledger.md): an accepted share is recorded before `1 accepted` is sent; absent = no ledger. */
  readonly shares?: ShareRecorder;
  /** Blocks go to the node in the gateway's own (lowercase) nonce; the upstream restores its prefix's case. */
  readonly upstream: Pick<Upstream, 'submitBlock'>;
  readonly bus: EventBus;
  readonly logger: Logger;
  now(): number;
}

/** What a Session needs besides its handlers' contexts. */
export interface SessionContext {
  readonly login: LoginContext;
  readonly solution: SolutionContext;
  readonly logger: Logger;
  /** stratum.malformedBudget: malformed/unknown messages answered before the connection is closed. */
  readonly malformedBudget: number;
  /** Per-session solution-rate cap (stratum.bans.maxSolutionsPerSecond). */
  readonly abuse: { admitSolution(session: Session): boolean };
  now(): number;
  /** A session is gone (closed by either side): forget it. Called once per session. */
  sessionClosed(session: Session, reason: string): void;
}
