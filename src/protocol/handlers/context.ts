// What the per-method handlers may use: the gateway's shared parts, owned and injected by MinerHub.
// Handlers hold no state of their own; per-connection state lives on the Session.
import type { Logger } from '../../config/logger.js';
import type { EventBus } from '../../events/EventBus.js';
import type { JobBook } from '../../jobs/JobBook.js';
import type { ApiKeyChecker } from '../../miners/ApiKeys.js';
import type { NoncePrefixAllocator } from '../../miners/NoncePrefixAllocator.js';
import type { Session } from '../../miners/Session.js';
import type { SolutionVerifier } from '../../pow/types.js';
import type { Upstream } from '../../upstream/types.js';
import type { ShareRecorder } from '../../ledger/types.js';

export interface LoginReplyExtras {
  readonly forkheight?: number;
  readonly forkheight2?: number;
}

export interface HandlerContext {
  readonly jobs: JobBook;
  readonly upstream: Upstream;
  readonly verifier: SolutionVerifier;
  readonly apiKeys: ApiKeyChecker;
  readonly prefixes: NoncePrefixAllocator;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** The books (docs/ledger.md): an accepted share is recorded before `1 accepted` is sent; absent = no ledger. */
  readonly shares?: ShareRecorder;
  /** stratum.malformedBudget: malformed/unknown messages answered before the connection is closed. */
  readonly malformedBudget: number;
  /** stratum.maxPendingSolutions: one connection's solutions awaiting verification at once. */
  readonly maxPendingSolutions: number;
  now(): number;
  /** Fork heights for the login reply, when known (design.md §2 login result). */
  loginReplyExtras(): LoginReplyExtras;
  /** A session finished logging in: start its job feed. */
  sessionLoggedIn(session: Session): void;
  /** A session is gone (closed by either side): forget it. Called once per session. */
  sessionClosed(session: Session, reason: string): void;
}
