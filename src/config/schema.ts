// The whole configuration, validated by convict. Sources, later wins: defaults < file < env < CLI args.
import convict from 'convict';
import { CHAIN_NAMES, type ChainName } from '../pow/variants.js';

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
}

export interface GatewayConfig {
  chain: ChainName;
  instanceId: string;
  log: { level: LogLevel };
  upstream: UpstreamConfig;
  stratum: StratumConfig;
  ledger: { url: string };
  http: { host: string; port: number };
  shutdownTimeoutMs: number;
  mqtt: MqttConfig;
  work: WorkConfig;
}

// --- work service (docs/work-service.md); checked further by checkWorkConfig in src/work/config.ts
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
    maxClients: { doc: 'Embedded broker: most MQTT connections at once.', format: 'nat', default: 10000 },
    connectTimeoutMs: { doc: 'External broker: give up the first connection after this long (later outages reconnect on their own).', format: 'nat', default: 10000 },
  },
  work: {
    enabled: { doc: 'Run the BoomPow-compatible work service (needs mqtt.port or mqtt.url, and http.port for its RPC).', format: Boolean, default: false, env: 'EQUIGATE_WORK_ENABLED', arg: 'work-enabled' },
    baseDifficulty: { doc: 'Base threshold, 16 hex digits: no request may ask less; precache asks exactly this (Banano: fffffe0000000000).', format: String, default: 'fffffe0000000000', env: 'EQUIGATE_WORK_BASE_DIFFICULTY' },
    servicesFile: { doc: 'Services allowed to ask for work: "user sha256(key) [options]" per line, reloaded on change. Empty = open access (logged loudly).', format: String, default: '', env: 'EQUIGATE_WORK_SERVICES_FILE', arg: 'work-services-file' },
    paymentFactor: { doc: 'Coin paid per credited work unit, published as payment_factor.', format: Number, default: 0, env: 'EQUIGATE_WORK_PAYMENT_FACTOR' },
    defaultTimeoutS: { doc: 'Timeout of a work_generate without "timeout", seconds.', format: Number, default: 10 },
    maxTimeoutS: { doc: 'Largest "timeout" honoured, seconds (below the HTTP handler timeout).', format: Number, default: 50 },
    serviceRatePerS: { doc: 'Default requests per second per service (a services-file line may set rate=).', format: Number, default: 20 },
    serviceBurst: { doc: 'Default burst per service (burst=).', format: 'nat', default: 40 },
    rateLimitMaxWaitMs: { doc: 'A request over its rate waits at most this long for its turn, else is refused.', format: 'nat', default: 2000 },
    maxOpenJobs: { doc: 'On-demand hashes being worked on at once; more requests are refused.', format: 'nat', default: 1000 },
    maxWaitersPerJob: { doc: 'Requests waiting on one hash at once.', format: 'nat', default: 64 },
    precacheInFlight: { doc: 'Precache hashes being worked on at once (only while no on-demand work is open).', format: 'nat', default: 8 },
    precacheQueue: { doc: 'Hashes queued for precache (oldest dropped when full).', format: 'nat', default: 1000 },
    precacheTimeoutMs: { doc: 'A precache hash nobody solved is given up after this long.', format: 'nat', default: 120000 },
    cacheSize: { doc: 'Precached works kept, and finished hashes remembered to tell late results from forged ones.', format: 'nat', default: 100000 },
    heartbeatMs: { doc: 'heartbeat topic interval.', format: 'nat', default: 1000 },
    statisticsMs: { doc: 'statistics topic interval (also published once at start).', format: 'nat', default: 300000 },
    nodeWsUrl: { doc: 'Node WebSocket (ws://…) whose confirmations drive precache. Empty = no precache.', format: String, default: '', env: 'EQUIGATE_WORK_NODE_WS_URL', arg: 'work-node-ws-url' },
    nodePingMs: { doc: 'Ping the node WebSocket this often; no answer within it reconnects.', format: 'nat', default: 15000 },
    nodeReconnectMinMs: { doc: 'First node WebSocket reconnect delay (doubles, with jitter).', format: 'nat', default: 500 },
    nodeReconnectMaxMs: { doc: 'Cap of the node WebSocket reconnect delay.', format: 'nat', default: 30000 },
    trackedAccounts: { doc: 'Served roots and accounts remembered for precache (each).', format: 'nat', default: 100000 },
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
  ledger: {
    url: { doc: 'Ledger location: sqlite:PATH or postgres://… (used once the ledger lands).', format: String, default: 'sqlite:./data/equigate.sqlite', env: 'EQUIGATE_LEDGER_URL', arg: 'ledger-url' },
  },
  http: {
    host: { doc: 'Address of the HTTP listener (metrics, health, dashboard).', format: String, default: '127.0.0.1', env: 'EQUIGATE_HTTP_HOST' },
    port: { doc: 'HTTP port (0 = off).', format: 'port', default: 8080, env: 'EQUIGATE_HTTP_PORT', arg: 'http-port' },
  },
  shutdownTimeoutMs: { doc: 'Graceful shutdown gives up and exits after this long.', format: 'nat', default: 10000 },
  ...workSchema,
};

