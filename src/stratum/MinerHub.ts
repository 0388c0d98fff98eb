// The miner side assembled: registry, job fan-out, login sweeper and node-login follower, and the narrow
// contexts each handler gets (docs/architecture.md "Stratum"). Transports hand it every accepted connection.
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import type { EventBus } from '../events/EventBus.js';
import type { JobBook } from '../jobs/JobBook.js';
import { difficultyToPacked } from '../pow/difficulty.js';
import type { SolutionVerifier } from '../pow/types.js';
import type { ChainName } from '../pow/variants.js';
import type { ConnectionAcceptor, LineConnection } from '../transports/types.js';
import type { Upstream } from '../upstream/types.js';
import type { ApiKeyChecker } from './ApiKeys.js';
import type { LoginContext, SessionContext, SolutionContext } from './handlers/context.js';
import { JobFanOut } from './JobFanOut.js';
import { LoginSweeper } from './LoginSweeper.js';
import { NodeLoginFollower } from './NodeLoginFollower.js';
import { NoncePrefixAllocator } from './NoncePrefixAllocator.js';
import { Session } from './Session.js';
import { SessionRegistry } from './SessionRegistry.js';
import { VerificationScheduler, type VerificationStats } from './VerificationScheduler.js';

export type MinerHubStratumConfig = Pick<
  StratumConfig,
  | 'noncePrefixDigits'
  | 'shareDifficulty'
  | 'loginTimeoutMs'
  | 'malformedBudget'
  | 'maxPendingSolutions'
  | 'maxPendingSolutionsPerIp'
  | 'maxPendingSolutionsTotal'
>;

export interface MinerHubOptions {
  readonly stratum: MinerHubStratumConfig;
  readonly instanceId: string;
  readonly chain: ChainName;
  readonly jobs: JobBook;
  readonly upstream: Upstream;
  readonly verifier: SolutionVerifier;
  readonly apiKeys: ApiKeyChecker;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Solutions handed to the verifier at once (VerificationScheduler window; default 1024). */
  readonly verifierWindow?: number;
}

export class MinerHub {
  /** Transports call this for each accepted connection. */
  readonly accept: ConnectionAcceptor = (connection) => this.openSession(connection);
  readonly prefixes: NoncePrefixAllocator;
  private readonly registry: SessionRegistry;
  private readonly fanOut: JobFanOut;
  private readonly sweeper: LoginSweeper;
  private readonly follower: NodeLoginFollower;
  private readonly sessionContext: SessionContext;
  private readonly sharePacked: number;
  private readonly logger: Logger;
  private readonly verification: VerificationScheduler;
  private closed = false;

  constructor(options: MinerHubOptions) {
    const now = options.now ?? Date.now;
    const logger = options.logger.child({ component: 'miners' });
    this.logger = logger;
    this.sharePacked = difficultyToPacked(options.stratum.shareDifficulty);
    this.prefixes = new NoncePrefixAllocator({ instanceId: options.instanceId, noncePrefixDigits: options.stratum.noncePrefixDigits });
    this.registry = new SessionRegistry(this.prefixes, options.bus, now);
    this.fanOut = new JobFanOut(this.registry.loggedIn, options.jobs.current);
    options.jobs.bindSink(this.fanOut);
    this.sweeper = new LoginSweeper(this.registry.awaitingLogin, options.stratum.loginTimeoutMs, now);
    this.follower = new NodeLoginFollower(options.upstream, this.prefixes, this.registry.loggedIn, options.chain, logger);

    const login: LoginContext = {
      apiKeys: options.apiKeys,
      prefixes: this.prefixes,
      logger,
      loginReplyExtras: () => this.follower.loginReplyExtras(),
      sessionLoggedIn: (session) => {
        this.registry.loggedInNow(session);
        this.fanOut.sendCurrent(session);
      },
    };
    this.verification = new VerificationScheduler({
      verifier: options.verifier,
      maxPendingPerSession: options.stratum.maxPendingSolutions,
      maxPendingPerAddress: options.stratum.maxPendingSolutionsPerIp,
      maxWaiting: options.stratum.maxPendingSolutionsTotal,
      window: options.verifierWindow,
      logger,
      now,
    });
    const solution: SolutionContext = {
      jobs: options.jobs,
      verification: this.verification,
      upstream: options.upstream,
      bus: options.bus,
      logger,
      now,
    };
    this.sessionContext = {
      login,
      solution,
      logger,
      malformedBudget: options.stratum.malformedBudget,
      now,
      sessionClosed: (session, reason) => this.registry.closed(session, reason),
    };
  }

  get sessionCount(): number {
    return this.registry.size;
  }

  get loggedInCount(): number {
    return this.registry.loggedIn.size;
  }

  /** Logged-in sessions (for admin APIs and stats). */
  loggedInSessions(): IterableIterator<Session> {
    return this.registry.loggedIn.values();
  }

  /** Pending solutions, peak, refusals (for metrics and tests). */
  get verificationStats(): VerificationStats {
    return this.verification.stats;
  }

  /**
   * Resolves once every solution admitted to verification has its verdict (blocks among them are forwarded);
   * admits no more. Call after close() and before closing the verifier itself.
   */
  drainVerification(): Promise<void> {
    return this.verification.close();
  }

  /** Stops the sweep and the feeds, and closes every session ('server-shutdown'). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sweeper.stop();
    this.follower.stop();
    for (const session of this.registry.all()) session.close('server-shutdown');
  }

  private openSession(connection: LineConnection): Session {
    const session = new Session(connection, this.sessionContext, this.sharePacked);
    if (this.closed) {
      session.close('server-shutdown');
      return session;
    }
    this.registry.opened(session);
    return session;
  }
}
