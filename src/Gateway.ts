// The composition root: builds the one data path of docs/architecture.md from its parts and owns their lifetimes.
// node ─▶ Upstream ─▶ JobBook ─▶ MinerHub/Session × N ─▶ transports; solutions ─▶ VerifierPool ─▶ Upstream.
// Beside it: operations (HTTP, metrics, event API; src/Operations.ts) and the work service (src/work/).
import { MemoryBanList } from './bans/BanList.js';
import { restoreBans } from './bans/BanRecorder.js';
import { ConfigError } from './config/errors.js';
import { silentLogger, type Logger } from './config/logger.js';
import type { GatewayConfig } from './config/schema.js';
import { EventBus } from './events/EventBus.js';
import type { HttpServer } from './http/HttpServer.js';
import { JobBook } from './jobs/JobBook.js';
import { GatewayMetrics } from './metrics/GatewayMetrics.js';
import { startOperations, type Operations } from './Operations.js';
import { hubSessionDirectory } from './operations/hubSessionDirectory.js';
import { LedgerStatisticsSource } from './operations/LedgerStatisticsSource.js';
import { variantForHeight } from './pow/variants.js';
import type { SolutionVerifier } from './pow/types.js';
import { openLedger, type Ledger } from './ledger/Ledger.js';
import { VerifierPool } from './pow/VerifierPool.js';
import { ApiKeys } from './stratum/ApiKeys.js';
import { MinerHub } from './stratum/MinerHub.js';
import { resolvePortProfiles } from './stratum/portProfiles.js';
import { createStratumListeners, type StratumListenerSpec, type StratumListeners } from './transports/createTransports.js';
import { checkDescriptorBudget, readOpenFileLimit } from './transports/descriptorBudget.js';
import type { Transport } from './transports/ListenerBase.js';
import type { TransportKind } from './transports/types.js';
import { NodeLink } from './upstream/NodeLink.js';
import type { Upstream } from './upstream/types.js';
import { startWorkService, type WorkServiceRuntime } from './work/startWorkService.js';

export interface GatewayDeps {
  readonly logger: Logger;
  /** Default: a new bus. Pass one to subscribe before anything is emitted. */
  readonly bus?: EventBus;
  /** Default: a NodeLink to cfg.upstream. */
  readonly upstream?: Upstream;
  /** The process's soft open-file limit (default: read from /proc/self/limits); tests pin it. */
  readonly openFileLimit?: number;
  /** Default: the books at cfg.ledger.url (null = run without books, as `ledger.url: none`). */
  readonly ledger?: Ledger | null;
}

/** Ports of the default profile by transport (a configured 0 is off). */
export type BoundPorts = Partial<Record<TransportKind, number>>;

/** Every listener actually bound, with its port profile. */
export interface BoundListener {
  readonly profile: string;
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
}

/** The work service beside (or instead of) stratum; its RPC is POST / on the operations' HTTP listener. */
export interface WorkSide {
  readonly runtime: WorkServiceRuntime;
  readonly httpPort: number;
  readonly mqttPort: number | undefined;
}

export class Gateway {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly bus: EventBus,
    readonly upstream: Upstream,
    readonly jobs: JobBook,
    readonly hub: MinerHub,
    private readonly verifier: SolutionVerifier,
    private readonly apiKeys: ApiKeys,
    private readonly stratum: StratumListeners,
    /** Ports of the default profile actually bound (a configured 0 is "off"). */
    readonly ports: BoundPorts,
    /** Every listener of every profile. */
    readonly listeners: readonly BoundListener[],
    private readonly log: Logger,
    /** HTTP (health, ready, metrics, admin, dashboard) and the event API; their ports are operations.httpPort / eventsPort. */
    readonly operations: Operations,
    /** Set when work.enabled (docs/work-service.md). */
    readonly work: WorkSide | undefined,
    /** The books (docs/ledger.md); undefined when ledger.url is none. */
    readonly ledger: Ledger | undefined,
    /** The ledger's statistics snapshot the operations read (undefined without books). */
    private readonly statistics: LedgerStatisticsSource | undefined,
  ) {}

  static async start(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
    const log = deps.logger;
    const stratumOn = config.stratum.enabled;
    // Hostile peers (docs/hostile-peers.md): miners can never take the node link's descriptor.
    const openFileLimit = deps.openFileLimit ?? readOpenFileLimit();
    if (stratumOn) checkDescriptorBudget(config.stratum.maxConnections, openFileLimit); // throws TransportError FD_LIMIT
    if (openFileLimit === undefined) log.warn('open-file limit unknown (no /proc/self/limits): stratum.maxConnections not checked against it');
    // Listener profiles are checked before anything is opened: a bad one (a port twice, TLS without files) stops the
    // start with nothing to clean up.
    const profiles = resolvePortProfiles(config.stratum);
    const bus = deps.bus ?? new EventBus({ logger: log });
    const upstream = deps.upstream ?? new NodeLink({ config: config.upstream, logger: log, bus });
    // Metrics are made before the data path so verification is timed.
    const metrics = new GatewayMetrics();
    const verifier = metrics.timeVerifier(new VerifierPool());
    // --- ledger: opened first (a bad URL or newer schema stops the start), closed last ---
    const ledger = deps.ledger === null ? undefined : (deps.ledger ?? (await openLedger(config.ledger, { instanceId: config.instanceId, logger: log, bus })));
    if (ledger === undefined) log.warn('ledger.url is none: NO BOOKS — accepted shares and blocks are not recorded anywhere');
    else log.info({ backend: ledger.backend }, 'ledger open');
    // The operations show the ledger's one statistics function (docs/operations.md "Statistics"); without books, provisional ones.
    // Hashrate per difficulty is that of the chain's newest variant (the one live jobs use).
    const variant = variantForHeight(config.chain, Number.MAX_SAFE_INTEGER).name;
    const statistics =
      ledger === undefined
        ? undefined
        : new LedgerStatisticsSource({ read: (now) => ledger.statistics(now, variant), intervalMs: config.ledger.statisticsIntervalMs, logger: log });
    try {
      await statistics?.start();
    } catch (err) {
      await ledger?.close();
      throw err;
    }
    // --- end ledger ---
    // Bans in force come back from the books before any listener takes a miner (docs/ledger.md "Bans"), into the
    // list the hub then records new bans and lifts of; restoring itself writes nothing.
    const banList = new MemoryBanList(config.stratum.bans.maxEntries);
    if (ledger !== undefined) await restoreBans(banList, ledger, config.stratum.bans.maxEntries, log);
    const jobs = new JobBook({
      chain: config.chain,
      minerJobLatencyMs: config.stratum.minerJobLatencyMs,
      jobHistory: config.stratum.jobHistory,
      maxSharesPerJob: config.stratum.maxSharesPerJob,
      upstream,
      logger: log,
      bus,
    });
    // With stratum off nobody can log in: its open-access warning would only mislead.
    const apiKeys = new ApiKeys({ file: config.stratum.apiKeysFile, logger: stratumOn ? log : silentLogger() });
    const hub = new MinerHub({
      profiles,
      stratum: config.stratum,
      instanceId: config.instanceId,
      chain: config.chain,
      jobs,
      upstream,
      verifier,
      apiKeys,
      bus,
      logger: log,
      shares: ledger,
      bans: banList,
      banRecorder: ledger,
    });
    const specs: StratumListenerSpec[] = stratumOn
      ? profiles.flatMap((profile) =>
          profile.listeners.map((l) => ({ kind: l.transport, host: l.host, port: l.port, tlsCertFile: l.tlsCertFile, tlsKeyFile: l.tlsKeyFile, profile: profile.name, acceptor: hub.acceptorFor(profile.name) })),
        )
      : [];
    const ports: BoundPorts = {};
    const listeners: BoundListener[] = [];
    let stratum: StratumListeners | undefined;
    let operations: Operations | undefined;
    let work: WorkServiceRuntime | undefined;
    try {
      stratum = createStratumListeners(config.stratum, specs, log, { admission: hub.admits });
      for (const { spec, transport } of stratum.listeners) {
        const port = await transport.listen();
        if (spec.profile === 'default') ports[transport.kind] = port;
        listeners.push({ profile: spec.profile, transport: transport.kind, host: spec.host, port });
      }
      const tlsListeners = stratum.tls;
      // Operations (docs/operations.md) is the one place where the gateway's own bus consumers are registered
      // (statistics, metrics, event API), before the node link starts so they miss nothing.
      operations = await startOperations({
        config,
        bus,
        logger: log,
        sessions: hubSessionDirectory(hub, listeners),
        statistics,
        ledger,
        bans: hub.bans,
        metrics,
        upstreamUp: () => upstream.isUp,
        upstreamRequired: stratumOn,
        ports,
        reload: async () => {
          await apiKeys.reload();
          const results = await Promise.all(tlsListeners.map((tls) => tls.reloadCertificates()));
          return { apiKeys: apiKeys.size, tlsCertificate: results.length === 0 ? 'off' : results.every(Boolean) };
        },
        // The work service's RPC is POST / on the same HTTP listener (docs/work-service.md).
        mountRoutes: config.work.enabled
          ? async (http: HttpServer) => {
              // Worker credit goes into the books (docs/ledger.md "Work credit"); config load refuses ledger.url none.
              if (ledger === undefined) throw new ConfigError('work.enabled needs books for worker credit, but the gateway runs without a ledger');
              work = await startWorkService(config, { logger: log, bus, http, credits: ledger.workCredits });
            }
          : undefined,
      });
    } catch (err) {
      await work?.stop();
      await operations?.close();
      if (stratum !== undefined) await Promise.allSettled(transportsOf(stratum).map((t) => t.close()));
      hub.close();
      await hub.drainVerification();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      await statistics?.stop();
      await ledger?.close();
      throw err;
    }
    // stratum.enabled false: the work service alone, no listeners and no node link.
    if (stratumOn) upstream.start();
    const workRuntime = work as WorkServiceRuntime | undefined;
    const workSide: WorkSide | undefined =
      workRuntime === undefined ? undefined : { runtime: workRuntime, httpPort: operations.httpPort ?? 0, mqttPort: workRuntime.mqttPort };
    log.info(
      {
        chain: config.chain,
        listeners,
        http: operations.httpPort,
        events: operations.eventsPort,
        mqtt: workSide?.mqttPort,
        upstream: stratumOn ? `${config.upstream.host}:${config.upstream.port}` : 'off',
      },
      'gateway started',
    );
    return new Gateway(config, bus, upstream, jobs, hub, verifier, apiKeys, stratum, ports, listeners, log, operations, workSide, ledger, statistics);
  }

  /** SIGHUP: re-reads the TLS certificate and key (api keys reload on their own when the file changes). */
  reload(): void {
    // Never rejects: a failed reload keeps the current certificate and logs why.
    for (const tls of this.stratum.tls) void tls.reloadCertificates();
  }

  /**
   * Graceful shutdown: stop taking connections and solutions, let solutions already in verification finish
   * (a block among them is still forwarded), give the node time to answer forwarded blocks, then close.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.log.info('gateway stopping');
    await this.work?.runtime.stop();
    await Promise.allSettled([...transportsOf(this.stratum).map((t) => t.close()), this.operations.close()]);
    this.hub.close();
    await this.hub.drainVerification();
    await this.verifier.close();
    this.jobs.close();
    await this.upstream.stop(Math.floor(this.config.shutdownTimeoutMs / 2));
    this.apiKeys.close();
    await this.statistics?.stop();
    // Last: every share answered and every block outcome the node sent is in the books before the process exits.
    await this.ledger?.close(Math.floor(this.config.shutdownTimeoutMs / 4));
    this.log.info('gateway stopped');
  }
}

function transportsOf(stratum: StratumListeners): Transport[] {
  return stratum.listeners.map((l) => l.transport);
}
