// SessionDirectory over the stratum side (MinerHub.loggedInSessions(), Session.close). The only file of the
// operations code that knows MinerHub and Session.
import type { MinerHub } from '../stratum/MinerHub.js';
import type { Session } from '../stratum/Session.js';
import { normalizeIp } from '../transports/ListenerBase.js';
import type { TransportKind } from '../transports/types.js';
import { matchesFilter, type SessionDirectory, type SessionFilter, type SessionInfo } from './SessionDirectory.js';

/** A bound listener: which port a session of `profile` on `transport` came in through. */
export interface ListenerPort {
  readonly profile: string;
  readonly transport: TransportKind;
  readonly port: number;
}

export function hubSessionDirectory(hub: MinerHub, listeners: readonly ListenerPort[]): SessionDirectory {
  const portOf = (session: Session): number =>
    listeners.find((l) => l.profile === session.profile.name && l.transport === session.connection.transport)?.port ?? 0;
  const info = (session: Session): SessionInfo => ({
    id: session.id,
    ip: normalizeIp(session.connection.remoteAddress),
    remote: session.connection.remote,
    transport: session.connection.transport,
    port: portOf(session),
    profile: session.profile.name,
    miner: session.miner,
    worker: session.worker,
    noncePrefix: session.noncePrefix,
    connectedAt: session.openedAt,
  });
  return {
    list(filter: SessionFilter = {}, limit = 10_000): SessionInfo[] {
      const out: SessionInfo[] = [];
      for (const session of hub.loggedInSessions()) {
        const entry = info(session);
        if (!matchesFilter(entry, filter)) continue;
        out.push(entry);
        if (out.length >= limit) break;
      }
      return out;
    },
    countByTransport(): Record<TransportKind, number> {
      const counts: Record<TransportKind, number> = { tcp: 0, tls: 0, ws: 0, http: 0 };
      for (const session of hub.loggedInSessions()) counts[session.connection.transport] += 1;
      return counts;
    },
    kick(id: number, reason: 'admin-kick' | 'banned'): boolean {
      for (const session of hub.loggedInSessions()) {
        if (session.id !== id) continue;
        session.close(reason);
        return true;
      }
      return false;
    },
  };
}
