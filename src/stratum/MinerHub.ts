// The miner side assembled: registry, job fan-out, login sweeper and node-login follower, and the narrow
// contexts each handler gets (docs/architecture.md "Stratum"). Transports hand it every accepted connection.
import type { Logger } from '../config/logger.js';
import type { BansConfig, StratumConfig } from '../config/schema.js';
import { banKey, MemoryBanList, type Ban, type BanList } from '../bans/BanList.js';
import { recordedBanList, type BanRecorder } from '../bans/BanRecorder.js';
import type { EventBus } from '../events/EventBus.js';
import type { JobBook } from '../jobs/JobBook.js';
import type { ShareRecorder } from '../ledger/types.js';
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
import type { NoncePrefixAllocator } from './NoncePrefixAllocator.js';
import { NoncePrefixSpace } from './NoncePrefixSpace.js';
import { AbuseGuard } from './AbuseGuard.js';
import { DEFAULT_PROFILE, type PortProfileSpec } from './portProfiles.js';
import { Session } from './Session.js';
import type { SessionProfile } from './SessionProfile.js';
import { SessionRegistry } from './SessionRegistry.js';
import { VardiffController } from './VardiffController.js';
import { VerificationScheduler, type VerificationStats } from './VerificationScheduler.js';

export type MinerHubStratumConfig = Pick<
  StratumConfig,
  | 'noncePrefixDigits'
  | 'shareDifficulty'
  | 'loginTimeoutMs'
  | 'malformedBudget'
  | 'maxPendingSolutions'
> &
  Partial<Pick<StratumConfig, 'bans' | 'maxPendingSolutionsPerIp' | 'maxPendingSolutionsTotal'>>;

/** Safe defaults when the caller gives none (src/config/schema.ts has the same). */
export const DEFAULT_BANS: BansConfig = { enabled: true, checkThreshold: 50, invalidPercent: 50, banSeconds: 600, maxSolutionsPerSecond: 100, maxEntries: 100000 };
const VARDIFF_SWEEP_MS = 1000;

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
  /** The books: accepted shares are recorded here before the miner is answered (docs/ledger.md). */
  readonly shares?: ShareRecorder;
  /** Port profiles (src/stratum/portProfiles.ts); default: one default profile from `stratum`. */
  readonly profiles?: readonly PortProfileSpec[];
  /** Default: an in-memory list bounded by stratum.bans.maxEntries. */
  readonly bans?: BanList;
  /** Told of every ban and lift, by the abuse guard ('abuse') or through `bans` ('operator'): the books (docs/ledger.md "Bans"). */
  readonly banRecorder?: BanRecorder;
  /** Solutions handed to the verifier at once (VerificationScheduler window; default 1024). */
  readonly verifierWindow?: number;
}

export class MinerHub {
  /** Transports of the default profile call this for each accepted connection. */
  readonly accept: ConnectionAcceptor = (connection) => this.openSession(connection);
  /** Allocator of the default profile (tests, stats). */
  readonly prefixes: NoncePrefixAllocator;
  readonly prefixSpace: NoncePrefixSpace;
  /** Banned peers: the transports' admission check and the admin API read this. */
  readonly bans: BanList;
  private readonly profiles = new Map<string, SessionProfile>();
  private readonly acceptors = new Map<string, ConnectionAcceptor>();
  private readonly vardiff: VardiffController;
  private readonly vardiffTimer: NodeJS.Timeout | undefined;
  private readonly registry: SessionRegistry;
  private readonly fanOut: JobFanOut;
  private readonly sweeper: LoginSweeper;
  private readonly follower: NodeLoginFollower;
  private readonly sessionContext: SessionContext;
  private readonly logger: Logger;
  private readonly defaultProfile: SessionProfile;
  private readonly verification: VerificationScheduler;
  private closed = false;

  constructor(options: MinerHubOptions) {
    const now = options.now ?? Date.now;
    const logger = options.logger.child({ component: 'miners' });
    this.logger = logger;
    const specs: readonly PortProfileSpec[] = options.profiles ?? [
      { name: DEFAULT_PROFILE, noncePrefixDigits: options.stratum.noncePrefixDigits, shareDifficulty: options.stratum.shareDifficulty, vardiff: undefined, listeners: [] },
    ];
    this.prefixSpace = new NoncePrefixSpace(
      options.instanceId,
      specs.map((p) => ({ name: p.name, noncePrefixDigits: p.noncePrefixDigits, listening: p.listeners.length > 0 })),
    );
    for (const spec of specs) {
      // Vardiff starts at the port's difficulty, inside its [min, max].
      const initial = spec.vardiff === undefined ? spec.shareDifficulty : Math.min(spec.vardiff.maxDifficulty, Math.max(spec.vardiff.minDifficulty, spec.shareDifficulty));
      const profile: SessionProfile = {
        name: spec.name,
        prefixes: this.prefixSpace.allocatorOf(spec.name),
        initialDifficulty: initial,
        initialPacked: difficultyToPacked(initial),
        vardiff: spec.vardiff,
      };
      this.profiles.set(spec.name, profile);
      this.acceptors.set(spec.name, (connection) => this.openSession(connection, profile));
    }
    const first = specs[0]?.name ?? DEFAULT_PROFILE;
    this.prefixes = this.prefixSpace.allocatorOf(this.profiles.has(DEFAULT_PROFILE) ? DEFAULT_PROFILE : first);
    this.defaultProfile = this.profiles.get(DEFAULT_PROFILE) ?? (this.profiles.get(first) as SessionProfile);
    const bansConfig = options.stratum.bans ?? DEFAULT_BANS;
    const banList = options.bans ?? new MemoryBanList(bansConfig.maxEntries, now);
    const recorder = options.banRecorder;
    // One list; what the abuse guard bans and what operators do through `bans` (admin API) are recorded apart.
    this.bans = recorder === undefined ? banList : recordedBanList(banList, recorder, 'operator', now);
    const abuse = new AbuseGuard({
      config: bansConfig,
      bans: recorder === undefined ? banList : recordedBanList(banList, recorder, 'abuse', now),
      logger,
      now,
      closePeer: (ip) => this.closePeer(ip),
    });
    this.vardiff = new VardiffController(options.jobs, logger, now);
    if (specs.some((p) => p.vardiff !== undefined)) {
      this.vardiffTimer = setInterval(() => this.vardiffSweep(), VARDIFF_SWEEP_MS);
      this.vardiffTimer.unref();
    }
    this.registry = new SessionRegistry(options.bus, now);
    this.fanOut = new JobFanOut(this.registry.loggedIn, options.jobs.current);
    options.jobs.bindSink(this.fanOut);
    this.sweeper = new LoginSweeper(this.registry.awaitingLogin, options.stratum.loginTimeoutMs, now);
    this.follower = new NodeLoginFollower(options.upstream, this.prefixSpace, this.registry.loggedIn, options.chain, logger);

    const login: LoginContext = {
      apiKeys: options.apiKeys,
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
      // Defaults as in src/config/schema.ts, for callers (tests) that give none.
      maxPendingPerAddress: options.stratum.maxPendingSolutionsPerIp ?? 1024,
      maxWaiting: options.stratum.maxPendingSolutionsTotal ?? 16384,
      window: options.verifierWindow,
      logger,
      now,
    });
    const solution: SolutionContext = {
      shares: options.shares,
      jobs: options.jobs,
      verification: this.verification,
      upstream: options.upstream,
      bus: options.bus,
      logger,
      now,
      shareJudged: (session, code, reason) => {
        try {
          this.vardiff.judged(session, code);
          abuse.judged(session, code, reason);
        } catch (err) {
          logger.error({ err, sessionId: session.id }, 'share accounting failed');
        }
      },
    };
    this.sessionContext = {
      login,
      solution,
      logger,
      abuse,
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

  /** The acceptor for a port profile's listeners (src/stratum/portProfiles.ts). */
  acceptorFor(profile: string): ConnectionAcceptor {
    const acceptor = this.acceptors.get(profile);
    if (acceptor === undefined) throw new Error(`unknown port profile ${profile}`);
    return acceptor;
  }

  /** For the transports' admission hook: refuse banned peers before they become connections. */
  readonly admits = (ip: string): boolean => !this.bans.isBanned(ip);

  /** The operator's ban (admin API): refuses the IP (IPv6: its /64) from now on and closes its live sessions. */
  banPeer(ip: string, reason: string, seconds: number): Ban {
    const ban = this.bans.ban(ip, reason, seconds);
    this.logger.warn({ ip, key: ban.key, reason, until: new Date(ban.until).toISOString() }, 'peer banned by the operator');
    this.closePeer(ip);
    return ban;
  }

  /** Retargets vardiff sessions that are due (the hub's timer calls it every second). */
  vardiffSweep(): void {
    this.vardiff.sweep(this.registry.loggedIn);
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
    if (this.vardiffTimer !== undefined) clearInterval(this.vardiffTimer);
    this.sweeper.stop();
    this.follower.stop();
    for (const session of this.registry.all()) session.close('server-shutdown');
  }

  private closePeer(ip: string): void {
    const key = banKey(ip);
    for (const session of this.registry.all()) {
      if (banKey(session.connection.remoteAddress) === key) session.close('banned');
    }
  }

  private openSession(connection: LineConnection, profile: SessionProfile = this.defaultProfile): Session {
    const session = new Session(connection, this.sessionContext, profile);
    if (this.closed) {
      session.close('server-shutdown');
      return session;
    }
    this.registry.opened(session);
    return session;
  }
}
