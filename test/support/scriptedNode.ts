// A scripted stand-in for the node's stratum server (plain TCP, or TLS when given a key pair, on 127.0.0.1), for
// NodeLink tests that need the node to behave (docs/node-protocol.md) or to misbehave on cue: skip or refuse
// logins, drop the link, restart, send malformed login fields or random bytes.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { createLogger, type Logger } from '../../src/config/logger.js';
import type { UpstreamConfig } from '../../src/config/schema.js';
import { LineSplitter } from '../../src/protocol/LineSplitter.js';

export type Json = Record<string, unknown>;
export const INPUT = 'a1'.repeat(32);

/** Collects pino output so tests can wait for a log line. */
export class LogCapture extends Writable {
  readonly entries: Json[] = [];
  private readonly events = new EventEmitter();
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as Json;
      this.entries.push(entry);
      this.events.emit('entry', entry);
    }
    done();
  }
  logger(): Logger {
    return createLogger('debug', this);
  }
  async waitFor(predicate: (entry: Json) => boolean): Promise<Json> {
    for (;;) {
      const found = this.entries.find(predicate);
      if (found !== undefined) return found;
      await once(this.events, 'entry');
    }
  }
}

/** One connection to the scripted node: what it received, parsed (unparseable lines kept raw). */
export class ScriptedConn extends EventEmitter {
  readonly received: Json[] = [];
  private readonly splitter = new LineSplitter(1 << 20);
  constructor(readonly socket: Socket) {
    super();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        let message: Json;
        try {
          message = JSON.parse(line) as Json;
        } catch {
          message = { unparsed: line };
        }
        this.received.push(message);
        this.emit('message', message);
      }
    });
  }
  send(message: Json): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }
  sendRaw(bytes: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }
  job(id: string, height: number): void {
    this.send({ method: 'job', id, input: INPUT, difficulty: 0x04000000, height });
  }
  result(id: string, code: number, extra: Json = {}): void {
    this.send({ method: 'result', id, code, description: String(code), ...extra });
  }
  solutions(): Json[] {
    return this.received.filter((m) => m.method === 'solution');
  }
  async nextMessage(predicate: (message: Json) => boolean, from = 0): Promise<Json> {
    for (;;) {
      const found = this.received.slice(from).find(predicate);
      if (found !== undefined) return found;
      await once(this, 'message');
    }
  }
}

/** The node's answer to a login: result fields (raw, so tests can send malformed ones), or undefined for no answer. */
export type LoginReply = Json | undefined;

/**
 * Answers every login with `loginReply` (or, when it is a function, with what it returns for that attempt) and then
 * `firstJob`. After a refused login (code not 0) it closes the connection, as the node does (docs/node-protocol.md
 * "Messages"). `restart()` closes everything and listens again on the same port.
 */
export class ScriptedNode extends EventEmitter {
  readonly conns: ScriptedConn[] = [];
  loginReply: LoginReply | (() => LoginReply) = { code: 0, description: 'Login successful', nonceprefix: 'ab12' };
  firstJob: { id: string; height: number } | undefined = undefined;
  private server: Server;
  port = 0;

  /** With `tlsPems`, the node speaks TLS with that certificate (the node's default, docs/node-protocol.md). */
  constructor(private readonly tlsPems?: { cert: string; key: string }) {
    super();
    this.server = this.makeServer();
  }

  private makeServer(): Server {
    const onSocket = (socket: Socket): void => {
      const conn = new ScriptedConn(socket);
      this.conns.push(conn);
      conn.on('message', (message: Json) => {
        if (message.method !== 'login') return;
        const reply = typeof this.loginReply === 'function' ? this.loginReply() : this.loginReply;
        if (reply === undefined) return;
        conn.send({ method: 'result', id: message.id, ...reply });
        if (reply.code !== 0) {
          socket.end();
          return;
        }
        if (this.firstJob !== undefined) conn.job(this.firstJob.id, this.firstJob.height);
      });
      this.emit('connection', conn);
    };
    return this.tlsPems !== undefined ? createTlsServer(this.tlsPems, onSocket) : createNetServer(onSocket);
  }

  async listen(): Promise<number> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    assert.ok(address !== null && typeof address === 'object');
    this.port = address.port;
    return this.port;
  }

  async nextConnection(): Promise<ScriptedConn> {
    const [conn] = await once(this, 'connection');
    return conn as ScriptedConn;
  }

  dropAll(): void {
    for (const conn of this.conns) conn.socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A node restart: everything closed, then listening again on the same port. */
  async restart(): Promise<void> {
    await this.close();
    this.server = this.makeServer();
    await this.listen();
  }
}

export function scriptedUpstreamConfig(port: number, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    host: '127.0.0.1',
    port,
    tls: false,
    tlsVerify: false,
    tlsCaFile: '',
    apiKey: 'test-api-key-0001',
    connectTimeoutMs: 2_000,
    loginTimeoutMs: 2_000,
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    resultTimeoutMs: 5_000,
    maxLineBytes: 65_536,
    ...overrides,
  };
}
