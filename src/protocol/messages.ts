// Message shapes of the Beam/Hds stratum dialect (one compact JSON object per line).
// spec: beam-mining-protocol.txt "Miner to Node" / "Node to Miner"; docs/node-protocol.md, docs/gateway.md for the node's real behaviour.
import { ResultCode, RESULT_DESCRIPTIONS, type ResultCodeValue } from './resultCodes.js';

export interface LoginMessage {
  readonly method: 'login';
  readonly id: string;
  readonly api_key: string;
  readonly jsonrpc?: '2.0';
}

export interface SolutionMessage {
  readonly method: 'solution';
  readonly id: string;
  readonly nonce: string;
  readonly output: string;
  readonly jsonrpc?: '2.0';
}

export interface JobMessage {
  readonly method: 'job';
  readonly id: string;
  readonly input: string;
  readonly difficulty: number;
  readonly height: number;
  /** NiceHash-style prefix repeated in every job (docs/gateway.md). */
  readonly nonceprefix?: string;
  readonly jsonrpc?: '2.0';
}

export interface CancelMessage {
  readonly method: 'cancel';
  readonly id: string;
  readonly jsonrpc?: '2.0';
}

export interface ResultMessage {
  readonly method: 'result';
  readonly id: string;
  readonly code: number;
  readonly description: string;
  readonly nonceprefix?: string;
  readonly forkheight?: number;
  readonly forkheight2?: number;
  readonly blockhash?: string;
  readonly jsonrpc?: '2.0';
}

export type StratumMessage = LoginMessage | SolutionMessage | JobMessage | CancelMessage | ResultMessage;

/** Failure to read a line as a stratum message; `code` is the result code the peer should get. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ResultCodeValue,
    message: string,
    /** The request id, when it could be read, so the error reply can echo it. */
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const HEX_RE = /^[0-9a-fA-F]*$/;
export function isHex(value: string): boolean {
  return HEX_RE.test(value);
}

function requireString(obj: Record<string, unknown>, field: string, id: string | undefined): string {
  const value = obj[field];
  if (typeof value !== 'string') {
    throw new ProtocolError(ResultCode.MalformedMessage, `field "${field}" must be a string`, id);
  }
  return value;
}

function requireUint(obj: Record<string, unknown>, field: string, id: string | undefined): number {
  const value = obj[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError(ResultCode.MalformedMessage, `field "${field}" must be a non-negative integer`, id);
  }
  return value;
}

/**
 * Parses one line into a typed message. Throws ProtocolError (never anything else) on bad input.
 * The node requires a non-empty string `id` on every message (docs/node-protocol.md); so do we.
 */
export function parseMessage(line: string): StratumMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new ProtocolError(ResultCode.MalformedMessage, 'not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError(ResultCode.MalformedMessage, 'not a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  const rawId = obj.id;
  const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= 64 ? rawId : undefined;
  if (id === undefined) throw new ProtocolError(ResultCode.MalformedMessage, 'id must be a non-empty string');
  const method = obj.method;
  if (typeof method !== 'string') throw new ProtocolError(ResultCode.MalformedMessage, 'method must be a string', id);
  switch (method) {
    case 'login':
      return { method, id, api_key: requireString(obj, 'api_key', id) };
    case 'solution':
      return { method, id, nonce: requireString(obj, 'nonce', id), output: requireString(obj, 'output', id) };
    case 'job': {
      const job: JobMessage = {
        method,
        id,
        input: requireString(obj, 'input', id),
        difficulty: requireUint(obj, 'difficulty', id),
        height: requireUint(obj, 'height', id),
      };
      return typeof obj.nonceprefix === 'string' ? { ...job, nonceprefix: obj.nonceprefix } : job;
    }
    case 'cancel':
      return { method, id };
    case 'result': {
      const code = obj.code;
      if (typeof code !== 'number' || !Number.isInteger(code)) {
        throw new ProtocolError(ResultCode.MalformedMessage, 'field "code" must be an integer', id);
      }
      const description = typeof obj.description === 'string' ? obj.description : '';
      const result: { -readonly [K in keyof ResultMessage]: ResultMessage[K] } = { method, id, code, description };
      if (typeof obj.nonceprefix === 'string') result.nonceprefix = obj.nonceprefix;
      if (typeof obj.forkheight === 'number') result.forkheight = obj.forkheight;
      if (typeof obj.forkheight2 === 'number') result.forkheight2 = obj.forkheight2;
      if (typeof obj.blockhash === 'string') result.blockhash = obj.blockhash;
      return result;
    }
    default:
      throw new ProtocolError(ResultCode.UnknownMethod, `unknown method "${method.slice(0, 32)}"`, id);
  }
}

/** Serialises one message as a compact JSON line, `\n`-terminated, with `jsonrpc` as the node writes it. */
export function encodeMessage(message: StratumMessage): string {
  // Appended to the serialised object rather than spread into a copy: `{ ...m, key }` takes V8's slow path (a
  // microsecond and more per reply, on every share answered). Every StratumMessage has `method`, so never `{}`.
  if (message.jsonrpc !== undefined) return `${JSON.stringify(message)}\n`;
  const json = JSON.stringify(message);
  return `${json.slice(0, -1)},"jsonrpc":"2.0"}\n`;
}

export function resultMessage(
  id: string,
  code: ResultCodeValue,
  extra: Partial<Pick<ResultMessage, 'nonceprefix' | 'forkheight' | 'forkheight2' | 'blockhash' | 'description'>> = {},
): ResultMessage {
  return { method: 'result', id, code, description: RESULT_DESCRIPTIONS[code], ...extra };
}
