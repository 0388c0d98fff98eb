// The MQTT wire of the work service, exactly as docs/work-service.md "Topics" (BoomPow's topic spec):
// topic names and the comma-separated payloads. Parsing is strict and bounded; nothing here knows of jobs.
export type WorkType = 'precache' | 'ondemand';
export const WORK_TYPES: readonly WorkType[] = ['precache', 'ondemand'];

export const TOPIC = {
  work: (type: WorkType) => `work/${type}`,
  result: (type: WorkType) => `result/${type}`,
  cancel: (type: WorkType) => `cancel/${type}`,
  client: (address: string) => `client/${address}`,
  service: (user: string) => `service/${user}`,
  heartbeat: 'heartbeat',
  statistics: 'statistics',
} as const;

/** Topics a worker may publish on (docs/work-service.md "ACLs"). */
export const WORKER_PUBLISH_TOPICS: ReadonlySet<string> = new Set(WORK_TYPES.map(TOPIC.result));

const HASH_RE = /^[0-9A-Fa-f]{64}$/;
const U64_HEX_RE = /^[0-9A-Fa-f]{16}$/;
/** Longest result payload accepted: 64 + 1 + 16 + 1 + a 65-character address, with room to spare. */
export const MAX_RESULT_BYTES = 256;

export function isBlockHash(text: string): boolean {
  return HASH_RE.test(text);
}

/** Hashes are keyed upper-case, as nodes print them. */
export function normaliseHash(text: string): string {
  return text.toUpperCase();
}

export function formatWork(hash: string, difficulty: bigint): string {
  return `${hash},${difficulty.toString(16).padStart(16, '0')}`;
}

export interface WorkMessage {
  readonly hash: string;
  readonly difficulty: bigint;
}

export function parseWork(payload: string): WorkMessage | undefined {
  const parts = payload.split(',');
  if (parts.length !== 2) return undefined;
  const [hash, difficulty] = parts as [string, string];
  if (!HASH_RE.test(hash) || !U64_HEX_RE.test(difficulty)) return undefined;
  return { hash: normaliseHash(hash), difficulty: BigInt(`0x${difficulty}`) };
}

export interface ResultMessage {
  readonly hash: string;
  /** 16 hex digits, lower-case. */
  readonly work: string;
  readonly address: string;
}

export type ResultParse = { readonly ok: true; readonly result: ResultMessage } | { readonly ok: false; readonly reason: string };

export function parseResult(payload: Buffer | string): ResultParse {
  if (payload.length > MAX_RESULT_BYTES) return { ok: false, reason: `result over ${MAX_RESULT_BYTES} bytes` };
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const parts = text.trim().split(',');
  if (parts.length !== 3) return { ok: false, reason: 'result must be "hash,work,address"' };
  const [hash, work, address] = parts as [string, string, string];
  if (!HASH_RE.test(hash)) return { ok: false, reason: 'result hash is not 64 hex digits' };
  if (!U64_HEX_RE.test(work)) return { ok: false, reason: 'result work is not 16 hex digits' };
  return { ok: true, result: { hash: normaliseHash(hash), work: work.toLowerCase(), address } };
}

export function formatResult(result: ResultMessage): string {
  return `${result.hash},${result.work},${result.address}`;
}

export function parseCancel(payload: string): string | undefined {
  const hash = payload.trim();
  return HASH_RE.test(hash) ? normaliseHash(hash) : undefined;
}

/** client/<address> payload (docs/work-service.md "client/<address>"). */
export interface ClientStats {
  readonly precache: number;
  readonly ondemand: number;
  readonly total_credited: number;
  readonly total_paid: number;
  readonly payment_factor: number;
  readonly block_rewarded: string;
}

/** statistics payload (docs/work-service.md "statistics"). */
export interface StatisticsMessage {
  readonly total_paid_banano: number;
  readonly payment_factor_banano: number;
  readonly services: {
    readonly public: readonly { user_name: string; display: string; website: string; precache: number; ondemand: number }[];
    readonly private: { readonly count: number; readonly precache: number; readonly ondemand: number };
  };
  readonly work: { readonly precache: number; readonly ondemand: number };
}

/**
 * A string usable as one MQTT topic level: no wildcards, separators or NUL, bounded. Addresses that fail this
 * are never published to (a worker cannot make the gateway publish to `client/#`).
 */
export function isTopicLevel(text: string): boolean {
  return text.length > 0 && text.length <= 128 && !/[#+/\u0000]/.test(text);
}
