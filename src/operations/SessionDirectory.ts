// What the admin API and the event API's telemetry need to know about miner sessions, and the one action on
// them (kick). Implemented over MinerHub by hubSessionDirectory.ts (one small file, re-pointed at merge when
// sessions move to src/stratum/).
import type { TransportKind } from '../transports/types.js';

export interface SessionInfo {
  readonly id: number;
  /** Peer IP (no port), as bans and per-IP limits see it. */
  readonly ip: string;
  /** "ip:port" of the peer. */
  readonly remote: string;
  readonly transport: TransportKind;
  /** Gateway port the miner connected to. */
  readonly port: number;
  /** Port profile (stratum.listeners name; 'default' for the flat keys). */
  readonly profile: string;
  readonly miner: string;
  readonly worker: string;
  readonly noncePrefix: string;
  /** ms since epoch. */
  readonly connectedAt: number;
}

export interface SessionFilter {
  readonly miner?: string;
  readonly worker?: string;
  readonly ip?: string;
}

export interface SessionDirectory {
  /** Logged-in sessions matching every given field of `filter`, at most `limit`. */
  list(filter?: SessionFilter, limit?: number): SessionInfo[];
  /** Logged-in sessions by transport. */
  countByTransport(): Record<TransportKind, number>;
  /** Closes the session; false when there is no such live session. */
  kick(id: number, reason: 'admin-kick' | 'banned'): boolean;
}

export function matchesFilter(session: SessionInfo, filter: SessionFilter): boolean {
  return (
    (filter.miner === undefined || session.miner === filter.miner) &&
    (filter.worker === undefined || session.worker === filter.worker) &&
    (filter.ip === undefined || session.ip === filter.ip)
  );
}
