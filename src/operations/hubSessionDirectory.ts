// SessionDirectory over today's MinerHub (loggedInSessions(), Session.close). The only file of the operations
// code that knows MinerHub and Session: re-point it when sessions move to src/stratum/.
import type { MinerHub } from '../miners/MinerHub.js';
import type { Session } from '../miners/Session.js';
import { normalizeIp } from '../transports/ListenerBase.js';
import type { TransportKind } from '../transports/types.js';
import { matchesFilter, type SessionDirectory, type SessionFilter, type SessionInfo } from './SessionDirectory.js';
import { splitWorkerLabel } from './StatisticsSource.js';

export function hubSessionDirectory(hub: MinerHub, ports: Partial<Record<TransportKind, number>>): SessionDirectory {
  const info = (session: Session): SessionInfo => {
    const { miner, worker } = splitWorkerLabel(session.worker);
    return {
      id: session.id,
      ip: normalizeIp(session.connection.remoteAddress),
      remote: session.connection.remote,
      transport: session.connection.transport,
      port: ports[session.connection.transport] ?? 0,
      miner,
      worker,
      noncePrefix: session.noncePrefix,
      connectedAt: session.openedAt,
    };
  };
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
      const counts: Record<TransportKind, number> = { tcp: 0, tls: 0, ws: 0 };
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
