// HTTP long-poll stratum listener (`transport: http`, docs/transports.md "HTTP long-poll"): for clients that can
// only make HTTP requests. Protocol-agnostic like the other listeners: lines in, lines out, through the same
// LineConnection/LineHandler seam, so the session layer cannot tell it from TCP.
//
//   POST /?session=T&since=N   body: one or more stratum lines. No `session`: a new connection (its token comes back
//                              as `session`). Answers once the connection has sent something new (the login reply and
//                              job, a solution's result…) or after httpPollWaitMs.
//   GET  /?session=T&since=N[&wait=MS]  answers at once when there are lines after N, else waits for the next one
//                              (bounded by httpPollWaitMs and `wait`) and may answer with none.
//   Answer (JSON): {"session":T,"first":F,"next":L,"lines":[…],"closed"?:reason}; line i has sequence F + i; the
//   client passes the highest it has as `since`, which also acknowledges (frees) everything up to it.
// Sessions that make no request for httpSessionTimeoutMs are closed ('idle-timeout'). Tokens are never logged.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import { allocateConnectionId } from './ConnectionBase.js';
import { boundPortOf, listenServer, normalizeIp, type Transport, type TransportDeps } from './ListenerBase.js';
import type { CloseReason, LineConnection, LineHandler } from './types.js';

export type HttpPollTransportConfig = Pick<
  StratumConfig,
  'host' | 'maxLineBytes' | 'maxSendQueueBytes' | 'httpPollWaitMs' | 'httpSessionTimeoutMs'
> & {
  port: number;
  /** After close(reason), how long the client has to fetch its last lines. */
  closeGraceMs?: number;
};

const MAX_LINES_PER_POST = 16;
const MAX_WAITERS_PER_SESSION = 4;
const MIN_WAIT_MS = 1000;
const MAX_WAIT_MS = 60_000;
const DEFAULT_CLOSE_GRACE_MS = 2000;

interface Waiter {
  readonly response: ServerResponse;
  readonly since: number;
  /** Answer once a line with a sequence above this exists (or the session closed). */
  readonly threshold: number;
  readonly timer: NodeJS.Timeout;
}

class HttpPollConnection implements LineConnection {
  readonly id = allocateConnectionId();
  readonly transport = 'http' as const;
  readonly token = randomBytes(18).toString('base64url');
  closed = false;
  handler: LineHandler | undefined;
  closeReason: CloseReason | undefined;
  lastRequestAt: number;
  inFlight = 0;
  /** Lines not yet acknowledged, oldest first; `firstSeq` is the sequence of lines[0]. */
  lines: string[] = [];
  firstSeq = 1;
  queuedBytes = 0;
  readonly waiters = new Set<Waiter>();
  finished = false;
  graceTimer: NodeJS.Timeout | undefined;
  private flushQueued = false;

  constructor(
    readonly remoteAddress: string,
    private readonly remotePort: number,
    private readonly owner: HttpPollTransport,
  ) {
    this.lastRequestAt = Date.now();
  }

  get remote(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  get lastSeq(): number {
    return this.firstSeq + this.lines.length - 1;
  }

  send(line: string): boolean {
    if (this.closed) return false;
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (this.queuedBytes + text.length > this.owner.config.maxSendQueueBytes) {
      // The client stopped polling: same bound and reason as a socket that stops reading.
      this.close('send-queue-full');
      return false;
    }
    this.lines.push(text);
    this.queuedBytes += text.length;
    this.scheduleFlush();
    return true;
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.scheduleFlush();
    // The client gets a short grace to fetch what was queued (e.g. a login-failed reply), then the session is gone.
    this.graceTimer = setTimeout(() => this.owner.finish(this), this.owner.closeGraceMs);
    this.graceTimer.unref();
  }

  /** Drops what the client has acknowledged (sequence ≤ since). */
  acknowledge(since: number): void {
    const drop = Math.min(this.lines.length, since - this.firstSeq + 1);
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) this.queuedBytes -= (this.lines[i] as string).length;
    this.lines = this.lines.slice(drop);
    this.firstSeq += drop;
  }

  /** Answers every waiter whose condition is met, once per tick (lines of one tick go out together). */
  scheduleFlush(): void {
    if (this.flushQueued || this.waiters.size === 0) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      for (const waiter of [...this.waiters]) {
        if (this.closed || this.lastSeq > waiter.threshold) this.owner.answer(this, waiter);
      }
    });
  }
}

export class HttpPollTransport implements Transport {
  readonly kind = 'http' as const;
  readonly closeGraceMs: number;
  private readonly server: Server;
  private readonly sessions = new Map<string, HttpPollConnection>();
  private readonly logger: Logger;
  private readonly sweepTimer: NodeJS.Timeout;
  private listening = false;
  private closing: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  private readonly pollWaitMs: number;

  constructor(
    readonly config: HttpPollTransportConfig,
    private readonly deps: TransportDeps,
  ) {
    this.logger = deps.logger.child({ component: 'transport', transport: 'http' });
    this.closeGraceMs = config.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.pollWaitMs = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, config.httpPollWaitMs));
    this.server = createServer((request, response) => this.onRequest(request, response));
    // Bounded waits: no request outlives its poll wait by much, and slow senders are cut off.
    this.server.requestTimeout = this.pollWaitMs + 10_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    const sweepMs = Math.max(100, Math.min(1000, Math.floor(config.httpSessionTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
    this.sweepTimer.unref();
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  async listen(): Promise<number> {
    if (!this.listening) {
      await listenServer(this.server, 'http', this.config.host, this.config.port, this.logger);
      this.listening = true;
    }
    return boundPortOf(this.server, 'http');
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** The session is gone for good: its handler hears onClose once, its limiter slot is released. */
  finish(connection: HttpPollConnection): void {
    if (connection.finished) return;
    connection.finished = true;
    connection.closed = true;
    clearTimeout(connection.graceTimer);
    for (const waiter of [...connection.waiters]) this.answer(connection, waiter);
    this.sessions.delete(connection.token);
    this.deps.limiter.release(connection.remoteAddress);
    const handler = connection.handler;
    connection.handler = undefined;
    const reason = connection.closeReason ?? 'peer-closed';
    this.logger.debug({ connection: connection.id, remote: connection.remote, reason }, 'connection closed');
    try {
      handler?.onClose(reason);
    } catch (error) {
      this.logger.error({ err: error, connection: connection.id }, 'close handler threw');
    }
    if (this.onDrained !== undefined && this.sessions.size === 0) this.onDrained();
  }

  answer(connection: HttpPollConnection, waiter: Waiter): void {
    if (!connection.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    connection.inFlight -= 1;
    connection.lastRequestAt = Date.now();
    const from = Math.max(waiter.since + 1, connection.firstSeq);
    const lines = connection.lines.slice(from - connection.firstSeq);
    reply(waiter.response, 200, {
      session: connection.token,
      first: from,
      next: from + lines.length - 1,
      lines,
      ...(connection.closed ? { closed: connection.closeReason ?? 'peer-closed' } : {}),
    });
    // Everything is out and the session is closing: no need to wait for the grace timer.
    if (connection.closed && connection.waiters.size === 0 && from + lines.length - 1 >= connection.lastSeq) this.finish(connection);
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    response.on('error', () => undefined);
    const url = new URL(request.url ?? '/', 'http://stratum');
    // The token may also come as a header, for clients behind proxies that log URLs.
    const header = request.headers['x-equigate-session'];
    const token = url.searchParams.get('session') ?? (typeof header === 'string' ? header : null);
    const since = parseSeq(url.searchParams.get('since'));
    if (request.method === 'GET') {
      request.resume();
      const connection = token === null ? undefined : this.sessions.get(token);
      if (connection === undefined) return reply(response, 404, { error: 'unknown-session' });
      const wait = parseSeq(url.searchParams.get('wait'));
      this.park(connection, response, since, since, wait > 0 ? Math.min(wait, this.pollWaitMs) : this.pollWaitMs);
      return;
    }
    if (request.method !== 'POST') {
      request.resume();
      return reply(response, 405, { error: 'method-not-allowed' });
    }
    let connection: HttpPollConnection | undefined;
    if (token !== null) {
      connection = this.sessions.get(token);
      if (connection === undefined) {
        request.resume();
        return reply(response, 404, { error: 'unknown-session' });
      }
    }
    const limit = this.config.maxLineBytes * MAX_LINES_PER_POST;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLong = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLong = true;
      else chunks.push(chunk);
    });
    request.on('error', () => undefined);
    request.on('end', () => {
      if (tooLong) {
        connection?.close('line-too-long');
        return reply(response, 413, { error: 'line-too-long' });
      }
      if (connection === undefined) {
        connection = this.open(request);
        if (connection === undefined) return reply(response, 503, { error: 'refused' });
      }
      this.deliver(connection, Buffer.concat(chunks).toString('utf8'), response, since);
    });
  }

  /** A new connection for a POST without a session: admission (bans) and the shared limiter, like a socket. */
  private open(request: IncomingMessage): HttpPollConnection | undefined {
    if (this.closing !== undefined) return undefined;
    const socket: Socket = request.socket;
    const ip = normalizeIp(socket.remoteAddress);
    let admitted = true;
    try {
      admitted = this.deps.admission?.(ip) ?? true;
    } catch (error) {
      this.logger.error({ err: error, ip }, 'admission check threw; refusing the connection');
      admitted = false;
    }
    if (!admitted || !this.deps.limiter.tryAcquire(ip)) return undefined;
    const connection = new HttpPollConnection(ip, socket.remotePort ?? 0, this);
    this.sessions.set(connection.token, connection);
    try {
      connection.handler = this.deps.acceptor(connection);
    } catch (error) {
      this.logger.error({ err: error, connection: connection.id }, 'connection acceptor threw; dropping the connection');
      connection.closeReason = 'socket-error';
      this.finish(connection);
      return undefined;
    }
    this.logger.debug({ connection: connection.id, remote: connection.remote }, 'connection open');
    return connection;
  }

  private deliver(connection: HttpPollConnection, body: string, response: ServerResponse, since: number): void {
    connection.lastRequestAt = Date.now();
    const before = connection.lastSeq;
    const parts = body.split('\n');
    let delivered = 0;
    for (const raw of parts) {
      const line = raw.trim();
      if (line.length === 0) continue;
      if (Buffer.byteLength(line) > this.config.maxLineBytes || delivered >= MAX_LINES_PER_POST) {
        connection.close('line-too-long');
        break;
      }
      if (connection.closed) break;
      delivered += 1;
      try {
        connection.handler?.onLine(line);
      } catch (error) {
        this.logger.error({ err: error, connection: connection.id }, 'line handler threw; closing the connection');
        connection.close('socket-error');
      }
    }
    this.park(connection, response, since, Math.max(since, before), this.pollWaitMs);
  }

  private park(connection: HttpPollConnection, response: ServerResponse, since: number, threshold: number, waitMs: number): void {
    connection.lastRequestAt = Date.now();
    connection.acknowledge(since);
    if (connection.waiters.size >= MAX_WAITERS_PER_SESSION) return reply(response, 429, { error: 'too-many-requests' });
    connection.inFlight += 1;
    const waiter: Waiter = {
      response,
      since,
      threshold,
      timer: setTimeout(() => this.answer(connection, waiter), waitMs),
    };
    connection.waiters.add(waiter);
    // The client went away: forget its request (the lines stay queued for the next one).
    response.once('close', () => {
      if (!connection.waiters.delete(waiter)) return;
      clearTimeout(waiter.timer);
      connection.inFlight -= 1;
    });
    connection.scheduleFlush();
  }

  /** Sessions that stopped polling are closed, like a silent socket. */
  private sweep(): void {
    const deadline = Date.now() - this.config.httpSessionTimeoutMs;
    for (const connection of this.sessions.values()) {
      if (!connection.closed && connection.inFlight === 0 && connection.lastRequestAt < deadline) connection.close('idle-timeout');
    }
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    const closed = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    this.listening = false;
    const drained = new Promise<void>((resolve) => {
      this.onDrained = resolve;
    });
    for (const connection of [...this.sessions.values()]) {
      connection.close('server-shutdown');
      this.finish(connection);
    }
    if (this.sessions.size === 0) this.onDrained?.();
    this.server.closeAllConnections();
    await Promise.all([closed, drained]);
    this.logger.info('closed');
  }

}

function parseSeq(value: string | null): number {
  if (value === null || !/^[0-9]{1,15}$/.test(value)) return 0;
  return Number(value);
}

function reply(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (response.writableEnded || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}
