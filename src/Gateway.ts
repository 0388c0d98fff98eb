// The composition root: builds the one data path of design.md §1 from its parts and owns their lifetimes.
// node ─▶ Upstream ─▶ JobBook ─▶ MinerHub/Session × N ─▶ transports; solutions ─▶ VerifierPool ─▶ Upstream.
import { silentLogger, type Logger } from './config/logger.js';
import type { GatewayConfig } from './config/schema.js';
import { EventBus } from './events/EventBus.js';
import { JobBook } from './jobs/JobBook.js';
import { ApiKeys } from './miners/ApiKeys.js';
import { MinerHub } from './miners/MinerHub.js';
import { VerifierPool } from './pow/VerifierPool.js';
import { createStratumTransports, type StratumTransports } from './transports/createTransports.js';
import type { TransportKind } from './transports/types.js';
import { NodeLink } from './upstream/NodeLink.js';
import type { Upstream } from './upstream/types.js';
import { HttpServer } from './http/HttpServer.js';
import { startWorkService, type WorkServiceRuntime } from './work/startWorkService.js';

/** The work service beside (or instead of) stratum, with the HTTP listener its RPC is mounted on. */
export interface WorkSide {
  readonly runtime: WorkServiceRuntime;
  readonly http: HttpServer;
  readonly httpPort: number;
  readonly mqttPort: number | undefined;
}

export interface GatewayDeps {
  readonly logger: Logger;
  /** Default: a new bus. Pass one to subscribe before anything is emitted. */
  readonly bus?: EventBus;
  /** Default: a NodeLink to cfg.upstream. */
  readonly upstream?: Upstream;
}

export type BoundPorts = Partial<Record<TransportKind, number>>;

export class Gateway {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly bus: EventBus,
    readonly upstream: Upstream,
    readonly jobs: JobBook,
    readonly hub: MinerHub,
    private readonly verifier: VerifierPool,
    private readonly apiKeys: ApiKeys,
    private readonly stratum: StratumTransports,
    /** Ports actually bound (a configured 0 is "off", so tests bind ephemeral ports via their own config). */
    readonly ports: BoundPorts,
    private readonly log: Logger,
    /** Set when work.enabled (docs/work-service.md). */
    readonly work: WorkSide | undefined,
  ) {}

  static async start(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
    const log = deps.logger;
    const bus = deps.bus ?? new EventBus({ logger: log });
    const upstream = deps.upstream ?? new NodeLink({ config: config.upstream, logger: log, bus });
    const verifier = new VerifierPool();
    const jobs = new JobBook({
      chain: config.chain,
      minerJobLatencyMs: config.stratum.minerJobLatencyMs,
      jobHistory: config.stratum.jobHistory,
      upstream,
      logger: log,
      bus,
    });
    // With stratum off nobody can log in: its open-access warning would only mislead.
    const apiKeys = new ApiKeys({ file: config.stratum.apiKeysFile, logger: config.stratum.enabled ? log : silentLogger() });
    const hub = new MinerHub({
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
    const stratum = createStratumTransports(config.stratum, hub.accept, log);
    const ports: BoundPorts = {};
    let work: WorkSide | undefined;
    try {
      // stratum.enabled false: the work service alone, no listeners and no node link.
      if (config.stratum.enabled) for (const transport of stratum.transports) ports[transport.kind] = await transport.listen();
      if (config.work.enabled) work = await startWorkSide(config, log, bus);
    } catch (err) {
      await Promise.allSettled(stratum.transports.map((t) => t.close()));
      hub.close();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      throw err;
    }
    if (config.stratum.enabled) upstream.start();
    log.info({ chain: config.chain, ports, upstream: config.stratum.enabled ? `${config.upstream.host}:${config.upstream.port}` : 'off' }, 'gateway started');
    return new Gateway(config, bus, upstream, jobs, hub, verifier, apiKeys, stratum, ports, log, work);
  }

  /** SIGHUP: re-reads the TLS certificate and key (api keys reload on their own when the file changes). */
  reload(): void {
    // Never rejects: a failed reload keeps the current certificate and logs why.
    void this.stratum.tls?.reloadCertificates();
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
    if (this.work !== undefined) {
      await this.work.runtime.stop();
      await this.work.http.close();
    }
    await Promise.allSettled(this.stratum.transports.map((t) => t.close()));
    this.hub.close();
    await this.verifier.close();
    this.jobs.close();
    await this.upstream.stop(Math.floor(this.config.shutdownTimeoutMs / 2));
    this.apiKeys.close();
    this.log.info('gateway stopped');
  }
}

// --- work service (docs/work-service.md): its RPC on the one HTTP listener, created here until the HTTP
// capabilities (metrics, health) own it; then this takes that HttpServer instead.
async function startWorkSide(config: GatewayConfig, log: Logger, bus: EventBus): Promise<WorkSide> {
  // A work_generate may wait its full timeout plus the rate-limit wait: the handler bound must exceed both.
  const handlerTimeoutMs = Math.max(60_000, config.work.maxTimeoutS * 1000 + config.work.rateLimitMaxWaitMs + 5_000);
  const http = new HttpServer({ host: config.http.host, port: config.http.port, logger: log, handlerTimeoutMs });
  let runtime: WorkServiceRuntime | undefined;
  try {
    runtime = await startWorkService(config, { logger: log, bus, http });
    const httpPort = await http.listen();
    return { runtime, http, httpPort, mqttPort: runtime.mqttPort };
  } catch (err) {
    await runtime?.stop();
    await http.close();
    throw err;
  }
}
