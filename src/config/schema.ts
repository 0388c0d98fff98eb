// The whole configuration, validated by convict. Sources, later wins: defaults < file < env < CLI args.
import convict from 'convict';
import { CHAIN_NAMES, type ChainName } from '../pow/variants.js';
import { intIn } from './formats.js';

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
  enabled: boolean;
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
  // Share path under attack (docs/hostile-peers.md "Share path").
  maxPendingSolutionsPerIp: number;
  maxPendingSolutionsTotal: number;
  maxSharesPerJob: number;
  // --- port profiles, vardiff, abuse control, HTTP long-poll (docs/gateway.md "Ports and profiles") ---
  /** More listeners, each its own profile; the flat keys above are the default profile. */
  listeners: ListenerEntryInput[];
  /** Vardiff of the default profile. */
  vardiff: VardiffConfig;
  bans: BansConfig;
  /** HTTP long-poll listeners: longest wait of one poll, and how long a session lives without a request. */
  httpPollWaitMs: number;
  httpSessionTimeoutMs: number;
}

export type ListenerTransport = 'tcp' | 'tls' | 'ws' | 'http';

export interface VardiffConfig {
  enabled: boolean;
  /** Aimed-at seconds between two accepted shares of one session. */
  targetSeconds: number;
  /** A session's difficulty is reconsidered at most once per this many seconds. */
  retargetSeconds: number;
  minDifficulty: number;
  maxDifficulty: number;
  /** Largest factor one retarget may change the difficulty by (up or down). */
  maxStep: number;
  /** No change while the observed seconds per share are within this percentage of the target. */
  variancePercent: number;
}

/** One entry of stratum.listeners as written (checked by listenersFormat; defaults filled in by src/stratum/portProfiles.ts). */
export interface ListenerEntryInput {
  /** Profile name in logs and events (default `transport:port`). */
  readonly name?: string;
  readonly transport: ListenerTransport;
  /** Default stratum.host. */
  readonly host?: string;
  readonly port: number;
  /** Default stratum.noncePrefixDigits. */
  readonly noncePrefixDigits?: number;
  /** Default stratum.shareDifficulty. */
  readonly shareDifficulty?: number;
  /** Default: stratum.vardiff's values, except `enabled` (default false). */
  readonly vardiff?: Partial<VardiffConfig>;
  /** TLS only; default stratum.tlsCertFile / tlsKeyFile. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
}

export interface BansConfig {
  enabled: boolean;
  /** Judged shares of one session before its invalid ratio is looked at (and the window restarts after each look). */
  checkThreshold: number;
  /** Invalid shares above this percentage of a window ban the peer's IP (IPv6: its /64). */
  invalidPercent: number;
  banSeconds: number;
  /** Solutions one session may send per second (burst of the same size); more are refused and count as invalid. 0 = no cap. */
  maxSolutionsPerSecond: number;
  /** Most IPs banned at once (oldest expiry dropped first). */
  maxEntries: number;
}

export interface GatewayConfig {
  chain: ChainName;
  instanceId: string;
  log: { level: LogLevel; format: 'auto' | 'json' | 'pretty' };
  upstream: UpstreamConfig;
  stratum: StratumConfig;
  ledger: LedgerConfig;
  http: { host: string; port: number };
  shutdownTimeoutMs: number;
  // ---- operations (event API, admin) ----
  events: EventsConfig;
  admin: AdminConfig;
  // ---- work service ----
  mqtt: MqttConfig;
  work: WorkConfig;
}

/** SQLite's `synchronous` for the ledger (docs/ledger.md "Durability"). */
export type SqliteSynchronous = 'normal' | 'full';

/** The books (docs/ledger.md). */
export interface LedgerConfig {
  url: string;
  commitDelayMs: number;
  maxBatch: number;
  maxBufferedShares: number;
  shareWaitMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  retentionHours: number;
  sqliteSynchronous: SqliteSynchronous;
  timeoutMs: number;
  statisticsIntervalMs: number;
  probeIntervalMs: number;
}

/** The WebSocket event API (docs/event-api.md). */
export interface EventsConfig {
  host: string;
  wsPort: number;
  token: string;
  statisticsIntervalS: number;
  heartbeatIntervalMs: number;
  maxClients: number;
  maxClientsPerIp: number;
  maxQueueBytes: number;
  maxFrameBytes: number;
  batchMs: number;
  pingIntervalMs: number;
}

/** The admin JSON-RPC endpoint on http.port (docs/operations.md). */
export interface AdminConfig {
  token: string;
}

// --- port profiles: formats (docs/gateway.md "Ports and profiles") ---
function positiveNumber(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error('must be a positive number');
}

const LISTENER_KEYS = new Set(['name', 'transport', 'host', 'port', 'noncePrefixDigits', 'shareDifficulty', 'vardiff', 'tlsCertFile', 'tlsKeyFile']);
const VARDIFF_KEYS = new Set(['enabled', 'targetSeconds', 'retargetSeconds', 'minDifficulty', 'maxDifficulty', 'maxStep', 'variancePercent']);

/** Checks shape and ranges of stratum.listeners; defaults are filled in later (src/stratum/portProfiles.ts). */
function listenersFormat(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be an array of listeners');
  if (value.length > 16) throw new Error('at most 16 listeners');
  value.forEach((entry: unknown, i) => {
    const where = `listeners[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where} must be an object`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!LISTENER_KEYS.has(key)) throw new Error(`${where}: unknown key ${key}`);
    if (!['tcp', 'tls', 'ws', 'http'].includes(e.transport as string)) throw new Error(`${where}.transport must be tcp, tls, ws or http`);
    if (!Number.isInteger(e.port) || (e.port as number) < 1 || (e.port as number) > 65535) throw new Error(`${where}.port must be 1–65535`);
    for (const key of ['name', 'host', 'tlsCertFile', 'tlsKeyFile']) {
      if (e[key] !== undefined && typeof e[key] !== 'string') throw new Error(`${where}.${key} must be a string`);
    }
    if (e.noncePrefixDigits !== undefined && ![0, 2, 4, 6].includes(e.noncePrefixDigits as number)) {
      throw new Error(`${where}.noncePrefixDigits must be 0, 2, 4 or 6`);
    }
    if (e.shareDifficulty !== undefined && !(typeof e.shareDifficulty === 'number' && Number.isFinite(e.shareDifficulty) && e.shareDifficulty >= 1)) {
      throw new Error(`${where}.shareDifficulty must be a finite number >= 1`);
    }
    if (e.vardiff !== undefined) {
      if (typeof e.vardiff !== 'object' || e.vardiff === null) throw new Error(`${where}.vardiff must be an object`);
      for (const [key, v] of Object.entries(e.vardiff)) {
        if (!VARDIFF_KEYS.has(key)) throw new Error(`${where}.vardiff: unknown key ${key}`);
        if (key === 'enabled' ? typeof v !== 'boolean' : typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}.vardiff.${key} is out of range`);
      }
    }
  });
}

// --- work service (docs/work-service.md); checked further by checkWorkConfig in src/config/workRules.ts
export interface MqttConfig {
  host: string;
  port: number;
  url: string;
  username: string;
  password: string;
  workerUsername: string;
  workerPassword: string;
  maxClients: number;
  connectTimeoutMs: number;
}

export interface WorkConfig {
  enabled: boolean;
  baseDifficulty: string;
  servicesFile: string;
  paymentFactor: number;
  defaultTimeoutS: number;
  maxTimeoutS: number;
  serviceRatePerS: number;
  serviceBurst: number;
  rateLimitMaxWaitMs: number;
  maxOpenJobs: number;
  maxWaitersPerJob: number;
  precacheInFlight: number;
  precacheQueue: number;
  precacheTimeoutMs: number;
  cacheSize: number;
  heartbeatMs: number;
  statisticsMs: number;
  nodeWsUrl: string;
  nodePingMs: number;
  nodeReconnectMinMs: number;
  nodeReconnectMaxMs: number;
  trackedAccounts: number;
}

const workSchema: convict.Schema<{ mqtt: MqttConfig; work: WorkConfig }> = {
  mqtt: {
    host: { doc: 'Address the embedded MQTT broker binds to.', format: String, default: '0.0.0.0', env: 'EQUIGATE_MQTT_HOST' },
    port: { doc: 'Embedded MQTT broker (aedes) port, plain TCP (0 = off; then mqtt.url names an external broker).', format: 'port', default: 0, env: 'EQUIGATE_MQTT_PORT', arg: 'mqtt-port' },
    url: { doc: 'External MQTT broker, e.g. mqtt://127.0.0.1:1883 (Mosquitto with config/mosquitto/). Empty = embedded broker.', format: String, default: '', env: 'EQUIGATE_MQTT_URL', arg: 'mqtt-url' },
    username: { doc: 'The gateway\'s login at the external broker (its ACL grants the gateway topics).', format: String, default: '', env: 'EQUIGATE_MQTT_USERNAME' },
    password: { doc: 'Password of mqtt.username.', format: String, default: '', env: 'EQUIGATE_MQTT_PASSWORD', sensitive: true },
    workerUsername: { doc: 'Embedded broker: the username workers log in with (BoomPow clients default to "client").', format: String, default: 'client', env: 'EQUIGATE_MQTT_WORKER_USERNAME' },
    workerPassword: { doc: 'Embedded broker: the workers\' password. Empty = anyone may connect (the ACLs still apply, logged loudly).', format: String, default: '', env: 'EQUIGATE_MQTT_WORKER_PASSWORD', sensitive: true },
    maxClients: { doc: 'Embedded broker: most MQTT connections at once.', format: intIn({ min: 1, max: 1_000_000 }), default: 10000 },
    connectTimeoutMs: { doc: 'External broker: give up the first connection after this long (later outages reconnect on their own).', format: intIn({ min: 100, max: 600_000 }), default: 10000 },
  },
  work: {
    enabled: { doc: 'Run the BoomPow-compatible work service (needs mqtt.port or mqtt.url, and http.port for its RPC).', format: Boolean, default: false, env: 'EQUIGATE_WORK_ENABLED', arg: 'work-enabled' },
    baseDifficulty: { doc: 'Base threshold, 16 hex digits: no request may ask less; precache asks exactly this (Banano: fffffe0000000000).', format: String, default: 'fffffe0000000000', env: 'EQUIGATE_WORK_BASE_DIFFICULTY' },
    servicesFile: { doc: 'Services allowed to ask for work: "user sha256(key) [options]" per line, reloaded on change. Empty = open access (logged loudly).', format: String, default: '', env: 'EQUIGATE_WORK_SERVICES_FILE', arg: 'work-services-file' },
    paymentFactor: { doc: 'Coin paid per credited work unit, published as payment_factor.', format: Number, default: 0, env: 'EQUIGATE_WORK_PAYMENT_FACTOR' },
    defaultTimeoutS: { doc: 'Timeout of a work_generate without "timeout", seconds.', format: Number, default: 10 },
    maxTimeoutS: { doc: 'Largest "timeout" honoured, seconds (below the HTTP handler timeout).', format: Number, default: 50 },
    serviceRatePerS: { doc: 'Default requests per second per service (a services-file line may set rate=).', format: Number, default: 20 },
    serviceBurst: { doc: 'Default burst per service (burst=).', format: intIn({ min: 1, max: 1_000_000 }), default: 40 },
    rateLimitMaxWaitMs: { doc: 'A request over its rate waits at most this long for its turn, else is refused.', format: intIn({ min: 0, max: 600_000 }), default: 2000 },
    maxOpenJobs: { doc: 'On-demand hashes being worked on at once; more requests are refused.', format: intIn({ min: 1, max: 1_000_000 }), default: 1000 },
    maxWaitersPerJob: { doc: 'Requests waiting on one hash at once.', format: intIn({ min: 1, max: 100_000 }), default: 64 },
    precacheInFlight: { doc: 'Precache hashes being worked on at once (only while no on-demand work is open).', format: intIn({ min: 0, max: 100_000 }), default: 8 },
    precacheQueue: { doc: 'Hashes queued for precache (oldest dropped when full).', format: intIn({ min: 0, max: 10_000_000 }), default: 1000 },
    precacheTimeoutMs: { doc: 'A precache hash nobody solved is given up after this long.', format: intIn({ min: 1000, max: 86_400_000 }), default: 120000 },
    cacheSize: { doc: 'Precached works kept, and finished hashes remembered to tell late results from forged ones.', format: intIn({ min: 1, max: 10_000_000 }), default: 100000 },
    heartbeatMs: { doc: 'heartbeat topic interval.', format: intIn({ min: 100, max: 60_000 }), default: 1000 },
    statisticsMs: { doc: 'statistics topic interval (also published once at start).', format: intIn({ min: 1000, max: 86_400_000 }), default: 300000 },
    nodeWsUrl: { doc: 'Node WebSocket (ws://…) whose confirmations drive precache. Empty = no precache.', format: String, default: '', env: 'EQUIGATE_WORK_NODE_WS_URL', arg: 'work-node-ws-url' },
    nodePingMs: { doc: 'Ping the node WebSocket this often; no answer within it reconnects.', format: intIn({ min: 100, max: 600_000 }), default: 15000 },
    nodeReconnectMinMs: { doc: 'First node WebSocket reconnect delay (doubles, with jitter).', format: intIn({ min: 1, max: 600_000 }), default: 500 },
    nodeReconnectMaxMs: { doc: 'Cap of the node WebSocket reconnect delay.', format: intIn({ min: 1, max: 3_600_000 }), default: 30000 },
    trackedAccounts: { doc: 'Served roots and accounts remembered for precache (each).', format: intIn({ min: 1, max: 10_000_000 }), default: 100000 },
  },
};
// --- end work service

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
    format: {
      doc: 'Log format: auto (human lines on a terminal, JSON otherwise), json or pretty.',
      format: ['auto', 'json', 'pretty'],
      default: 'auto',
      env: 'EQUIGATE_LOG_FORMAT',
      arg: 'log-format',
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
    connectTimeoutMs: { doc: 'Give up a connection attempt after this long.', format: intIn({ min: 100, max: 600_000 }), default: 10000, env: 'EQUIGATE_UPSTREAM_CONNECT_TIMEOUT_MS' },
    loginTimeoutMs: { doc: 'Give up waiting for the login result after this long.', format: intIn({ min: 100, max: 600_000 }), default: 10000, env: 'EQUIGATE_UPSTREAM_LOGIN_TIMEOUT_MS' },
    reconnectMinMs: { doc: 'First reconnect delay (doubles each failure, with jitter).', format: intIn({ min: 10, max: 3_600_000 }), default: 500, env: 'EQUIGATE_UPSTREAM_RECONNECT_MIN_MS' },
    reconnectMaxMs: { doc: 'Cap of the reconnect delay.', format: intIn({ min: 1, max: 3_600_000 }), default: 30000, env: 'EQUIGATE_UPSTREAM_RECONNECT_MAX_MS' },
    resultTimeoutMs: { doc: 'How long to wait for the node result of a forwarded block before logging it as unanswered.', format: intIn({ min: 100, max: 3_600_000 }), default: 30000, env: 'EQUIGATE_UPSTREAM_RESULT_TIMEOUT_MS' },
    maxLineBytes: { doc: 'Largest line accepted from the node, in bytes (the node itself allows 65,536).', format: intIn({ min: 4096, max: 16 * 1024 * 1024 }), default: 65536 },
  },
  stratum: {
    enabled: { doc: 'Run the stratum gateway and its node link (false: the work service alone).', format: Boolean, default: true, env: 'EQUIGATE_STRATUM_ENABLED', arg: 'stratum-enabled' },
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
    noncePrefixDigits: { doc: 'Default profile: per-session hex digits of the nonce prefix (2, 4, 6); 0 = every session shares the gateway prefix (any number of sessions; for miners that ignore nonceprefix).', format: intIn({ min: 0, max: 6 }), default: 4, env: 'EQUIGATE_STRATUM_NONCE_PREFIX_DIGITS' },
    minerJobLatencyMs: { doc: 'At most one tx-pool job refresh per this many ms; new tips go out at once (0 = off: every refresh at once).', format: intIn({ min: 1, max: 60_000, offAllowed: true }), default: 1000, env: 'EQUIGATE_STRATUM_MINER_JOB_LATENCY_MS' },
    shareDifficulty: { doc: 'Default profile: share difficulty (float ≥ 1, e.g. 1 or 256; vardiff starts here); rounded down to a packed difficulty.', format: Number, default: 1, env: 'EQUIGATE_STRATUM_SHARE_DIFFICULTY', arg: 'share-difficulty' },
    maxLineBytes: { doc: 'Longest line or WebSocket frame accepted from a miner, in bytes (UTF-8, without the newline); longer closes the connection.', format: intIn({ min: 512, max: 1024 * 1024 }), default: 4096 },
    loginTimeoutMs: { doc: 'Close a connection that has not logged in after this long.', format: intIn({ min: 1000, max: 3_600_000 }), default: 15000 },
    idleTimeoutMs: { doc: 'Close a connection silent for this long (0 = off).', format: intIn({ min: 1000, max: 86_400_000, offAllowed: true }), default: 600000 },
    maxConnections: { doc: 'Most miner connections overall (tcp + tls + ws). Must fit the process open-file limit with a reserve, or start-up is refused.', format: intIn({ min: 1, max: 10_000_000 }), default: 10000, env: 'EQUIGATE_STRATUM_MAX_CONNECTIONS', arg: 'stratum-max-connections' },
    maxConnectionsPerIp: { doc: 'Most miner connections from one IP address; an IPv6 /64 counts as one address (0 = no limit).', format: intIn({ min: 1, max: 10_000_000, offAllowed: true }), default: 256 },
    malformedBudget: { doc: 'Malformed or unknown messages answered with an error before the connection is closed (0 = the first one closes).', format: intIn({ min: 0, max: 100_000 }), default: 10 },
    maxPendingSolutions: { doc: 'Solutions of one connection awaiting verification at once; more are refused (-32004) and count against malformedBudget.', format: intIn({ min: 1, max: 65_536 }), default: 64 },
    maxSendQueueBytes: { doc: 'Bytes queued to a slow reader before it is dropped.', format: intIn({ min: 4096, max: 256 * 1024 * 1024 }), default: 262144 },
    jobHistory: { doc: 'Jobs of the current tip kept to judge late solutions (the node keeps 64).', format: intIn({ min: 1, max: 4096 }), default: 64 },
    // Share path under attack (docs/hostile-peers.md "Share path").
    maxPendingSolutionsPerIp: {
      doc: 'Solutions from one IPv4 address or IPv6 /64 awaiting verification at once (all its sessions together); more are answered -32004 "Too many pending solutions from your address, resend".',
      format: intIn({ min: 1, max: 1_048_576 }),
      default: 1024,
      env: 'EQUIGATE_STRATUM_MAX_PENDING_SOLUTIONS_PER_IP',
    },
    maxPendingSolutionsTotal: {
      doc: 'Solutions waiting for the verifier in all; when full, the biggest holder among the least trusted sessions loses its newest waiting one ("Solution not verified, resend").',
      format: intIn({ min: 64, max: 1_048_576 }),
      default: 16384,
      env: 'EQUIGATE_STRATUM_MAX_PENDING_SOLUTIONS_TOTAL',
    },
    maxSharesPerJob: {
      doc: 'Solutions with valid proof of work remembered per job for duplicate detection (8-byte digests, never forgotten while the job lives); a job that reaches it answers further solutions "3 expired" (Job share limit reached).',
      format: intIn({ min: 1024, max: 16_777_216 }),
      default: 1_048_576,
      env: 'EQUIGATE_STRATUM_MAX_SHARES_PER_JOB',
    },
    // --- port profiles, vardiff, abuse control, HTTP long-poll (docs/gateway.md "Ports and profiles") ---
    listeners: {
      doc: 'More miner listeners, each its own profile: [{transport: tcp|tls|ws|http, port, host?, name?, noncePrefixDigits?, shareDifficulty?, vardiff?: {...}, tlsCertFile?, tlsKeyFile?}]. The flat keys (port, tlsPort, wsPort, noncePrefixDigits, shareDifficulty, vardiff) are the default profile.',
      format: listenersFormat,
      default: [],
    },
    vardiff: {
      enabled: { doc: 'Vardiff on the default profile.', format: Boolean, default: false },
      targetSeconds: { doc: 'Aimed-at seconds between accepted shares of one session.', format: positiveNumber, default: 15 },
      retargetSeconds: { doc: 'At most one difficulty change per session per this many seconds.', format: positiveNumber, default: 90 },
      minDifficulty: { doc: 'Vardiff never goes easier than this.', format: positiveNumber, default: 1 },
      maxDifficulty: { doc: 'Vardiff never goes harder than this (nor than the block target).', format: positiveNumber, default: 2 ** 40 },
      maxStep: { doc: 'Largest factor of one retarget, up or down (≥ 1.1).', format: positiveNumber, default: 4 },
      variancePercent: { doc: 'No change while seconds per share are within this percentage of the target (0–90).', format: intIn({ min: 0, max: 90 }), default: 30 },
    },
    bans: {
      enabled: { doc: 'Ban peers whose shares are mostly invalid.', format: Boolean, default: true },
      checkThreshold: { doc: 'Judged shares of a session per look at its invalid ratio (stale/expired shares never count).', format: intIn({ min: 1, max: 1_000_000 }), default: 50 },
      invalidPercent: { doc: 'Invalid shares above this percentage of a window ban the IP (IPv6: its /64).', format: intIn({ min: 1, max: 100 }), default: 50 },
      banSeconds: { doc: 'How long a banned IP is refused.', format: intIn({ min: 1, max: 31_536_000 }), default: 600 },
      maxSolutionsPerSecond: { doc: 'Solutions one session may send per second; more are refused (-32004) and count as invalid. 0 = no cap.', format: intIn({ min: 1, max: 1_000_000, offAllowed: true }), default: 100 },
      maxEntries: { doc: 'Most IPs banned at once (the soonest to expire is dropped first).', format: intIn({ min: 1, max: 10_000_000 }), default: 100000 },
    },
    httpPollWaitMs: { doc: 'HTTP long-poll listeners: longest a GET waits for a job or cancel (1 s – 60 s).', format: intIn({ min: 1000, max: 60_000 }), default: 30000 },
    httpSessionTimeoutMs: { doc: 'HTTP long-poll listeners: a session with no request for this long is closed (idle-timeout).', format: intIn({ min: 1000, max: 3_600_000 }), default: 90000 },
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
    commitDelayMs: { doc: 'Group commit: shares arriving within this many ms are written in one transaction before their replies (0 = the next event-loop turn).', format: intIn({ min: 0, max: 100 }), default: 2, env: 'EQUIGATE_LEDGER_COMMIT_DELAY_MS' },
    maxBatch: { doc: 'Most shares in one transaction.', format: intIn({ min: 1, max: 100_000 }), default: 2000 },
    maxBufferedShares: { doc: 'Shares waiting for the ledger at once; beyond it (or while it is down) shares are answered as not credited.', format: intIn({ min: 1, max: 1_000_000 }), default: 20000 },
    shareWaitMs: { doc: 'Longest a share waits for an unavailable ledger before it is answered as not credited.', format: intIn({ min: 10, max: 60_000 }), default: 3000 },
    retryMinMs: { doc: 'First retry delay after a failed write (doubles up to retryMaxMs).', format: intIn({ min: 10, max: 60_000 }), default: 100 },
    retryMaxMs: { doc: 'Longest retry delay after failed writes.', format: intIn({ min: 10, max: 600_000 }), default: 5000 },
    retentionHours: {
      doc: 'Share rows older than this are rolled up into hourly per-miner aggregates (0 = keep every row; else at least 2, so the 1 h hashrate window always reads raw rows).',
      format: intIn({ min: 2, max: 100_000, offAllowed: true }),
      default: 72,
      env: 'EQUIGATE_LEDGER_RETENTION_HOURS',
    },
    sqliteSynchronous: { doc: 'SQLite synchronous: normal (survives a process crash; power loss may lose the last commits) or full (fsync every commit).', format: ['normal', 'full'], default: 'normal', env: 'EQUIGATE_LEDGER_SQLITE_SYNCHRONOUS' },
    timeoutMs: { doc: 'PostgreSQL connect and statement timeout; for SQLite, the longest a write waits for another connection\'s lock (docs/ledger.md "SQLite on its own thread").', format: intIn({ min: 100, max: 600_000 }), default: 5000 },
    statisticsIntervalMs: {
      doc: 'Pause between refreshes of the statistics the operations show from the ledger (longer by itself when a refresh is slow: at most ~5 % of the time).',
      format: intIn({ min: 250, max: 600_000 }),
      default: 5000,
    },
    probeIntervalMs: {
      doc: 'While nothing is written for this long, the database is pinged, so its state on the bus and /ready stays true on an idle gateway (0 = off).',
      format: intIn({ min: 100, max: 600_000, offAllowed: true }),
      default: 5000,
    },
  },
  // --- end ledger ---
  http: {
    host: { doc: 'Address of the HTTP listener (metrics, health, dashboard).', format: String, default: '127.0.0.1', env: 'EQUIGATE_HTTP_HOST' },
    port: { doc: 'HTTP port (0 = off).', format: 'port', default: 8080, env: 'EQUIGATE_HTTP_PORT', arg: 'http-port' },
  },
  shutdownTimeoutMs: { doc: 'Graceful shutdown gives up and exits after this long.', format: intIn({ min: 100, max: 3_600_000 }), default: 10000 },
  // ---- operations (event API, admin): docs/event-api.md, docs/operations.md ----
  events: {
    host: { doc: 'Address the event API WebSocket listener binds to.', format: String, default: '127.0.0.1', env: 'EQUIGATE_EVENTS_HOST' },
    wsPort: { doc: 'Event API WebSocket port (0 = off).', format: 'port', default: 8081, env: 'EQUIGATE_EVENTS_WS_PORT', arg: 'events-ws-port' },
    token: { doc: 'Access token event API clients must give (?token= or Authorization: Bearer). Empty = open.', format: String, default: '', env: 'EQUIGATE_EVENTS_TOKEN', sensitive: true },
    statisticsIntervalS: { doc: 'Seconds between `statistics` events (10–86400).', format: intIn({ min: 10, max: 86_400 }), default: 300, env: 'EQUIGATE_EVENTS_STATISTICS_INTERVAL_S' },
    heartbeatIntervalMs: { doc: 'Milliseconds between `heartbeat` events (and `miner`/`telemetry` updates), 100–60000.', format: intIn({ min: 100, max: 60_000 }), default: 1000 },
    maxClients: { doc: 'Most event API clients at once; more are refused (HTTP 503).', format: intIn({ min: 1, max: 1_000_000 }), default: 2000 },
    maxClientsPerIp: { doc: 'Most event API clients from one IP address (an IPv6 /64 counts as one); more are refused (HTTP 429).', format: intIn({ min: 1, max: 1_000_000 }), default: 50 },
    maxQueueBytes: { doc: 'Bytes queued to one event API client before it is dropped as a slow consumer (worst case for the process: maxClients × this).', format: intIn({ min: 4096, max: 256 * 1024 * 1024 }), default: 1048576 },
    maxFrameBytes: { doc: 'Largest frame accepted from an event API client; larger closes it (1009).', format: intIn({ min: 256, max: 1024 * 1024 }), default: 16384 },
    batchMs: { doc: 'Events of this many ms leave in one write per client (1–1000).', format: intIn({ min: 1, max: 1000 }), default: 20 },
    pingIntervalMs: { doc: 'Idle clients are pinged this often; one that has not answered the previous ping is closed.', format: intIn({ min: 1000, max: 3_600_000 }), default: 30000 },
  },
  admin: {
    token: { doc: 'Bearer token for POST /admin (JSON-RPC 2.0). Empty = admin API off.', format: String, default: '', env: 'EQUIGATE_ADMIN_TOKEN', sensitive: true },
  },
  // ---- work service (docs/work-service.md) ----
  ...workSchema,
};

