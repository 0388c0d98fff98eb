// The composition root: builds the one data path of docs/architecture.md from its parts and owns their lifetimes.
// node ─▶ Upstream ─▶ JobBook ─▶ MinerHub/Session × N ─▶ transports; solutions ─▶ VerifierPool ─▶ Upstream.
import type { Logger } from './config/logger.js';
import type { GatewayConfig } from './config/schema.js';
import { EventBus } from './events/EventBus.js';
import { JobBook } from './jobs/JobBook.js';
import { ApiKeys } from './stratum/ApiKeys.js';
import { MinerHub } from './stratum/MinerHub.js';
import { VerifierPool } from './pow/VerifierPool.js';
import { createStratumListeners, type StratumListenerSpec, type StratumListeners } from './transports/createTransports.js';
import { resolvePortProfiles } from './stratum/portProfiles.js';
import type { Transport } from './transports/ListenerBase.js';
import type { TransportKind } from './transports/types.js';
import { checkDescriptorBudget, readOpenFileLimit } from './transports/descriptorBudget.js';
import { NodeLink } from './upstream/NodeLink.js';
import type { Upstream } from './upstream/types.js';
// ---- operations (docs/operations.md) ----
import { GatewayMetrics } from './metrics/GatewayMetrics.js';
import { hubSessionDirectory } from './operations/hubSessionDirectory.js';
import { startOperations, type Operations } from './Operations.js';
import type { SolutionVerifier } from './pow/types.js';

export interface GatewayDeps {
  readonly logger: Logger;
  /** Default: a new bus. Pass one to subscribe before anything is emitted. */
  readonly bus?: EventBus;
  /** Default: a NodeLink to cfg.upstream. */
  readonly upstream?: Upstream;
  /** The process's soft open-file limit (default: read from /proc/self/limits); tests pin it. */
  readonly openFileLimit?: number;
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
  ) {}

  static async start(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
    const log = deps.logger;
    // Hostile peers (docs/hostile-peers.md): miners can never take the node link's descriptor.
    const openFileLimit = deps.openFileLimit ?? readOpenFileLimit();
    checkDescriptorBudget(config.stratum.maxConnections, openFileLimit); // throws TransportError FD_LIMIT
    if (openFileLimit === undefined) log.warn('open-file limit unknown (no /proc/self/limits): stratum.maxConnections not checked against it');
    const bus = deps.bus ?? new EventBus({ logger: log });
    const upstream = deps.upstream ?? new NodeLink({ config: config.upstream, logger: log, bus });
    // Metrics are made before the data path so verification is timed.
    const metrics = new GatewayMetrics();
    const verifier = metrics.timeVerifier(new VerifierPool());
    const jobs = new JobBook({
      chain: config.chain,
      minerJobLatencyMs: config.stratum.minerJobLatencyMs,
      jobHistory: config.stratum.jobHistory,
      upstream,
      logger: log,
      bus,
    });
    const apiKeys = new ApiKeys({ file: config.stratum.apiKeysFile, logger: log });
    const profiles = resolvePortProfiles(config.stratum);
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
    });
    const specs: StratumListenerSpec[] = profiles.flatMap((profile) =>
      profile.listeners.map((l) => ({ kind: l.transport, host: l.host, port: l.port, tlsCertFile: l.tlsCertFile, tlsKeyFile: l.tlsKeyFile, profile: profile.name, acceptor: hub.acceptorFor(profile.name) })),
    );
    let stratum: StratumListeners;
    try {
      stratum = createStratumListeners(config.stratum, specs, log, { admission: hub.admits });
    } catch (err) {
      hub.close();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      throw err;
    }
    const ports: BoundPorts = {};
    const listeners: BoundListener[] = [];
    try {
      for (const { spec, transport } of stratum.listeners) {
        const port = await transport.listen();
        if (spec.profile === 'default') ports[transport.kind] = port;
        listeners.push({ profile: spec.profile, transport: transport.kind, host: spec.host, port });
      }
    } catch (err) {
      await Promise.allSettled(transportsOf(stratum).map((t) => t.close()));
      hub.close();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      throw err;
    }
    // Operations (docs/operations.md): the one place where the gateway's own bus consumers are registered
    // (statistics, metrics, event API), before the node link starts so they miss nothing.
    let operations: Operations;
    try {
      operations = await startOperations({
        config,
        bus,
        logger: log,
        sessions: hubSessionDirectory(hub, listeners),
        bans: hub.bans,
        metrics,
        upstreamUp: () => upstream.isUp,
        ports,
        reload: async () => {
          await apiKeys.reload();
          const results = await Promise.all(stratum.tls.map((tls) => tls.reloadCertificates()));
          return { apiKeys: apiKeys.size, tlsCertificate: results.length === 0 ? 'off' : results.every(Boolean) };
        },
      });
    } catch (err) {
      await Promise.allSettled(transportsOf(stratum).map((t) => t.close()));
      hub.close();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      throw err;
    }
    upstream.start();
    log.info(
      { chain: config.chain, listeners, http: operations.httpPort, events: operations.eventsPort, upstream: `${config.upstream.host}:${config.upstream.port}` },
      'gateway started',
    );
    return new Gateway(config, bus, upstream, jobs, hub, verifier, apiKeys, stratum, ports, listeners, log, operations);
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
    await Promise.allSettled([...transportsOf(this.stratum).map((t) => t.close()), this.operations.close()]);
    this.hub.close();
    await this.verifier.close();
    this.jobs.close();
    await this.upstream.stop(Math.floor(this.config.shutdownTimeoutMs / 2));
    this.apiKeys.close();
    this.log.info('gateway stopped');
  }
}

function transportsOf(stratum: StratumListeners): Transport[] {
  return stratum.listeners.map((l) => l.transport);
}
