// The reference miner's connection: stratum+tcp, stratum+ssl (TLS) or ws(s) — lines in, lines out.
// Stream transports carry `\n`-terminated lines; WebSocket carries one JSON message per frame (docs/gateway.md).
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { LineSplitter, LineTooLongError } from '../../protocol/LineSplitter.js';

export class MinerLinkError extends Error {
  constructor(
    readonly code: 'BAD_URL' | 'CONNECT_TIMEOUT' | 'CONNECT_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'MinerLinkError';
  }
}

export type MinerScheme = 'stratum+tcp' | 'stratum+ssl' | 'ws' | 'wss' | 'http';

export interface MinerEndpoint {
  readonly scheme: MinerScheme;
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

const SCHEMES: readonly MinerScheme[] = ['stratum+tcp', 'stratum+ssl', 'ws', 'wss', 'http'];

export function parseMinerUrl(url: string): MinerEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MinerLinkError('BAD_URL', `not a URL: ${url}`);
  }
  const scheme = u.protocol.replace(/:$/, '') as MinerScheme;
  if (!SCHEMES.includes(scheme)) throw new MinerLinkError('BAD_URL', `scheme must be one of ${SCHEMES.join(', ')}: ${url}`);
  const port = Number(u.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new MinerLinkError('BAD_URL', `URL needs a port: ${url}`);
  return { scheme, host: u.hostname.replace(/^\[|\]$/g, ''), port, url };
}

export interface LinkHandlers {
  onLine(line: string): void;
  onClose(detail: string): void;
}

export interface MinerLink {
  /** Sends one message line (with or without the trailing `\n`). */
  send(line: string): void;
  close(): void;
}

export interface LinkOptions {
  /** Verify the server certificate (stratum+ssl, wss). Off by default: nodes and test setups are self-signed. */
  readonly tlsVerify: boolean;
  readonly connectTimeoutMs: number;
  readonly maxLineBytes: number;
}

/** Connects; resolves once the link can carry lines, rejects (typed) on failure or timeout. */
export function connectLink(endpoint: MinerEndpoint, opts: LinkOptions, handlers: LinkHandlers): Promise<MinerLink> {
  if (endpoint.scheme === 'http') return connectHttpPoll(endpoint, opts, handlers);
  return endpoint.scheme === 'ws' || endpoint.scheme === 'wss' ? connectWs(endpoint, opts, handlers) : connectStream(endpoint, opts, handlers);
}

function connectStream(endpoint: MinerEndpoint, opts: LinkOptions, handlers: LinkHandlers): Promise<MinerLink> {
  return new Promise((resolve, reject) => {
    const secure = endpoint.scheme === 'stratum+ssl';
    const socket: net.Socket = secure
      ? tls.connect({ host: endpoint.host, port: endpoint.port, rejectUnauthorized: opts.tlsVerify, servername: net.isIP(endpoint.host) ? undefined : endpoint.host })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    const splitter = new LineSplitter(opts.maxLineBytes);
    let open = false;
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MinerLinkError('CONNECT_TIMEOUT', `no connection to ${endpoint.url} within ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      open = true;
      resolve({
        send: (line) => {
          if (!closed) socket.write(line.endsWith('\n') ? line : `${line}\n`);
        },
        close: () => socket.destroy(),
      });
    });
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        if (err instanceof LineTooLongError) return void socket.destroy(err);
        throw err;
      }
      for (const line of lines) if (!closed) handlers.onLine(line);
    });
    socket.on('error', (err) => {
      if (!open) {
        clearTimeout(timer);
        reject(new MinerLinkError('CONNECT_FAILED', `${endpoint.url}: ${err.message}`));
      }
    });
    socket.on('close', () => {
      closed = true;
      if (open) handlers.onClose('connection closed');
    });
  });
}

function connectWs(endpoint: MinerEndpoint, opts: LinkOptions, handlers: LinkHandlers): Promise<MinerLink> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(endpoint.url, { rejectUnauthorized: opts.tlsVerify, maxPayload: opts.maxLineBytes, handshakeTimeout: opts.connectTimeoutMs });
    let open = false;
    ws.once('open', () => {
      open = true;
      resolve({
        send: (line) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(line.endsWith('\n') ? line.slice(0, -1) : line);
        },
        close: () => ws.terminate(),
      });
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8').trim();
      if (text.length > 0) handlers.onLine(text);
    });
    ws.on('error', (err) => {
      if (!open) reject(new MinerLinkError(/timeout/i.test(err.message) ? 'CONNECT_TIMEOUT' : 'CONNECT_FAILED', `${endpoint.url}: ${err.message}`));
    });
    ws.on('close', () => {
      if (open) handlers.onClose('connection closed');
    });
  });
}

// --- HTTP long-poll (docs/transports.md "HTTP long-poll") ---

interface PollAnswer {
  readonly session?: string;
  readonly first?: number;
  readonly next?: number;
  readonly lines?: unknown;
  readonly closed?: string;
}

/**
 * POSTs each line, and keeps one GET poll open; lines are delivered once each, in sequence order, from whichever
 * answer carries them first. The first POST creates the session; an unknown session or a `closed` answer ends it.
 */
function connectHttpPoll(endpoint: MinerEndpoint, opts: LinkOptions, handlers: LinkHandlers): Promise<MinerLink> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let token: string | undefined;
  let since = 0;
  let closed = false;
  let polling = false;
  /** POSTs are sent one after another, so the first one's token is known before the next leaves. */
  let chain: Promise<void> = Promise.resolve();

  const end = (detail: string): void => {
    if (closed) return;
    closed = true;
    agent.destroy();
    handlers.onClose(detail);
  };
  const take = (answer: PollAnswer): void => {
    if (typeof answer.session === 'string') token ??= answer.session;
    const lines = Array.isArray(answer.lines) ? answer.lines : [];
    const first = typeof answer.first === 'number' ? answer.first : since + 1;
    lines.forEach((line, i) => {
      const seq = first + i;
      if (seq > since && typeof line === 'string' && !closed) {
        since = seq;
        handlers.onLine(line);
      }
    });
    if (typeof answer.closed === 'string') end(`server closed the session: ${answer.closed}`);
  };
  const request = (method: 'GET' | 'POST', query: string, body: string | undefined, timeoutMs: number): Promise<PollAnswer> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: endpoint.host, port: endpoint.port, method, path: `/?${query}`, agent, timeout: timeoutMs, headers: body === undefined ? {} : { 'content-type': 'text/plain' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 404) return reject(new MinerLinkError('CONNECT_FAILED', 'session unknown to the server'));
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PollAnswer);
            } catch {
              reject(new MinerLinkError('CONNECT_FAILED', `unreadable answer (HTTP ${res.statusCode ?? 0})`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new MinerLinkError('CONNECT_TIMEOUT', `no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    while (!closed && token !== undefined) {
      try {
        take(await request('GET', `session=${encodeURIComponent(token)}&since=${since}`, undefined, 65_000));
      } catch (err) {
        end(err instanceof Error ? err.message : String(err));
      }
    }
    polling = false;
  };
  const link: MinerLink = {
    send: (line) => {
      chain = chain.then(async () => {
        if (closed) return;
        const query = token === undefined ? `since=${since}` : `session=${encodeURIComponent(token)}&since=${since}`;
        try {
          take(await request('POST', query, line.endsWith('\n') ? line : `${line}\n`, Math.max(opts.connectTimeoutMs, 65_000)));
          void poll();
        } catch (err) {
          end(err instanceof Error ? err.message : String(err));
        }
      });
    },
    // The server closes the session once it stops polling (httpSessionTimeoutMs).
    close: () => end('closed by the miner'),
  };
  return Promise.resolve(link);
}
