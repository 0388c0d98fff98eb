// POST /admin: JSON-RPC 2.0 (the json-rpc-2.0 package) behind a bearer token (docs/operations.md "Admin API").
// No token configured = the route is not mounted at all. Methods act through narrow interfaces only.
import { timingSafeEqual } from 'node:crypto';
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCParams } from 'json-rpc-2.0';
import type { Logger } from '../config/logger.js';
import type { HttpReply, HttpRequest } from '../http/HttpServer.js';
import { jsonReply } from '../http/HttpServer.js';
import { isIP } from 'node:net';
import type { Ban, BanList } from '../bans/BanList.js';
import type { SessionDirectory, SessionFilter } from '../operations/SessionDirectory.js';
import type { StatisticsSource } from '../operations/StatisticsSource.js';

/** JSON-RPC error codes of our own (the -32000…-32099 server range). */
export const AdminErrorCode = {
  InvalidParams: -32602,
  NoSuchSession: -32001,
  BanRefused: -32002,
  ReloadFailed: -32003,
} as const;

export interface AdminContext {
  readonly sessions: SessionDirectory;
  readonly bans: BanList;
  readonly statistics: StatisticsSource;
  /** Re-reads the miner api keys file and the TLS certificate; resolves with what was reloaded. */
  readonly reload: () => Promise<{ apiKeys: number; tlsCertificate: boolean | 'off' }>;
  /** The configuration in force, secrets already masked. */
  readonly config: () => unknown;
  readonly logger: Logger;
}

/** 0 = "until unbanned": a hundred years. */
const UNTIL_UNBANNED_S = 100 * 365 * 86_400;
const MAX_BAN_SECONDS = UNTIL_UNBANNED_S;
const MAX_REASON = 200;

function invalid(message: string): never {
  throw new JSONRPCErrorException(message, AdminErrorCode.InvalidParams);
}

function paramsObject(params: JSONRPCParams | undefined): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) invalid('params must be an object');
  return params as Record<string, unknown>;
}

function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  const value = p[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 256) invalid(`${key} must be a string (at most 256 characters)`);
  return value;
}

function banJson(ban: Ban): Record<string, unknown> {
  // `ip` is the banned key: the address, or an IPv6 /64 ("2001:db8:1:2::/64"). `until` null = until unbanned.
  return { ip: ban.key, reason: ban.reason, since: ban.bannedAt, until: ban.until - ban.bannedAt >= UNTIL_UNBANNED_S * 1000 ? null : ban.until };
}

export function createAdminRpc(ctx: AdminContext): JSONRPCServer {
  const server = new JSONRPCServer({ errorListener: () => undefined });
  server.addMethod('sessions.list', (params) => {
    const p = paramsObject(params);
    const filter: SessionFilter = { miner: optionalString(p, 'miner'), worker: optionalString(p, 'worker'), ip: optionalString(p, 'ip') };
    const limit = p.limit === undefined ? 1000 : Number(p.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) invalid('limit must be an integer 1–100000');
    return ctx.sessions.list(filter, limit);
  });
  server.addMethod('sessions.kick', (params) => {
    const p = paramsObject(params);
    if (typeof p.id !== 'number' || !Number.isInteger(p.id)) invalid('id must be a session id (integer)');
    if (!ctx.sessions.kick(p.id, 'admin-kick')) throw new JSONRPCErrorException(`no live session ${p.id}`, AdminErrorCode.NoSuchSession);
    ctx.logger.warn({ sessionId: p.id }, 'admin: session kicked');
    return { kicked: p.id };
  });
  server.addMethod('bans.add', (params) => {
    const p = paramsObject(params);
    const ip = optionalString(p, 'ip') ?? invalid('ip is required');
    const reason = optionalString(p, 'reason') ?? '';
    const durationS = p.durationS === undefined ? 0 : Number(p.durationS);
    if (isIP(ip) === 0) throw new JSONRPCErrorException(`not an IP address: ${ip.slice(0, 64)}`, AdminErrorCode.BanRefused, { code: 'BAN_BAD_IP' });
    if (!Number.isInteger(durationS) || durationS < 0 || durationS > MAX_BAN_SECONDS) {
      throw new JSONRPCErrorException(`durationS must be an integer from 0 (until unbanned) to ${MAX_BAN_SECONDS}`, AdminErrorCode.BanRefused, { code: 'BAN_BAD_DURATION' });
    }
    const ban: Ban = ctx.bans.ban(ip, reason.slice(0, MAX_REASON), durationS === 0 ? UNTIL_UNBANNED_S : durationS);
    // Every live session the ban covers (an IPv6 ban covers the whole /64).
    const kicked = ctx.sessions
      .list({})
      .filter((s) => ctx.bans.isBanned(s.ip) && ctx.sessions.kick(s.id, 'banned'))
      .map((s) => s.id);
    ctx.logger.warn({ ip, durationS, reason, kicked }, 'admin: IP banned');
    return { ...banJson(ban), kicked };
  });
  server.addMethod('bans.remove', (params) => {
    const ip = optionalString(paramsObject(params), 'ip') ?? invalid('ip is required');
    const removed = ctx.bans.unban(ip);
    if (removed) ctx.logger.warn({ ip }, 'admin: IP unbanned');
    return { removed };
  });
  server.addMethod('bans.list', () => ctx.bans.list().map(banJson));
  server.addMethod('reload', async () => {
    try {
      return await ctx.reload();
    } catch (err) {
      throw new JSONRPCErrorException(`reload failed: ${err instanceof Error ? err.message : String(err)}`, AdminErrorCode.ReloadFailed);
    }
  });
  server.addMethod('statistics.get', (params) => {
    const miner = optionalString(paramsObject(params), 'miner');
    if (miner !== undefined) return ctx.statistics.miner(miner) ?? null;
    return { pool: ctx.statistics.pool(), miners: ctx.statistics.miners(1000) };
  });
  server.addMethod('config.get', () => ctx.config());
  return server;
}

/** The POST /admin handler: 401 without the right bearer token, else the JSON-RPC answer (204 for notifications). */
export function adminHandler(token: string, rpc: JSONRPCServer): (request: HttpRequest) => Promise<HttpReply> {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return jsonReply(401, { error: 'bearer token required' }, { 'www-authenticate': 'Bearer realm="equigate-admin"' });
    }
    const response = await rpc.receiveJSON(request.body.toString('utf8'));
    return response === null ? { status: 204, body: '' } : jsonReply(200, response);
  };
}
