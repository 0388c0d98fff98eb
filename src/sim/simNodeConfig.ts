// Configuration of the simulated node (`equigate sim-node`): convict schema, JSON file + CLI flags, script loading.
// The knobs mirror the real node's (docs/node-protocol.md): TLS on by default, api keys file, miner_job_latency.
import fs from 'node:fs';
import convict from 'convict';
import { CHAIN_NAMES, type ChainName } from '../pow/variants.js';
import { isValidPacked } from '../pow/difficulty.js';
import { loadValidated } from '../config/load.js';
import type { LogLevel } from '../config/schema.js';

export class SimNodeConfigError extends Error {
  readonly code = 'SIMNODE_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SimNodeConfigError';
  }
}

/** One job the node serves verbatim (scripted mode), e.g. a real block so a known solution can be replayed. */
export interface ScriptedJob {
  /** 32-byte hex. */
  readonly input: string;
  readonly height: number;
  /** Block target, packed (docs/pow.md). */
  readonly difficulty: number;
  /** Block hash the node answers with when this job is solved (else a synthetic one). */
  readonly blockhash?: string;
}

export interface SimNodeFileConfig {
  host: string;
  port: number;
  tls: boolean;
  tlsCertFile: string;
  tlsKeyFile: string;
  apiKeysFile: string;
  noncePrefix: string;
  chain: ChainName;
  startHeight: number;
  difficulty: number;
  blockIntervalMs: number;
  minerJobLatencyMs: number;
  txIntervalMs: number;
  scriptFile: string;
  maxLineBytes: number;
  loginTimeoutMs: number;
  maxConnections: number;
  logLevel: LogLevel;
}

export const simNodeSchema: convict.Schema<SimNodeFileConfig> = {
  host: { doc: 'Address to listen on.', format: String, default: '127.0.0.1', arg: 'host' },
  port: { doc: 'Stratum port (0 = any free port; the real node defaults to 10000).', format: 'port', default: 10000, arg: 'port' },
  tls: { doc: 'Serve TLS (node default stratum_use_tls=true); false = plain TCP.', format: Boolean, default: true, arg: 'tls' },
  tlsCertFile: { doc: 'PEM certificate (stratum.crt); empty = self-signed, generated at start.', format: String, default: '', arg: 'tls-cert' },
  tlsKeyFile: { doc: 'PEM key (stratum.key); empty = generated with the certificate.', format: String, default: '', arg: 'tls-key' },
  apiKeysFile: {
    doc: 'stratum.api.keys: one key per line, lines < 8 chars ignored, reloaded when its mtime changes; empty or missing = any key.',
    format: String,
    default: '',
    arg: 'api-keys',
  },
  noncePrefix: { doc: 'nonceprefix given at login (0–6 hex digits; empty = none).', format: String, default: '', arg: 'nonce-prefix' },
  chain: { doc: 'Chain rules: devnet (Equihash(48,5), CPU-solvable) or a real chain (variant by height).', format: CHAIN_NAMES, default: 'devnet', arg: 'chain' },
  startHeight: { doc: 'Height of the first block mined.', format: 'nat', default: 1, arg: 'start-height' },
  difficulty: { doc: 'Block difficulty as a float (rounded down to packed); 1 = every valid solution is a block.', format: Number, default: 1, arg: 'difficulty' },
  blockIntervalMs: { doc: 'A new tip (someone else found a block) every this many ms; 0 = only when our block is accepted.', format: 'nat', default: 60000, arg: 'block-interval' },
  minerJobLatencyMs: { doc: 'miner_job_latency: a tx-pool refresh waits this long and is sent only if fees rose.', format: 'nat', default: 1000, arg: 'miner-job-latency' },
  txIntervalMs: { doc: 'Simulated fee rises every this many ms (0 = none).', format: 'nat', default: 0, arg: 'tx-interval' },
  scriptFile: { doc: 'JSON jobs to serve in order (array of {input,height,difficulty,blockhash?} or a vectors file); empty = generated.', format: String, default: '', arg: 'script' },
  maxLineBytes: { doc: 'Longest line accepted (the node allows 65,536 bytes).', format: 'nat', default: 65536 },
  loginTimeoutMs: { doc: 'Close connections that do not log in within this time.', format: 'nat', default: 30000, arg: 'login-timeout' },
  maxConnections: { doc: 'Most simultaneous connections.', format: 'nat', default: 1024, arg: 'max-connections' },
  logLevel: { doc: 'Log level.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', arg: 'log-level' },
};

const PREFIX_RE = /^[0-9a-fA-F]{0,6}$/;
const INPUT_RE = /^[0-9a-fA-F]{64}$/;
const HASH_RE = /^[0-9a-fA-F]{64}$/;

/** Cross-field and value checks shared by the CLI and the programmatic API. */
export function checkSimNodeValues(v: { noncePrefix?: string; difficulty?: number; startHeight?: number }): void {
  if (v.noncePrefix !== undefined && !PREFIX_RE.test(v.noncePrefix)) {
    throw new SimNodeConfigError('noncePrefix must be 0–6 hex digits (docs/node-protocol.md)');
  }
  if (v.difficulty !== undefined && !(Number.isFinite(v.difficulty) && v.difficulty > 0)) {
    throw new SimNodeConfigError('difficulty must be a finite number > 0');
  }
  if (v.startHeight !== undefined && !(Number.isSafeInteger(v.startHeight) && v.startHeight >= 0)) {
    throw new SimNodeConfigError('startHeight must be a non-negative integer');
  }
}

function toScriptedJob(entry: unknown, index: number): ScriptedJob {
  if (typeof entry !== 'object' || entry === null) throw new SimNodeConfigError(`script[${index}] is not an object`);
  const e = entry as Record<string, unknown>;
  // Accept both the script shape and the vectors shape (packed_difficulty, block_hash).
  const difficulty = e.difficulty ?? e.packed_difficulty;
  const blockhash = e.blockhash ?? e.block_hash;
  if (typeof e.input !== 'string' || !INPUT_RE.test(e.input)) throw new SimNodeConfigError(`script[${index}].input must be 32-byte hex`);
  if (typeof e.height !== 'number' || !Number.isSafeInteger(e.height) || e.height < 0) {
    throw new SimNodeConfigError(`script[${index}].height must be a non-negative integer`);
  }
  if (typeof difficulty !== 'number' || !isValidPacked(difficulty)) throw new SimNodeConfigError(`script[${index}].difficulty must be a packed u32`);
  if (blockhash !== undefined && (typeof blockhash !== 'string' || !HASH_RE.test(blockhash))) {
    throw new SimNodeConfigError(`script[${index}].blockhash must be 32-byte hex`);
  }
  const job = { input: e.input.toLowerCase(), height: e.height, difficulty };
  return typeof blockhash === 'string' ? { ...job, blockhash: blockhash.toLowerCase() } : job;
}

/**
 * Scripted jobs from parsed JSON: an array of jobs, or a vectors file ({valid:[…]}) whose entries with a
 * height and packed_difficulty become jobs (the others are skipped).
 */
export function parseScript(json: unknown): ScriptedJob[] {
  if (Array.isArray(json)) return json.map(toScriptedJob);
  if (typeof json === 'object' && json !== null && Array.isArray((json as { valid?: unknown }).valid)) {
    const entries = (json as { valid: unknown[] }).valid.filter(
      (e): e is Record<string, unknown> => typeof e === 'object' && e !== null && 'height' in e && 'packed_difficulty' in e,
    );
    return entries.map(toScriptedJob);
  }
  throw new SimNodeConfigError('script must be an array of jobs or a vectors file with a "valid" array');
}

export function loadScriptFile(file: string): ScriptedJob[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SimNodeConfigError(`cannot read script ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseScript(json);
}

/** defaults < JSON file < `--flag value` args. */
export function loadSimNodeConfig(options: { file?: string; args?: string[] } = {}): SimNodeFileConfig {
  let cfg: SimNodeFileConfig;
  try {
    cfg = loadValidated(simNodeSchema, { file: options.file, args: options.args ?? [], env: {} });
  } catch (err) {
    throw new SimNodeConfigError(err instanceof Error ? err.message : String(err));
  }
  checkSimNodeValues(cfg);
  return cfg;
}
