// The operations surfaces in one composition function, beside the Gateway composition root (docs/operations.md): the one HttpServer on http.port
// (/health, /ready, /metrics, /admin, the dashboard and /api/statistics) and the event API on events.wsPort.
// This is also the one place where the operations' bus consumers are registered (statistics, metrics, event API).
import { createRequire } from 'node:module';
import type { Logger } from './config/logger.js';
import type { GatewayConfig } from './config/schema.js';
import type { EventBus } from './events/EventBus.js';
import { adminHandler, createAdminRpc } from './admin/AdminRpc.js';
import { mountDashboard } from './dashboard/dashboardRoutes.js';
import { EventApiServer } from './eventapi/EventApiServer.js';
import { HttpServer, jsonReply } from './http/HttpServer.js';
import type { GatewayMetrics, LedgerMetricsSource } from './metrics/GatewayMetrics.js';
import { normalizeIp } from './transports/ListenerBase.js';
import type { TransportKind } from './transports/types.js';
import type { BanList } from './bans/BanList.js';
import { ProvisionalStatistics } from './operations/ProvisionalStatistics.js';
import { Readiness } from './operations/Readiness.js';
import type { SessionDirectory } from './operations/SessionDirectory.js';
import type { StatisticsSource } from './operations/StatisticsSource.js';

export interface OperationsDeps {
  readonly config: GatewayConfig;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** The ledger's statistics (LedgerStatisticsSource) when the books are open; default: ProvisionalStatistics from bus shares. */
  readonly statistics?: StatisticsSource;
  /** The books when open: the 'ledger' readiness probe (fed by the bus `ledger` topic) and the ledger metrics. */
  readonly ledger?: LedgerMetricsSource & { readonly backend: string };
  readonly sessions: SessionDirectory;
  readonly bans: BanList;
  readonly metrics: GatewayMetrics;
  /** The node link is logged in and can take a block now. */
  readonly upstreamUp: () => boolean;
  /** Ports of the default profile by transport. */
  readonly ports: Partial<Record<TransportKind, number>>;
  /** Mounts other capabilities' routes on the HTTP listener before it listens (the work service's RPC). */
  readonly mountRoutes?: (http: HttpServer) => Promise<void>;
  /** false when stratum is off (work service alone): no node link, so it is no readiness condition. */
  readonly upstreamRequired?: boolean;
  /** Re-reads miner api keys and the TLS certificate (admin `reload`, like SIGHUP). */
  readonly reload: () => Promise<{ apiKeys: number; tlsCertificate: boolean | 'off' }>;
}

export interface Operations {
  /** Named probes behind GET /ready: 'upstream' (stratum on) and 'ledger' (books open). */
  readonly readiness: Readiness;
  /** The Prometheus registry owner (the ledger's metrics are attached here when books are open). */
  readonly metrics: GatewayMetrics;
  /** Bound ports (absent when off). */
  readonly httpPort: number | undefined;
  readonly eventsPort: number | undefined;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;

/** Secrets replaced by "***" (set) or "" (unset), for admin `config.get` and logs. */
export function maskedConfig(config: GatewayConfig): unknown {
  const mask = (value: string): string => (value === '' ? '' : '***');
  return {
    ...config,
    upstream: { ...config.upstream, apiKey: mask(config.upstream.apiKey) },
    events: { ...config.events, token: mask(config.events.token) },
    admin: { ...config.admin, token: mask(config.admin.token) },
  };
}

export async function startOperations(deps: OperationsDeps): Promise<Operations> {
  const { config, bus, logger } = deps;
  const log = logger.child({ component: 'operations' });
  const startedAt = Date.now();
  let upstreamState = 'connecting';
  // The books are writable when opened; the bus `ledger` topic reports every change (docs/ledger.md).
  let ledgerState: { state: string; detail?: string } = { state: 'available' };
  const offs: Array<() => void> = [
    bus.subscribe('upstream', 'operations-upstream-state', (e) => (upstreamState = e.state)),
    bus.subscribe('ledger', 'operations-ledger-state', (e) => (ledgerState = { state: e.state, detail: e.detail })),
    // A connection accepted before its IP was banned may still log in: close it then (docs/operations.md "Bans").
    bus.subscribe('session.login', 'operations-bans', (e) => {
      if (deps.bans.isBanned(normalizeIp(e.remote.slice(0, e.remote.lastIndexOf(':'))))) deps.sessions.kick(e.sessionId, 'banned');
    }),
  ];

  let statistics = deps.statistics;
  if (statistics === undefined) {
    log.info('statistics: provisional, in memory from this process\'s bus events (no ledger open)');
    const provisional = new ProvisionalStatistics();
    offs.push(provisional.attach(bus));
    statistics = provisional;
  }
  const readiness = new Readiness();
  if (deps.upstreamRequired !== false) {
    readiness.add('upstream', () => (deps.upstreamUp() ? { ok: true } : { ok: false, reason: `node link is ${upstreamState}` }));
  }
  const ledger = deps.ledger;
  if (ledger !== undefined) {
    readiness.add('ledger', () =>
      ledgerState.state === 'available'
        ? { ok: true }
        : { ok: false, reason: `ledger (${ledger.backend}) is ${ledgerState.state}${ledgerState.detail === undefined ? '' : `: ${ledgerState.detail}`}` },
    );
    offs.push(deps.metrics.attachLedger(bus, ledger));
  }

  let events: EventApiServer | undefined;
  let eventsPort: number | undefined;
  if (config.events.wsPort > 0) {
    events = new EventApiServer({
      config: config.events,
      bus,
      statistics,
      chain: config.chain,
      shareDifficulty: config.stratum.shareDifficulty,
      logger,
      telemetry: () => ({
        sessions: deps.sessions.countByTransport(),
        hashrate: statistics.pool().hashrate10m,
        upstream: upstreamState,
        uptime: Math.floor((Date.now() - startedAt) / 1000),
        version: VERSION,
      }),
    });
  }
  offs.push(
    deps.metrics.attach(bus, {
      sessionsByTransport: () => deps.sessions.countByTransport(),
      ports: deps.ports,
      upstreamUp: deps.upstreamUp,
      eventApi: events === undefined ? undefined : () => events.stats(),
    }),
  );

  let http: HttpServer | undefined;
  let httpPort: number | undefined;
  const close = async (): Promise<void> => {
    for (const off of offs) off();
    await Promise.allSettled([events?.close(), http?.close()]);
  };
  try {
    if (events !== undefined) eventsPort = await events.listen();
    if (config.http.port > 0) {
      http = new HttpServer({ host: config.http.host, port: config.http.port, logger });
      http.route('GET', '/health', () => jsonReply(200, { status: 'alive', uptime: Math.floor((Date.now() - startedAt) / 1000), version: VERSION }));
      http.route('GET', '/ready', () => {
        const report = readiness.check();
        return jsonReply(report.ready ? 200 : 503, report);
      });
      http.route('GET', '/metrics', async () => {
        const { contentType, body } = await deps.metrics.scrape();
        return { status: 200, headers: { 'content-type': contentType }, body };
      });
      if (config.admin.token !== '') {
        const rpc = createAdminRpc({
          sessions: deps.sessions,
          bans: deps.bans,
          statistics,
          reload: deps.reload,
          config: () => maskedConfig(config),
          logger: log,
        });
        http.route('POST', '/admin', adminHandler(config.admin.token, rpc));
      } else {
        log.info('admin API off (admin.token not set)');
      }
      mountDashboard(http, {
        statistics,
        upstreamState: () => upstreamState,
        eventApi: () => ({ port: eventsPort ?? 0, tokenRequired: config.events.token !== '' }),
      });
      await deps.mountRoutes?.(http);
      httpPort = await http.listen();
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { readiness, metrics: deps.metrics, httpPort, eventsPort, close };
}
