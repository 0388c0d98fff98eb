// Cross-field rules of the work service's configuration (convict checks each key alone); docs/work-service.md.
import { ConfigError } from './errors.js';
import type { GatewayConfig } from './schema.js';

export function checkWorkConfig(cfg: GatewayConfig): void {
  const { work, mqtt } = cfg;
  const fail = (message: string): never => {
    throw new ConfigError(message);
  };
  if (!/^[0-9a-f]{16}$/.test(work.baseDifficulty)) fail('work.baseDifficulty must be 16 lowercase hex digits');
  if (!(work.paymentFactor >= 0) || !Number.isFinite(work.paymentFactor)) fail('work.paymentFactor must be a finite number >= 0');
  if (!(work.defaultTimeoutS > 0) || !(work.maxTimeoutS >= work.defaultTimeoutS) || work.maxTimeoutS > 600) {
    fail('work.defaultTimeoutS must be > 0 and <= work.maxTimeoutS <= 600');
  }
  if (!(work.serviceRatePerS > 0) || work.serviceBurst < 1) fail('work.serviceRatePerS must be > 0 and work.serviceBurst >= 1');
  if (work.maxOpenJobs < 1 || work.maxWaitersPerJob < 1 || work.cacheSize < 1 || work.trackedAccounts < 1) {
    fail('work.maxOpenJobs, maxWaitersPerJob, cacheSize and trackedAccounts must be >= 1');
  }
  if (work.heartbeatMs < 100 || work.statisticsMs < 1000) fail('work.heartbeatMs must be >= 100 and work.statisticsMs >= 1000');
  if (work.nodeReconnectMinMs > work.nodeReconnectMaxMs) fail('work.nodeReconnectMinMs must not exceed work.nodeReconnectMaxMs');
  if (work.nodeWsUrl !== '' && !/^wss?:\/\//.test(work.nodeWsUrl)) fail('work.nodeWsUrl must start with ws:// or wss://');
  if (!work.enabled) return;
  if ((mqtt.port === 0) === (mqtt.url === '')) fail('work.enabled needs exactly one of mqtt.port (embedded broker) or mqtt.url (external broker)');
  if (mqtt.url !== '' && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqtt.url)) fail('mqtt.url must start with mqtt://, mqtts://, ws:// or wss://');
  if (cfg.http.port === 0) fail('work.enabled needs http.port: services ask for work with POST / on it');
  // Worker credit lives in the books (docs/ledger.md "Work credit"); credit that vanishes on restart is unpaid work.
  if (cfg.ledger.url === 'none') {
    fail('work.enabled needs books for worker credit, but ledger.url is none: set ledger.url to sqlite:PATH or postgres://… (sqlite::memory: for throwaway credit, e.g. a demo)');
  }
}
