// The whole configuration, validated by convict. Sources, later wins: defaults < file < env < CLI args.
import convict from 'convict';
import { CHAIN_NAMES, type ChainName } from '../pow/variants.js';
import type { LedgerConfig } from '../ledger/Ledger.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface UpstreamConfig {
  host: string;
  port: number;
  tls: boolean;
  tlsVerify: boolean;
  tlsCaFile: string;
  apiKey: string;
  connectTimeoutMs: number;
  loginTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  resultTimeoutMs: number;
  maxLineBytes: number;
}

export interface StratumConfig {
  host: string;
  port: number;
  tlsPort: number;
  wsPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  apiKeysFile: string;
  noncePrefixDigits: number;
  minerJobLatencyMs: number;
  shareDifficulty: number;
  maxLineBytes: number;
  loginTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  malformedBudget: number;
  maxPendingSolutions: number;
  maxSendQueueBytes: number;
  jobHistory: number;
}

export interface GatewayConfig {
  chain: ChainName;
  instanceId: string;
  log: { level: LogLevel };
  upstream: UpstreamConfig;
  stratum: StratumConfig;
  ledger: LedgerConfig;
  http: { host: string; port: number };
  shutdownTimeoutMs: number;
}

/** An integer in [min, max] (convict format). */
function intIn(min: number, max: number): (value: unknown) => void {
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new Error(`must be an integer from ${min} to ${max}`);
  };
}

export const configSchema: convict.Schema<GatewayConfig> = {
  chain: {
    doc: 'Chain whose PoW rules apply (fork heights decide BeamHash I/II/III by job height).',
    format: CHAIN_NAMES,
    default: 'devnet',
    env: 'EQUIGATE_CHAIN',
    arg: 'chain',
  },
  instanceId: {
    doc: 'Gateway instance digits (even-length lowercase hex, 0–4 digits) placed after the upstream prefix in every miner nonce prefix, so several gateways behind one node never overlap.',
    format: String,
    default: '',
    env: 'EQUIGATE_INSTANCE_ID',
    arg: 'instance-id',
  },
  log: {
    level: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'EQUIGATE_LOG_LEVEL',
      arg: 'log-level',
    },
  },
  upstream: {
    host: { doc: 'Node stratum host.', format: String, default: '127.0.0.1', env: 'EQUIGATE_UPSTREAM_HOST', arg: 'upstream-host' },
    port: { doc: 'Node stratum port.', format: 'port', default: 10000, env: 'EQUIGATE_UPSTREAM_PORT', arg: 'upstream-port' },
    tls: { doc: 'Use TLS to the node (the node default is stratum_use_tls=true).', format: Boolean, default: true, env: 'EQUIGATE_UPSTREAM_TLS', arg: 'upstream-tls' },
    tlsVerify: {
      doc: 'Verify the node certificate. Off by default: nodes serve a self-signed stratum.crt. Turn on with tlsCaFile when the node has a certificate you can check.',
      format: Boolean,
      default: false,
      env: 'EQUIGATE_UPSTREAM_TLS_VERIFY',
      arg: 'upstream-tls-verify',
    },
    tlsCaFile: { doc: 'PEM CA bundle to verify the node certificate with (implies nothing unless tlsVerify).', format: String, default: '', env: 'EQUIGATE_UPSTREAM_TLS_CA', arg: 'upstream-tls-ca' },
    apiKey: { doc: 'api_key sent in login (a line of the node stratum.api.keys).', format: String, default: '', env: 'EQUIGATE_UPSTREAM_API_KEY', arg: 'upstream-api-key', sensitive: true },
    connectTimeoutMs: { doc: 'Give up a connection attempt after this long.', format: 'nat', default: 10000, env: 'EQUIGATE_UPSTREAM_CONNECT_TIMEOUT_MS' },
    loginTimeoutMs: { doc: 'Give up waiting for the login result after this long.', format: 'nat', default: 10000, env: 'EQUIGATE_UPSTREAM_LOGIN_TIMEOUT_MS' },
    reconnectMinMs: { doc: 'First reconnect delay (doubles each failure, with jitter).', format: 'nat', default: 500, env: 'EQUIGATE_UPSTREAM_RECONNECT_MIN_MS' },
    reconnectMaxMs: { doc: 'Cap of the reconnect delay.', format: 'nat', default: 30000, env: 'EQUIGATE_UPSTREAM_RECONNECT_MAX_MS' },
    resultTimeoutMs: { doc: 'How long to wait for the node result of a forwarded block before logging it as unanswered.', format: 'nat', default: 30000, env: 'EQUIGATE_UPSTREAM_RESULT_TIMEOUT_MS' },
    maxLineBytes: { doc: 'Largest line accepted from the node (the node itself allows 65,536).', format: 'nat', default: 65536 },
  },
  stratum: {
    host: { doc: 'Address the miner listeners bind to.', format: String, default: '0.0.0.0', env: 'EQUIGATE_STRATUM_HOST', arg: 'stratum-host' },
    port: { doc: 'Plain TCP stratum port (0 = off).', format: 'port', default: 3333, env: 'EQUIGATE_STRATUM_PORT', arg: 'stratum-port' },
    tlsPort: { doc: 'TLS stratum port (0 = off; needs tlsCertFile and tlsKeyFile).', format: 'port', default: 0, env: 'EQUIGATE_STRATUM_TLS_PORT', arg: 'stratum-tls-port' },
    wsPort: { doc: 'WebSocket stratum port, one JSON message per frame (0 = off).', format: 'port', default: 0, env: 'EQUIGATE_STRATUM_WS_PORT', arg: 'stratum-ws-port' },
    tlsCertFile: { doc: 'PEM certificate (chain) for the TLS port; reloaded on SIGHUP.', format: String, default: '', env: 'EQUIGATE_STRATUM_TLS_CERT' },
    tlsKeyFile: { doc: 'PEM private key for the TLS port; reloaded on SIGHUP.', format: String, default: '', env: 'EQUIGATE_STRATUM_TLS_KEY' },
    apiKeysFile: {
      doc: 'Miner api keys, one per line (lines shorter than 8 characters ignored), reloaded on change. Empty = open access (logged loudly).',
      format: String,
      default: '',
      env: 'EQUIGATE_STRATUM_API_KEYS_FILE',
      arg: 'stratum-api-keys-file',
    },
    noncePrefixDigits: { doc: 'Per-session hex digits of the nonce prefix (0–6, even).', format: 'nat', default: 4, env: 'EQUIGATE_STRATUM_NONCE_PREFIX_DIGITS' },
    minerJobLatencyMs: { doc: 'At most one tx-pool job refresh per this many ms; new tips go out at once.', format: 'nat', default: 1000, env: 'EQUIGATE_STRATUM_MINER_JOB_LATENCY_MS' },
    shareDifficulty: { doc: 'Share difficulty (float, e.g. 1 or 256); rounded down to a packed difficulty.', format: Number, default: 1, env: 'EQUIGATE_STRATUM_SHARE_DIFFICULTY', arg: 'share-difficulty' },
    maxLineBytes: { doc: 'Longest line or WebSocket frame accepted from a miner; longer closes the connection.', format: 'nat', default: 4096 },
    loginTimeoutMs: { doc: 'Close a connection that has not logged in after this long.', format: 'nat', default: 15000 },
    idleTimeoutMs: { doc: 'Close a connection silent for this long.', format: 'nat', default: 600000 },
    maxConnections: { doc: 'Most miner connections overall.', format: 'nat', default: 20000 },
    maxConnectionsPerIp: { doc: 'Most miner connections from one IP address.', format: 'nat', default: 256 },
    malformedBudget: { doc: 'Malformed or unknown messages answered with an error before the connection is closed.', format: 'nat', default: 10 },
    maxPendingSolutions: { doc: 'Solutions of one connection awaiting verification at once; more are refused (-32004) and count against malformedBudget.', format: 'nat', default: 64 },
    maxSendQueueBytes: { doc: 'Bytes queued to a slow reader before it is dropped.', format: 'nat', default: 262144 },
    jobHistory: { doc: 'Jobs of the current tip kept to judge late solutions (the node keeps 64).', format: 'nat', default: 64 },
  },
  // --- ledger (src/ledger/, docs/ledger.md) ---
  ledger: {
    url: {
      doc: 'The books: sqlite:PATH (embedded, directory created), postgres://USER@HOST:PORT/DB (shared by gateways) or none (no books, logged loudly).',
      format: String,
      default: 'sqlite:./data/equigate.sqlite',
      env: 'EQUIGATE_LEDGER_URL',
      arg: 'ledger-url',
    },
    commitDelayMs: { doc: 'Group commit: shares arriving within this many ms are written in one transaction before their replies (0 = the next event-loop turn).', format: intIn(0, 100), default: 2, env: 'EQUIGATE_LEDGER_COMMIT_DELAY_MS' },
    maxBatch: { doc: 'Most shares in one transaction.', format: intIn(1, 100_000), default: 2000 },
    maxBufferedShares: { doc: 'Shares waiting for the ledger at once; beyond it (or while it is down) shares are answered as not credited.', format: intIn(1, 1_000_000), default: 20000 },
    shareWaitMs: { doc: 'Longest a share waits for an unavailable ledger before it is answered as not credited.', format: intIn(10, 60_000), default: 3000 },
    retryMinMs: { doc: 'First retry delay after a failed write (doubles up to retryMaxMs).', format: intIn(10, 60_000), default: 100 },
    retryMaxMs: { doc: 'Longest retry delay after failed writes.', format: intIn(10, 600_000), default: 5000 },
    retentionHours: {
      doc: 'Share rows older than this are rolled up into hourly per-miner aggregates (0 = keep every row; else at least 2, so the 1 h hashrate window always reads raw rows).',
      format: (value: unknown) => {
        if (value !== 0) intIn(2, 100_000)(value);
      },
      default: 72,
      env: 'EQUIGATE_LEDGER_RETENTION_HOURS',
    },
    sqliteSynchronous: { doc: 'SQLite synchronous: normal (survives a process crash; power loss may lose the last commits) or full (fsync every commit).', format: ['normal', 'full'], default: 'normal', env: 'EQUIGATE_LEDGER_SQLITE_SYNCHRONOUS' },
    timeoutMs: { doc: 'PostgreSQL connect and statement timeout.', format: intIn(100, 600_000), default: 5000 },
  },
  // --- end ledger ---
  http: {
    host: { doc: 'Address of the HTTP listener (metrics, health, dashboard).', format: String, default: '127.0.0.1', env: 'EQUIGATE_HTTP_HOST' },
    port: { doc: 'HTTP port (0 = off).', format: 'port', default: 8080, env: 'EQUIGATE_HTTP_PORT', arg: 'http-port' },
  },
  shutdownTimeoutMs: { doc: 'Graceful shutdown gives up and exits after this long.', format: 'nat', default: 10000 },
};

