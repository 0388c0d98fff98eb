// Abuse control per session (docs/gateway.md "Abuse control"): a solution-rate cap, and an invalid-share ratio
// over windows of `checkThreshold` judged shares that bans the peer's IP (IPv6: its /64) for `banSeconds`.
// Stale and expired shares never count (they arrive in bursts right after every new tip, from honest miners),
// nor do solutions the verifier could not judge.
import type { Logger } from '../config/logger.js';
import type { BansConfig } from '../config/schema.js';
import type { BanList } from '../bans/BanList.js';
import { ResultCode } from '../protocol/resultCodes.js';
import type { Session } from './Session.js';

// Refusals that never count toward an IP ban: the verifier or the books unavailable (docs/ledger.md: a database
// outage must not ban every miner), others on the miner's address holding the pending limit, an internal error,
// and pending bounds (docs/hostile-peers.md "Share path"): a backlogged verifier puts every rig of an honest farm
// behind one NAT at its share, so the session is charged its malformed budget instead, never its whole address.
const NOT_THE_MINERS_FAULT = new Set(['verifier-unavailable', 'ledger-unavailable', 'ledger-unconfirmed', 'address-busy', 'too-many-pending', 'internal-error']);
const INVALID_CODES = new Set<number>([
  ResultCode.Rejected,
  ResultCode.InvalidSolution,
  ResultCode.BadSolutionSize,
  ResultCode.DuplicateShare,
  ResultCode.BadNonce,
  ResultCode.LowDifficultyShare,
]);

export interface AbuseGuardOptions {
  readonly config: BansConfig;
  readonly bans: BanList;
  readonly logger: Logger;
  readonly now: () => number;
  /** Closes every session of the banned peer ('banned'). */
  closePeer(ip: string): void;
}

export class AbuseGuard {
  constructor(private readonly options: AbuseGuardOptions) {}

  /** Token bucket of maxSolutionsPerSecond (burst of the same size); a refusal counts as an invalid share. */
  admitSolution(session: Session): boolean {
    const cap = this.options.config.maxSolutionsPerSecond;
    if (cap <= 0) return true;
    const now = this.options.now();
    session.rateTokens = Math.min(cap, session.rateTokens + ((now - session.rateRefillAt) / 1000) * cap);
    session.rateRefillAt = now;
    if (session.rateTokens >= 1) {
      session.rateTokens -= 1;
      return true;
    }
    this.judged(session, ResultCode.InvalidSolution, 'rate-limited');
    return false;
  }

  judged(session: Session, code: number, reason: string): void {
    const config = this.options.config;
    if (!config.enabled || session.state === 'closing') return;
    const invalid = INVALID_CODES.has(code) && !NOT_THE_MINERS_FAULT.has(reason);
    if (!invalid && code !== ResultCode.Accepted) return;
    session.judgedInWindow += 1;
    if (invalid) session.invalidInWindow += 1;
    if (session.judgedInWindow < Math.max(1, config.checkThreshold)) return;
    const percent = (session.invalidInWindow * 100) / session.judgedInWindow;
    const { judgedInWindow, invalidInWindow } = session;
    session.judgedInWindow = 0;
    session.invalidInWindow = 0;
    if (percent <= config.invalidPercent) return;
    const ip = session.connection.remoteAddress;
    const ban = this.options.bans.ban(ip, `invalid shares ${invalidInWindow}/${judgedInWindow} (last: ${reason})`, config.banSeconds);
    this.options.logger.warn(
      { sessionId: session.id, ip, key: ban.key, miner: session.miner, worker: session.worker, invalid: invalidInWindow, judged: judgedInWindow, lastReason: reason, until: new Date(ban.until).toISOString() },
      'peer banned: too many invalid shares',
    );
    this.options.closePeer(ip);
  }
}
