// Real sockets on 127.0.0.1 for tests: a free port, and a raw stratum client that records every line it gets.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { waitFor, within } from './wait.js';

/** A port that was free a moment ago (listen on 0, read it, close). Config treats 0 as "off", so tests pick ports. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port bound');
  return address.port;
}

export type Json = Record<string, unknown>;

export interface ClientOptions {
  readonly tls?: boolean;
  /** Bound for connecting and for each wait (default 10 s). */
  readonly timeoutMs?: number;
  /** Source address, e.g. 127.0.0.2 to look like another peer on loopback. */
  readonly localAddress?: string;
}

/**
 * A hand-driven stratum miner over TCP (or TLS, certificate not checked): sends whatever the test writes,
 * parses every `\n`-terminated line it receives, and knows when the server closed the connection.
 */
export class StratumClient {
  readonly messages: Json[] = [];
  /** Lines that were not JSON (there should be none). */
  readonly garbage: string[] = [];
  closed = false;
  private buffered = '';
  private nextId = 1;

  private constructor(
    readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(port: number, options: ClientOptions = {}): Promise<StratumClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket = options.tls === true
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    const client = new StratumClient(socket, timeoutMs);
    try {
      await within(once(socket, options.tls === true ? 'secureConnect' : 'connect'), `connection to 127.0.0.1:${port}`, timeoutMs);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return client;
  }

  /** "127.0.0.1:PORT" as the gateway sees this client (its `remote`). */
  get remote(): string {
    return `${this.socket.localAddress ?? '127.0.0.1'}:${this.socket.localPort ?? 0}`;
  }

  /** Writes raw bytes (garbage, partial lines, …). */
  write(raw: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(raw);
  }

  /** Sends one message as a compact JSON line. */
  send(message: Json): void {
    this.write(`${JSON.stringify(message)}\n`);
  }

  /** A fresh request id. */
  id(prefix = 'r'): string {
    return `${prefix}${this.nextId++}`;
  }

  /** Sends a request and waits for the `result` that carries its id. */
  async request(message: Json & { id: string }): Promise<Json> {
    const from = this.messages.length;
    this.send(message);
    return this.next((m) => m.method === 'result' && m.id === message.id, `result for ${String(message.method)} ${message.id}`, from);
  }

  login(apiKey: string): Promise<Json> {
    return this.request({ method: 'login', id: this.id('login'), api_key: apiKey, jsonrpc: '2.0' });
  }

  /** Submits a solution for `jobId` and waits for its answer. */
  solution(jobId: string, nonce: string, output: string): Promise<Json> {
    return this.request({ method: 'solution', id: jobId, nonce, output, jsonrpc: '2.0' });
  }

  /** The first message at or after index `from` matching `predicate`, waiting for it if need be. */
  async next(predicate: (m: Json) => boolean, what: string, from = 0): Promise<Json> {
    let found: Json | undefined;
    await waitFor(
      () => {
        found = this.messages.slice(from).find(predicate);
        return found !== undefined || this.closed;
      },
      what,
      this.timeoutMs,
    );
    if (found === undefined) found = this.messages.slice(from).find(predicate);
    if (found === undefined) throw new Error(`connection closed before ${what}`);
    return found;
  }

  byMethod(method: string): Json[] {
    return this.messages.filter((m) => m.method === method);
  }

  /** The newest `job` received (after index `from`), waiting for one. */
  nextJob(from = 0): Promise<Json> {
    return this.next((m) => m.method === 'job', 'a job', from);
  }

  /** Waits for the server to close the connection. */
  async closedByServer(what = 'the server to close the connection'): Promise<void> {
    await waitFor(() => this.closed, what, this.timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        this.messages.push(JSON.parse(line) as Json);
      } catch {
        this.garbage.push(line);
      }
    }
  }
}
