// Closes connections that have not logged in within stratum.loginTimeoutMs: one timer for all of them instead
// of one per connection (many thousands may be waiting at once).
import type { Session } from './Session.js';

const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 1000;

export class LoginSweeper {
  private readonly timer: NodeJS.Timeout;

  constructor(
    /** Oldest first (insertion order), so the sweep stops at the first young one. */
    private readonly awaitingLogin: ReadonlySet<Session>,
    private readonly loginTimeoutMs: number,
    private readonly now: () => number,
  ) {
    const sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(loginTimeoutMs / 4)));
    this.timer = setInterval(() => this.sweep(), sweepMs);
    this.timer.unref();
  }

  sweep(): void {
    const deadline = this.now() - this.loginTimeoutMs;
    for (const session of this.awaitingLogin) {
      if (session.openedAt > deadline) break;
      session.close('login-timeout');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
