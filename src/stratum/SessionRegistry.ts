// Who is connected: sessions waiting for login (oldest first) and logged-in sessions, with the session
// events on the bus. Releases a session's nonce prefix when it is gone.
import type { EventBus, SessionEvent } from '../events/EventBus.js';
import type { Session } from './Session.js';

export class SessionRegistry {
  /** Waiting for login; insertion order = age, so a sweep can stop at the first young one. */
  readonly awaitingLogin = new Set<Session>();
  readonly loggedIn = new Set<Session>();

  constructor(
    private readonly bus: EventBus,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.awaitingLogin.size + this.loggedIn.size;
  }

  opened(session: Session): void {
    this.awaitingLogin.add(session);
    this.announce('session.open', session);
  }

  loggedInNow(session: Session): void {
    this.awaitingLogin.delete(session);
    this.loggedIn.add(session);
    this.announce('session.login', session);
  }

  closed(session: Session, reason: string): void {
    this.awaitingLogin.delete(session);
    this.loggedIn.delete(session);
    if (session.lease !== undefined) session.profile.prefixes.release(session.lease);
    this.announce('session.close', session, reason);
  }

  /** Every session, for shutdown (a copy: closing one removes it from the sets). */
  all(): Session[] {
    return [...this.awaitingLogin, ...this.loggedIn];
  }

  private announce(topic: 'session.open' | 'session.login' | 'session.close', session: Session, reason?: string): void {
    const event: SessionEvent = {
      reason,
      sessionId: session.id,
      remote: session.connection.remote,
      transport: session.connection.transport,
      miner: session.miner || undefined,
      worker: session.worker || undefined,
      profile: session.profile.name,
      noncePrefix: session.noncePrefix || undefined,
      at: this.now(),
    };
    this.bus.emit(topic, event);
  }
}
