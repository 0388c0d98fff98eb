// Loads and validates the gateway configuration: defaults < --config FILE (JSON) < environment < CLI args.
import convict from 'convict';
import { configSchema, type GatewayConfig } from './schema.js';
import { checkWorkConfig } from '../work/config.js';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

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

export function loadConfig(options: LoadOptions = {}): GatewayConfig {
  const config = convict<GatewayConfig>(configSchema, { args: options.args ?? [], env: options.env ?? process.env });
  try {
    if (options.file) config.loadFile(options.file);
    if (options.overrides) config.load(options.overrides);
    config.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const cfg = config.getProperties();
  checkRules(cfg);
  try {
    checkWorkConfig(cfg);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  return cfg;
}

/** The schema's documentation, for `equigate config --help`-style output and the README table. */
export function describeConfig(): string {
  return convict<GatewayConfig>(configSchema, { args: [], env: {} }).getSchemaString();
}
