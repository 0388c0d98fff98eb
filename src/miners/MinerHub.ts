// Owns the miner sessions: creates one per accepted connection, fans jobs and cancels out to the logged-in ones,
// sweeps login timeouts with one timer, and re-derives nonce prefixes when the node's prefix changes.
// spec: design.md §1 (one job enters once, fans out to every session), §3 (downstream dialect).
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import type { EventBus, SessionEvent } from '../events/EventBus.js';
import type { CancelReason, GatewayJob, JobBook } from '../jobs/JobBook.js';
import { difficultyToPacked } from '../pow/difficulty.js';
import type { SolutionVerifier } from '../pow/types.js';
import { forkHeights, type ChainName } from '../pow/variants.js';
import type { HandlerContext, LoginReplyExtras } from '../protocol/handlers/context.js';
import type { ConnectionAcceptor, LineConnection } from '../transports/types.js';
import type { Upstream, UpstreamLogin } from '../upstream/types.js';
import type { ShareRecorder } from '../ledger/types.js';
import type { ApiKeyChecker } from './ApiKeys.js';
import { cancelLine, encodeJob, type EncodedJob } from './jobLines.js';
import { NoncePrefixAllocator } from './NoncePrefixAllocator.js';
import { Session } from './Session.js';

export type MinerHubStratumConfig = Pick<
  StratumConfig,
  'noncePrefixDigits' | 'shareDifficulty' | 'loginTimeoutMs' | 'malformedBudget' | 'maxPendingSolutions'
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
  /** The books: accepted shares are recorded here before the miner is answered (docs/ledger.md). */
  readonly shares?: ShareRecorder;
}

const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 1000;

export class MinerHub implements HandlerContext {
  readonly jobs: JobBook;
  readonly upstream: Upstream;
  readonly verifier: SolutionVerifier;
  readonly apiKeys: ApiKeyChecker;
  readonly prefixes: NoncePrefixAllocator;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly shares?: ShareRecorder;
  readonly malformedBudget: number;
  readonly maxPendingSolutions: number;
  readonly now: () => number;
  /** Transports call this for each accepted connection. */
  readonly accept: ConnectionAcceptor = (connection) => this.openSession(connection);

  private readonly sharePacked: number;
  private readonly loginTimeoutMs: number;
  private readonly chain: ChainName;
  /** Waiting for login, oldest first (insertion order = age, so the sweep stops at the first young one). */
  private readonly awaitingLogin = new Set<Session>();
  private readonly loggedIn = new Set<Session>();
  private currentJob: EncodedJob | undefined;
  private upstreamLogin: UpstreamLogin | undefined;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;
  private readonly onUpstreamLogin = (login: UpstreamLogin): void => this.upstreamLoggedIn(login);

  constructor(options: MinerHubOptions) {
    this.jobs = options.jobs;
    this.upstream = options.upstream;
    this.verifier = options.verifier;
    this.apiKeys = options.apiKeys;
    this.bus = options.bus;
    this.logger = options.logger.child({ component: 'miners' });
    this.now = options.now ?? Date.now;
    this.shares = options.shares;
    this.malformedBudget = options.stratum.malformedBudget;
    this.maxPendingSolutions = Math.max(1, options.stratum.maxPendingSolutions);
    this.sharePacked = difficultyToPacked(options.stratum.shareDifficulty);
    this.loginTimeoutMs = options.stratum.loginTimeoutMs;
    this.chain = options.chain;
    this.prefixes = new NoncePrefixAllocator({
      instanceId: options.instanceId,
      noncePrefixDigits: options.stratum.noncePrefixDigits,
    });
    this.currentJob = options.jobs.current === undefined ? undefined : encodeJob(options.jobs.current);
    options.jobs.bindSink({
      jobPublished: (job) => this.fanOutJob(job),
      jobsCancelled: (dead, reason) => this.fanOutCancel(dead, reason),
    });
    options.upstream.on('login', this.onUpstreamLogin);
    const sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(this.loginTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.sweepLoginTimeouts(), sweepMs);
    this.sweepTimer.unref();
  }

  get sessionCount(): number {
    return this.awaitingLogin.size + this.loggedIn.size;
  }

  get loggedInCount(): number {
    return this.loggedIn.size;
  }

  /** Logged-in sessions (for admin APIs and stats). */
  loggedInSessions(): IterableIterator<Session> {
    return this.loggedIn.values();
  }

  loginReplyExtras(): LoginReplyExtras {
    const login = this.upstreamLogin;
    const table = forkHeights(this.chain);
    const forkheight = login?.forkHeight ?? (Number.isFinite(table.fork1) ? table.fork1 : undefined);
    const forkheight2 = login?.forkHeight2 ?? (Number.isFinite(table.fork2) ? table.fork2 : undefined);
    return { forkheight, forkheight2 };
  }

  sessionLoggedIn(session: Session): void {
    this.awaitingLogin.delete(session);
    this.loggedIn.add(session);
    this.announce('session.login', session);
    // The node sends the current job right after login; so do we.
    if (this.currentJob !== undefined) session.sendJob(this.currentJob);
  }

  sessionClosed(session: Session, reason: string): void {
    this.awaitingLogin.delete(session);
    this.loggedIn.delete(session);
    if (session.lease !== undefined) this.prefixes.release(session.lease);
    this.announce('session.close', session, reason);
  }

  /** Stops the sweep and the feeds, and closes every session ('server-shutdown'). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.upstream.off('login', this.onUpstreamLogin);
    for (const session of [...this.awaitingLogin, ...this.loggedIn]) session.close('server-shutdown');
  }

  private openSession(connection: LineConnection): Session {
    const session = new Session(connection, this, this.sharePacked);
    if (this.closed) {
      session.close('server-shutdown');
      return session;
    }
    this.awaitingLogin.add(session);
    this.announce('session.open', session);
    return session;
  }

  private fanOutJob(job: GatewayJob): void {
    const encoded = encodeJob(job);
    this.currentJob = encoded;
    for (const session of this.loggedIn) session.sendJob(encoded);
  }

  /**
   * spec: design.md §3 — `cancel {id}` when a job dies so miners stop at once. Miners work on the newest job only
   * (every job replaces the previous), so one cancel for the newest dead job stops them; cancelling each of up to
   * `jobHistory` older ids would cost every session that many lines per block for nothing.
   */
  private fanOutCancel(dead: readonly GatewayJob[], reason: CancelReason): void {
    const newestDead = dead[dead.length - 1];
    if (this.currentJob !== undefined && reason !== 'new-tip') this.currentJob = undefined;
    if (newestDead === undefined) return;
    const line = cancelLine(newestDead.id);
    for (const session of this.loggedIn) session.send(line);
  }

  private upstreamLoggedIn(login: UpstreamLogin): void {
    this.upstreamLogin = login;
    let revoked;
    try {
      revoked = this.prefixes.setUpstreamPrefix(login.noncePrefix);
    } catch (err) {
      this.logger.error({ err, noncePrefix: login.noncePrefix }, 'unusable upstream nonce prefix; keeping the previous one');
      return;
    }
    this.logger.info(
      { upstreamPrefix: login.noncePrefix, sessionDigits: this.prefixes.sessionDigits, revoked: revoked.length },
      'upstream login: session nonce prefixes re-derived',
    );
    if (revoked.length === 0) return;
    const revokedSet = new Set(revoked);
    for (const session of [...this.loggedIn]) {
      if (session.lease !== undefined && revokedSet.has(session.lease)) session.close('too-many-connections');
    }
  }

  private sweepLoginTimeouts(): void {
    const deadline = this.now() - this.loginTimeoutMs;
    for (const session of this.awaitingLogin) {
      if (session.openedAt > deadline) break;
      session.close('login-timeout');
    }
  }

  private announce(event: 'session.open' | 'session.login' | 'session.close', session: Session, reason?: string): void {
    this.bus.emit(event, this.sessionEvent(session, reason));
  }

  private sessionEvent(session: Session, reason: string | undefined): SessionEvent {
    return {
      reason,
      sessionId: session.id,
      remote: session.connection.remote,
      transport: session.connection.transport,
      worker: session.worker || undefined,
      noncePrefix: session.noncePrefix || undefined,
      at: this.now(),
    };
  }
}
