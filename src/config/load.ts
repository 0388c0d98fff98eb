// Loads and validates the gateway configuration: defaults < --config FILE (JSON) < environment < CLI args.
import convict from 'convict';
import { configSchema, type GatewayConfig } from './schema.js';
import { ConfigError } from './errors.js';
import { checkWorkConfig } from './workRules.js';

export { ConfigError };

const HEX_EVEN_RE = /^(?:[0-9a-f]{2})*$/;

/** Cross-field rules convict's per-field formats cannot express. */
function checkRules(cfg: GatewayConfig): void {
  const { stratum } = cfg;
  if (stratum.noncePrefixDigits > 6 || stratum.noncePrefixDigits % 2 !== 0) {
    throw new ConfigError('stratum.noncePrefixDigits must be 0, 2, 4 or 6 (miners read the prefix as whole bytes)');
  }
  if (!HEX_EVEN_RE.test(cfg.instanceId) || cfg.instanceId.length > 4) {
    throw new ConfigError('instanceId must be 0, 2 or 4 lowercase hex digits');
  }
  if (stratum.tlsPort !== 0 && (stratum.tlsCertFile === '' || stratum.tlsKeyFile === '')) {
    throw new ConfigError('stratum.tlsPort needs stratum.tlsCertFile and stratum.tlsKeyFile');
  }
  if (!(stratum.shareDifficulty >= 1) || !Number.isFinite(stratum.shareDifficulty)) {
    throw new ConfigError('stratum.shareDifficulty must be a finite number >= 1');
  }
  if (cfg.upstream.reconnectMinMs > cfg.upstream.reconnectMaxMs) {
    throw new ConfigError('upstream.reconnectMinMs must not exceed upstream.reconnectMaxMs');
  }
  if (stratum.maxLineBytes < 512) throw new ConfigError('stratum.maxLineBytes must be at least 512');
  checkOperationsRules(cfg);
}

/** events.* and admin.* ranges (docs/event-api.md). */
function checkOperationsRules(cfg: GatewayConfig): void {
  const { events } = cfg;
  if (events.statisticsIntervalS < 10 || events.statisticsIntervalS > 86_400) throw new ConfigError('events.statisticsIntervalS must be 10–86400');
  if (events.heartbeatIntervalMs < 100 || events.heartbeatIntervalMs > 60_000) throw new ConfigError('events.heartbeatIntervalMs must be 100–60000');
  if (events.batchMs < 1 || events.batchMs > 1000) throw new ConfigError('events.batchMs must be 1–1000');
  if (events.maxFrameBytes < 256) throw new ConfigError('events.maxFrameBytes must be at least 256');
  if (events.maxQueueBytes < 65_536) throw new ConfigError('events.maxQueueBytes must be at least 65536');
  if (events.pingIntervalMs !== 0 && events.pingIntervalMs < 1000) throw new ConfigError('events.pingIntervalMs must be 0 (off) or at least 1000');
  if (events.wsPort !== 0 && events.wsPort === cfg.http.port) throw new ConfigError('events.wsPort and http.port must differ (the event API has its own listener)');
  if (cfg.admin.token !== '' && cfg.admin.token.length < 16) throw new ConfigError('admin.token must be at least 16 characters (or empty: admin API off)');
  if (events.token !== '' && events.token.length < 8) throw new ConfigError('events.token must be at least 8 characters (or empty: open)');
}

export interface LoadOptions {
  /** Path of a JSON config file. */
  file?: string;
  /** Overrides applied after file and environment (tests, embedded demo). */
  overrides?: Partial<Record<string, unknown>>;
  /** Command-line arguments convict reads `--flag value` pairs from (default: none). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Any convict schema, loaded the one way: defaults < file < overrides < environment < args, strict (unknown keys
 * are an error). Failures are ConfigError. Used for the gateway's config and the simulated node's.
 */
export function loadValidated<T>(schema: convict.Schema<T>, options: LoadOptions = {}): T {
  const config = convict<T>(schema, { args: options.args ?? [], env: options.env ?? process.env });
  try {
    if (options.file) config.loadFile(options.file);
    if (options.overrides) config.load(options.overrides);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  return config.getProperties();
}

export function loadConfig(options: LoadOptions = {}): GatewayConfig {
  const cfg = loadValidated(configSchema, options);
  checkRules(cfg);
  checkWorkConfig(cfg);
  return cfg;
}

/** The schema's documentation, for `equigate config --help`-style output and the README table. */
export function describeConfig(): string {
  return convict<GatewayConfig>(configSchema, { args: [], env: {} }).getSchemaString();
}
