// `POST /` in the Nano node RPC shape (docs/work-service.md "HTTP RPC"): work_generate, work_cancel and the
// payout hook's work_payout. Answers are always JSON; failures are {"error": text} with HTTP 200, as a node does.
import type { Logger } from '../config/logger.js';
import { jsonReply, type HttpHandler, type HttpReply, type HttpRequest } from '../http/HttpServer.js';
import { difficultyFromMultiplier, formatU64Hex, parseU64Hex } from '../pow/nano.js';
import { checkAccount } from './account.js';
import { WorkError } from './errors.js';
import type { ServiceAuthenticator, ServiceEntry } from './ServiceDirectory.js';
import type { RateLimit } from './ServiceRateLimiter.js';
import { parseMicroAmount } from './WorkCreditBook.js';
import type { WorkAnswer, WorkRequest } from './WorkService.js';
import { isBlockHash, normaliseHash } from './wire.js';

/** What the RPC needs of the work service. */
export interface WorkRpcService {
  readonly base: bigint;
  generate(request: WorkRequest): Promise<WorkAnswer>;
  cancel(hash: string, service: string): number;
  recordPayout(address: string, microAmount: number, reference: string): Promise<boolean>;
}

export interface WorkRpcLimiter {
  acquire(service: string, limit: RateLimit): Promise<void>;
}

export interface WorkRpcSettings {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly defaultRate: RateLimit;
}

export interface WorkRpcDeps {
  readonly service: WorkRpcService;
  readonly services: ServiceAuthenticator;
  readonly limiter: WorkRpcLimiter;
  readonly settings: WorkRpcSettings;
  readonly logger: Logger;
}

type Body = Record<string, unknown>;

export const RPC_ERRORS = {
  badJson: 'Unable to parse JSON',
  badHash: 'Bad hash: expected 64 hex digits',
  badDifficulty: 'Bad difficulty: expected 16 hex digits',
  badMultiplier: 'Bad multiplier: expected a positive number',
  bothDifficulties: 'Give difficulty or multiplier, not both',
  badTimeout: 'Bad timeout: expected seconds as a positive number',
  credentials: 'Invalid credentials',
  unknownAction: 'Unknown action',
  badAddress: 'Bad address',
  badAmount: 'Bad amount: expected a decimal with at most 6 decimals',
  badReference: 'Bad reference: expected 1 to 128 characters',
  notAllowed: 'This service may not record payouts',
} as const;

export function workRpcHandler(deps: WorkRpcDeps): HttpHandler {
  const log = deps.logger.child({ component: 'work-rpc' });
  return async (request: HttpRequest): Promise<HttpReply> => {
    let body: Body;
    try {
      const parsed: unknown = JSON.parse(request.body.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Body;
    } catch {
      return reply({ error: RPC_ERRORS.badJson });
    }
    const id = body.id;
    const withId = (value: Body): HttpReply => reply(id === undefined ? value : { ...value, id });
    try {
      switch (body.action) {
        case 'work_generate':
          return withId(await generate(deps, body));
        case 'work_cancel':
          return withId(cancel(deps, body));
        case 'work_payout':
          return withId(await payout(deps, body));
        default:
          return withId({ error: RPC_ERRORS.unknownAction });
      }
    } catch (err) {
      if (err instanceof WorkError) {
        if (err.code === 'INVALID_CREDENTIALS') log.info({ remote: request.remote, user: String(body.user).slice(0, 64) }, 'work request with invalid credentials');
        return withId({ error: err.message });
      }
      throw err;
    }
  };
}

function reply(value: Body): HttpReply {
  return jsonReply(200, value);
}

function authenticate(deps: WorkRpcDeps, body: Body): ServiceEntry {
  const user = typeof body.user === 'string' ? body.user : '';
  const key = typeof body.api_key === 'string' ? body.api_key : '';
  const entry = deps.services.authenticate(user, key);
  if (entry === undefined) throw new WorkError('INVALID_CREDENTIALS', RPC_ERRORS.credentials);
  return entry;
}

function parseHash(body: Body): string {
  if (typeof body.hash !== 'string' || !isBlockHash(body.hash)) throw new WorkError('BAD_HASH', RPC_ERRORS.badHash);
  return normaliseHash(body.hash);
}

function parseDifficulty(body: Body, base: bigint): bigint {
  if (body.difficulty !== undefined && body.multiplier !== undefined) throw new WorkError('BAD_DIFFICULTY', RPC_ERRORS.bothDifficulties);
  let difficulty = base;
  if (body.difficulty !== undefined) {
    if (typeof body.difficulty !== 'string' || !/^[0-9A-Fa-f]{16}$/.test(body.difficulty)) throw new WorkError('BAD_DIFFICULTY', RPC_ERRORS.badDifficulty);
    difficulty = parseU64Hex(body.difficulty);
  } else if (body.multiplier !== undefined) {
    const m = typeof body.multiplier === 'string' && body.multiplier.trim() !== '' ? Number(body.multiplier) : body.multiplier;
    if (typeof m !== 'number' || !Number.isFinite(m) || m <= 0) throw new WorkError('BAD_DIFFICULTY', RPC_ERRORS.badMultiplier);
    difficulty = difficultyFromMultiplier(m, base);
  }
  if (difficulty < base) {
    throw new WorkError('DIFFICULTY_TOO_LOW', `Difficulty below the base threshold ${formatU64Hex(base)}`);
  }
  return difficulty;
}

/** `timeout` in seconds, as BoomPow services send it; capped at the configured maximum. */
function parseTimeout(body: Body, settings: WorkRpcSettings): number {
  if (body.timeout === undefined) return settings.defaultTimeoutMs;
  const seconds = typeof body.timeout === 'string' && body.timeout.trim() !== '' ? Number(body.timeout) : body.timeout;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) throw new WorkError('BAD_TIMEOUT', RPC_ERRORS.badTimeout);
  return Math.min(settings.maxTimeoutMs, Math.max(1, Math.round(seconds * 1000)));
}

async function generate(deps: WorkRpcDeps, body: Body): Promise<Body> {
  const hash = parseHash(body);
  const difficulty = parseDifficulty(body, deps.service.base);
  const timeoutMs = parseTimeout(body, deps.settings);
  const entry = authenticate(deps, body);
  const started = performance.now();
  await deps.limiter.acquire(entry.user, {
    ratePerS: entry.rate ?? deps.settings.defaultRate.ratePerS,
    burst: entry.burst ?? deps.settings.defaultRate.burst,
  });
  // Time spent waiting for the rate limit counts against the request's own timeout.
  const left = Math.max(1, timeoutMs - Math.round(performance.now() - started));
  const answer = await deps.service.generate({ hash, difficulty, timeoutMs: left, service: entry.user });
  return {
    work: answer.work,
    hash: answer.hash,
    difficulty: formatU64Hex(answer.difficulty),
    multiplier: String(answer.multiplier),
  };
}

function cancel(deps: WorkRpcDeps, body: Body): Body {
  const hash = parseHash(body);
  const entry = authenticate(deps, body);
  deps.service.cancel(hash, entry.user);
  return { success: '' };
}

async function payout(deps: WorkRpcDeps, body: Body): Promise<Body> {
  const entry = authenticate(deps, body);
  if (!entry.payouts || deps.services.openAccess) throw new WorkError('NOT_ALLOWED', RPC_ERRORS.notAllowed);
  const address = typeof body.address === 'string' ? body.address : '';
  if (!checkAccount(address).ok) throw new WorkError('BAD_REQUEST', RPC_ERRORS.badAddress);
  const micro = typeof body.amount === 'string' ? parseMicroAmount(body.amount) : undefined;
  if (micro === undefined) throw new WorkError('BAD_REQUEST', RPC_ERRORS.badAmount);
  const reference = typeof body.reference === 'string' ? body.reference : '';
  if (reference.length < 1 || reference.length > 128) throw new WorkError('BAD_REQUEST', RPC_ERRORS.badReference);
  const recorded = await deps.service.recordPayout(address, micro, reference);
  return { recorded: recorded ? 'true' : 'false' };
}
