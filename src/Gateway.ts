// The composition root: builds the one data path of design.md §1 from its parts and owns their lifetimes.
// node ─▶ Upstream ─▶ JobBook ─▶ MinerHub/Session × N ─▶ transports; solutions ─▶ VerifierPool ─▶ Upstream.
import type { Logger } from './config/logger.js';
import type { GatewayConfig } from './config/schema.js';
import { EventBus } from './events/EventBus.js';
import { JobBook } from './jobs/JobBook.js';
import { openLedger, type Ledger } from './ledger/Ledger.js';
import { ApiKeys } from './miners/ApiKeys.js';
import { MinerHub } from './miners/MinerHub.js';
import { VerifierPool } from './pow/VerifierPool.js';
import { createStratumTransports, type StratumTransports } from './transports/createTransports.js';
import type { TransportKind } from './transports/types.js';
import { NodeLink } from './upstream/NodeLink.js';
import type { Upstream } from './upstream/types.js';

export interface GatewayDeps {
  readonly logger: Logger;
  /** Default: a new bus. Pass one to subscribe before anything is emitted. */
  readonly bus?: EventBus;
  /** Default: a NodeLink to cfg.upstream. */
  readonly upstream?: Upstream;
  /** Default: the books at cfg.ledger.url (null = run without books, as `ledger.url: none`). */
  readonly ledger?: Ledger | null;
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
    /** The books (docs/ledger.md); undefined when ledger.url is none. */
    readonly ledger: Ledger | undefined,
  ) {}

  static async start(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
    const log = deps.logger;
    const bus = deps.bus ?? new EventBus({ logger: log });
    const upstream = deps.upstream ?? new NodeLink({ config: config.upstream, logger: log, bus });
    // --- ledger: opened first (a bad URL or newer schema stops the start), closed last ---
    const ledger = deps.ledger === null ? undefined : (deps.ledger ?? (await openLedger(config.ledger, { instanceId: config.instanceId, logger: log, bus })));
    if (ledger === undefined) log.warn('ledger.url is none: NO BOOKS — accepted shares and blocks are not recorded anywhere');
    else log.info({ backend: ledger.backend }, 'ledger open');
    // --- end ledger ---
    const verifier = new VerifierPool();
    const jobs = new JobBook({
      chain: config.chain,
      minerJobLatencyMs: config.stratum.minerJobLatencyMs,
      jobHistory: config.stratum.jobHistory,
      upstream,
      logger: log,
      bus,
    });
    const apiKeys = new ApiKeys({ file: config.stratum.apiKeysFile, logger: log });
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
      shares: ledger,
    });
    const stratum = createStratumTransports(config.stratum, hub.accept, log);
    const ports: BoundPorts = {};
    try {
      for (const transport of stratum.transports) ports[transport.kind] = await transport.listen();
    } catch (err) {
      await Promise.allSettled(stratum.transports.map((t) => t.close()));
      hub.close();
      jobs.close();
      apiKeys.close();
      await verifier.close();
      await ledger?.close();
      throw err;
    }
    upstream.start();
    log.info({ chain: config.chain, ports, upstream: `${config.upstream.host}:${config.upstream.port}` }, 'gateway started');
    return new Gateway(config, bus, upstream, jobs, hub, verifier, apiKeys, stratum, ports, log, ledger);
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
    await Promise.allSettled(this.stratum.transports.map((t) => t.close()));
    this.hub.close();
    await this.verifier.close();
    this.jobs.close();
    await this.upstream.stop(Math.floor(this.config.shutdownTimeoutMs / 2));
    this.apiKeys.close();
    // Last: every share answered and every block outcome the node sent is in the books before the process exits.
    await this.ledger?.close(Math.floor(this.config.shutdownTimeoutMs / 4));
    this.log.info('gateway stopped');
  }
}
