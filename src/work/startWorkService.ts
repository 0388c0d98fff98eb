// Composition of the work service (docs/work-service.md): broker (embedded or external), the ledger's credit
// book, services file, rate limits, the RPC on the given HttpServer, and the node WebSocket for precache. The gateway's
// composition root calls startWorkService() when work.enabled and stop() on shutdown.
import type { Logger } from '../config/logger.js';
import type { GatewayConfig } from '../config/schema.js';
import type { EventBus } from '../events/EventBus.js';
import type { HttpServer } from '../http/HttpServer.js';
import { parseU64Hex } from '../pow/nano.js';
import { EmbeddedBroker, ExternalBroker, type WorkBroker } from './broker.js';
import { NodeConfirmations } from './NodeConfirmations.js';
import { ServiceDirectory } from './ServiceDirectory.js';
import { ServiceRateLimiter } from './ServiceRateLimiter.js';
import type { WorkCreditBook } from './WorkCreditBook.js';
import { workRpcHandler } from './WorkRpc.js';
import { WorkService } from './WorkService.js';

export interface WorkServiceDeps {
  readonly logger: Logger;
  readonly bus: EventBus;
  /** The one HTTP listener; POST / is mounted on it. The caller listens and closes it. */
  readonly http: Pick<HttpServer, 'route'>;
  /** Worker credit: the open ledger's `workCredits` (docs/ledger.md "Work credit"). Its owner closes it. */
  readonly credits: WorkCreditBook;
}

export interface WorkServiceRuntime {
  readonly service: WorkService;
  readonly broker: WorkBroker;
  readonly credits: WorkCreditBook;
  readonly node: NodeConfirmations | undefined;
  /** The embedded broker's bound port, if embedded. */
  readonly mqttPort: number | undefined;
  stop(): Promise<void>;
}

export async function startWorkService(config: GatewayConfig, deps: WorkServiceDeps): Promise<WorkServiceRuntime> {
  const { logger, bus } = deps;
  const { work, mqtt } = config;
  let service: WorkService | undefined;
  const broker: WorkBroker =
    mqtt.url === ''
      ? new EmbeddedBroker({
          host: mqtt.host,
          port: mqtt.port,
          workerUsername: mqtt.workerUsername,
          workerPassword: mqtt.workerPassword,
          maxClients: mqtt.maxClients,
          logger,
          onRefused: (refused) => service?.noteForbiddenPublish(refused.clientId, refused.topic),
        })
      : new ExternalBroker({
          url: mqtt.url,
          username: mqtt.username,
          password: mqtt.password,
          connectTimeoutMs: mqtt.connectTimeoutMs,
          reconnectMs: 1000,
          logger,
        });
  const credits = deps.credits;
  const services = new ServiceDirectory({ file: work.servicesFile, logger });
  service = new WorkService({
    settings: {
      baseDifficulty: parseU64Hex(work.baseDifficulty),
      paymentFactor: work.paymentFactor,
      maxOpenJobs: work.maxOpenJobs,
      maxWaitersPerJob: work.maxWaitersPerJob,
      precacheInFlight: work.precacheInFlight,
      precacheQueue: work.precacheQueue,
      precacheTimeoutMs: work.precacheTimeoutMs,
      cacheSize: work.cacheSize,
      heartbeatMs: work.heartbeatMs,
      statisticsMs: work.statisticsMs,
    },
    broker,
    credits,
    services,
    bus,
    logger,
  });
  try {
    await broker.start();
  } catch (err) {
    services.close();
    throw err;
  }
  service.start();
  deps.http.route(
    'POST',
    '/',
    workRpcHandler({
      service,
      services,
      limiter: new ServiceRateLimiter(work.rateLimitMaxWaitMs),
      settings: {
        defaultTimeoutMs: Math.round(work.defaultTimeoutS * 1000),
        maxTimeoutMs: Math.round(work.maxTimeoutS * 1000),
        defaultRate: { ratePerS: work.serviceRatePerS, burst: work.serviceBurst },
      },
      logger,
    }),
    // A work_generate may wait its whole timeout plus the rate-limit wait: the handler bound must exceed both.
    { timeoutMs: Math.round(work.maxTimeoutS * 1000) + work.rateLimitMaxWaitMs + 5_000 }
  );
  const node =
    work.nodeWsUrl === ''
      ? undefined
      : new NodeConfirmations({
          url: work.nodeWsUrl,
          sink: service,
          bus,
          logger,
          pingIntervalMs: work.nodePingMs,
          reconnectMinMs: work.nodeReconnectMinMs,
          reconnectMaxMs: work.nodeReconnectMaxMs,
          trackLimit: work.trackedAccounts,
        });
  node?.start();
  const running = service;
  logger.info({ broker: mqtt.url === '' ? `embedded :${broker.port ?? '?'}` : 'external', precache: node !== undefined }, 'work service started');
  return {
    service: running,
    broker,
    credits,
    node,
    mqttPort: broker.port,
    async stop(): Promise<void> {
      node?.stop();
      running.close();
      services.close();
      await broker.close();
    },
  };
}
