// The event API's messages (docs/event-api.md): node WebSocket conventions where they apply — actions
// subscribe / unsubscribe / update / ping, `ack` replies with the request's `id` only when one was given, events
// as {topic, time, message} with `time` in ms since epoch as a string — and our choices where they are silent.

export const TOPICS = ['job', 'share', 'block', 'miner', 'active_difficulty', 'telemetry', 'heartbeat', 'statistics'] as const;
export type Topic = (typeof TOPICS)[number];

export function isTopic(value: unknown): value is Topic {
  return typeof value === 'string' && (TOPICS as readonly string[]).includes(value);
}

/** Topics whose events carry a miner and worker, and so take the `miners` / `workers` filter options. */
export const FILTERABLE: ReadonlySet<Topic> = new Set<Topic>(['share', 'miner', 'block']);

export type ErrorCode = 'bad-json' | 'bad-message' | 'unknown-action' | 'unknown-topic' | 'bad-options' | 'not-subscribed' | 'filter-too-large';

export class EventApiRequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'EventApiRequestError';
  }
}

export type Action = 'subscribe' | 'unsubscribe' | 'update' | 'ping';

export interface Request {
  readonly action: Action;
  readonly topic?: Topic;
  readonly options?: Record<string, unknown>;
  readonly ack: boolean;
  readonly id?: string;
}

const ACTIONS: readonly string[] = ['subscribe', 'unsubscribe', 'update', 'ping'];
const MAX_ID_CHARS = 128;

/** Parses one client frame; throws EventApiRequestError (with the request's id when it could be read). */
export function parseRequest(text: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EventApiRequestError('bad-json', 'message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventApiRequestError('bad-message', 'message must be a JSON object');
  const raw = value as Record<string, unknown>;
  const id = typeof raw.id === 'string' || typeof raw.id === 'number' ? String(raw.id).slice(0, MAX_ID_CHARS) : undefined;
  if (typeof raw.action !== 'string') throw new EventApiRequestError('bad-message', 'missing "action"', id);
  if (!ACTIONS.includes(raw.action)) throw new EventApiRequestError('unknown-action', `unknown action "${raw.action.slice(0, 40)}"`, id);
  const action = raw.action as Action;
  const ack = raw.ack === true || raw.ack === 'true';
  if (action === 'ping') return { action, ack, id };
  if (raw.topic === undefined) throw new EventApiRequestError('bad-message', `"${action}" needs a "topic"`, id);
  if (!isTopic(raw.topic)) throw new EventApiRequestError('unknown-topic', `unknown topic ${JSON.stringify(raw.topic).slice(0, 60)}; topics: ${TOPICS.join(', ')}`, id);
  if (raw.options !== undefined && (typeof raw.options !== 'object' || raw.options === null || Array.isArray(raw.options))) {
    throw new EventApiRequestError('bad-options', '"options" must be an object', id);
  }
  return { action, topic: raw.topic, options: raw.options as Record<string, unknown> | undefined, ack, id };
}

/** Names a subscriber filters on: miners (e.g. a wallet) and workers ("MINER.WORKER" labels). */
export interface Filter {
  readonly miners: Set<string>;
  readonly workers: Set<string>;
}

export const MAX_FILTER_NAMES = 1000;

function names(options: Record<string, unknown>, key: string, id: string | undefined): string[] {
  const value = options[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new EventApiRequestError('bad-options', `options.${key} must be an array of strings`, id);
  }
  return value as string[];
}

/** subscribe: `miners` and `workers`; undefined when neither is given (every event). */
export function filterFromOptions(options: Record<string, unknown> | undefined, id: string | undefined): Filter | undefined {
  if (options === undefined) return undefined;
  const miners = names(options, 'miners', id);
  const workers = names(options, 'workers', id);
  if (options.miners === undefined && options.workers === undefined) return undefined;
  const filter = { miners: new Set(miners), workers: new Set(workers) };
  checkSize(filter, id);
  return filter;
}

/** update: miners_add / miners_del / workers_add / workers_del, applied to a copy (a bad update changes nothing). */
export function updatedFilter(current: Filter | undefined, options: Record<string, unknown> | undefined, id: string | undefined): Filter {
  const opts = options ?? {};
  const next: Filter = { miners: new Set(current?.miners), workers: new Set(current?.workers) };
  for (const name of names(opts, 'miners_add', id)) next.miners.add(name);
  for (const name of names(opts, 'miners_del', id)) next.miners.delete(name);
  for (const name of names(opts, 'workers_add', id)) next.workers.add(name);
  for (const name of names(opts, 'workers_del', id)) next.workers.delete(name);
  checkSize(next, id);
  return next;
}

function checkSize(filter: Filter, id: string | undefined): void {
  if (filter.miners.size + filter.workers.size > MAX_FILTER_NAMES) {
    throw new EventApiRequestError('filter-too-large', `a filter holds at most ${MAX_FILTER_NAMES} names`, id);
  }
}

/** An event passes a filter when its miner or its "MINER.WORKER" label is named (no filter: every event). */
export function passes(filter: Filter | undefined, miner: string | undefined, workerLabel: string | undefined): boolean {
  if (filter === undefined) return true;
  return (miner !== undefined && filter.miners.has(miner)) || (workerLabel !== undefined && filter.workers.has(workerLabel));
}

export function ackMessage(action: string, id: string | undefined, now: number): string {
  return JSON.stringify(id === undefined ? { ack: action, time: String(now) } : { ack: action, time: String(now), id });
}

export function errorMessage(code: ErrorCode, message: string, id: string | undefined, now: number): string {
  const body = { error: { code, message }, time: String(now) };
  return JSON.stringify(id === undefined ? body : { ...body, id });
}

export function eventMessage(topic: Topic, time: number, message: unknown): string {
  return JSON.stringify({ topic, time: String(time), message });
}
