// The one HTTP listener on http.port (docs/architecture.md "HTTP"): capabilities mount routes on it (metrics,
// health, admin, dashboard, the work service's RPC) and know nothing of each other. Node's own `http`, with
// every wait and size bounded: request bodies are capped, requests and idle keep-alive sockets time out.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../config/logger.js';

export type HttpMethod = 'GET' | 'POST';

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly remote: string;
  /** Raw body (POST only), at most maxBodyBytes. */
  readonly body: Buffer;
  /** The underlying request, for handlers that hold the response open (long poll) and must see a close. */
  readonly raw: IncomingMessage;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string | Buffer;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpReply> | HttpReply;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Largest request body accepted; larger is answered 413 and the connection closed. */
  readonly maxBodyBytes?: number;
  /** A request must arrive whole within this (headers and body). */
  readonly requestTimeoutMs?: number;
  /** A handler must answer within this, else 503. Long-poll handlers answer before it. */
  readonly handlerTimeoutMs?: number;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export interface RouteOptions {
  /** This route's handler bound instead of the server's (a work request may wait its whole timeout). */
  readonly timeoutMs?: number;
}

interface Route {
  readonly handler: HttpHandler;
  readonly timeoutMs: number;
}

export class HttpServer {
  private readonly routes = new Map<string, Route>();
  private readonly server: http.Server;
  private readonly log: Logger;
  private readonly maxBodyBytes: number;
  private readonly handlerTimeoutMs: number;

  constructor(private readonly options: HttpServerOptions) {
    this.log = options.logger.child({ component: 'http' });
    this.maxBodyBytes = options.maxBodyBytes ?? 65_536;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 60_000;
    this.server = http.createServer({ requestTimeout: options.requestTimeoutMs ?? 10_000, headersTimeout: 10_000 }, (req, res) =>
      this.dispatch(req, res),
    );
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 64;
  }

  /** Mounts a handler; one per method and path (a second one is a wiring bug and throws). */
  route(method: HttpMethod, path: string, handler: HttpHandler, options: RouteOptions = {}): void {
    const key = `${method} ${path}`;
    if (this.routes.has(key)) throw new Error(`route ${key} is already mounted`);
    this.routes.set(key, { handler, timeoutMs: options.timeoutMs ?? this.handlerTimeoutMs });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const port = (this.server.address() as AddressInfo).port;
    this.log.info({ host: this.options.host, port }, 'http listening');
    return port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = this.routes.get(`${method} ${url.pathname}`);
    if (route === undefined || (method !== 'GET' && method !== 'POST')) {
      const known = [...this.routes.keys()].some((key) => key.endsWith(` ${url.pathname}`));
      send(res, known ? jsonReply(405, { error: 'method not allowed' }) : jsonReply(404, { error: 'not found' }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        refused = true;
        send(res, jsonReply(413, { error: `request body over ${this.maxBodyBytes} bytes` }), true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (refused) return;
      const request: HttpRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        remote: req.socket.remoteAddress ?? '',
        body: Buffer.concat(chunks),
        raw: req,
      };
      void this.run(route, request).then((reply) => send(res, reply));
    });
  }

  private async run(route: Route, request: HttpRequest): Promise<HttpReply> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<HttpReply>((resolve) => {
        timer = setTimeout(() => resolve(jsonReply(503, { error: 'handler timed out' })), route.timeoutMs);
      });
      return await Promise.race([Promise.resolve().then(() => route.handler(request)), timeout]);
    } catch (err) {
      this.log.error({ err, path: request.path }, 'http handler failed');
      return jsonReply(500, { error: 'internal error' });
    } finally {
      clearTimeout(timer);
    }
  }
}

function send(res: ServerResponse, reply: HttpReply, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const headers = { 'cache-control': 'no-store', ...reply.headers, ...(close ? { connection: 'close' } : {}) };
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}
