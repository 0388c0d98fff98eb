// Transports over real sockets on 127.0.0.1: lines in and out, limits, slow readers, idle, garbage, TLS reload.
// Never asserts on elapsed time: small timeouts in config, then wait for the event.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { createLogger, silentLogger } from '../../src/config/logger.js';
import { LineSplitter } from '../../src/protocol/LineSplitter.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';
import type { ListenerConfig, Transport, TransportDeps } from '../../src/transports/ListenerBase.js';
import { TcpTransport } from '../../src/transports/TcpTransport.js';
import { TlsTransport } from '../../src/transports/TlsTransport.js';
import type { CloseReason, ConnectionAcceptor, LineConnection } from '../../src/transports/types.js';
import { WsTransport } from '../../src/transports/WsTransport.js';
import { makeCertFiles } from '../support/tls.js';

const HOST = '127.0.0.1';
const logger = process.env.DEBUG_LOG ? createLogger("debug", process.stdout) : silentLogger();

/** What the session layer would see: every connection, its lines and its (single) close. */
interface Seen {
  readonly connection: LineConnection;
  readonly lines: string[];
  closes: { reason: CloseReason; detail?: string }[];
}

class Recorder extends EventEmitter {
  readonly seen: Seen[] = [];
  readonly acceptor: ConnectionAcceptor = (connection) => {
    const entry: Seen = { connection, lines: [], closes: [] };
    this.seen.push(entry);
    this.emit('open', entry);
    return {
      onLine: (line) => {
        entry.lines.push(line);
        this.emit('line', entry, line);
      },
      onClose: (reason, detail) => {
        entry.closes.push(detail === undefined ? { reason } : { reason, detail });
        this.emit('close', entry, reason);
      },
    };
  };

  nextOpen(): Promise<Seen> {
    return once(this, 'open').then(([entry]) => entry as Seen);
  }

  /** Resolves once `entry` has closed (at once if it already has). */
  async closed(entry: Seen): Promise<CloseReason> {
    while (entry.closes.length === 0) await once(this, 'close');
    return entry.closes[0]!.reason;
  }

  async lineFrom(entry: Seen, count = 1): Promise<string[]> {
    while (entry.lines.length < count) await once(this, 'line');
    return entry.lines;
  }
}

function listenerConfig(overrides: Partial<ListenerConfig> = {}): ListenerConfig {
  return { host: HOST, maxLineBytes: 4096, idleTimeoutMs: 60_000, maxSendQueueBytes: 64 * 1024, closeGraceMs: 200, ...overrides };
}

function deps(recorder: Recorder, limits = { maxConnections: 100, maxConnectionsPerIp: 100 }): TransportDeps {
  return { acceptor: recorder.acceptor, limiter: new ConnectionLimiter(limits, logger), logger };
}

/** A line-reading client over a plain or TLS stream. */
class StreamClient {
  readonly lines: string[] = [];
  readonly events = new EventEmitter();
  readonly ended: Promise<void>;
  private readonly splitter = new LineSplitter(1 << 20);

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        this.lines.push(line);
        this.events.emit('line');
      }
    });
    socket.on('error', () => {});
    this.ended = new Promise((resolve) => socket.on('close', () => resolve())); // events.once would reject on 'error'
  }

  async nextLines(count: number): Promise<string[]> {
    while (this.lines.length < count) await once(this.events, 'line');
    return this.lines;
  }
}

async function tcpClient(port: number): Promise<StreamClient> {
  const socket = netConnect({ host: HOST, port });
  await once(socket, 'connect');
  return new StreamClient(socket);
}

async function tlsClient(port: number): Promise<StreamClient & { socket: TLSSocket }> {
  const socket = tlsConnect({ host: HOST, port, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  return new StreamClient(socket) as StreamClient & { socket: TLSSocket };
}

class WsClient {
  readonly messages: string[] = [];
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(String(data)));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }
  async nextMessages(count: number): Promise<string[]> {
    while (this.messages.length < count) await once(this.ws, 'message');
    return this.messages;
  }
}

async function wsClient(port: number): Promise<WsClient> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`);
  const client = new WsClient(ws);
  await once(ws, 'open');
  return client;
}

const open: Transport[] = [];
async function started<T extends Transport>(transport: T): Promise<{ transport: T; port: number }> {
  open.push(transport);
  return { transport, port: await transport.listen() };
}

let certDir = '';
let certFiles = { tlsCertFile: '', tlsKeyFile: '' };
before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'equigate-transports-'));
  certFiles = await makeCertFiles(certDir, 'first.equigate.test');
});
after(async () => {
  await Promise.all(open.map((t) => t.close()));
  rmSync(certDir, { recursive: true, force: true });
});

describe('lines in and out', () => {
  it('tcp: delivers lines (blank and \\r ignored) and sends lines back', async () => {
    const recorder = new Recorder();
    const { port } = await started(new TcpTransport({ ...listenerConfig(), port: 0 }, deps(recorder)));
    const opened = recorder.nextOpen();
    const client = await tcpClient(port);
    const entry = await opened;
    assert.equal(entry.connection.transport, 'tcp');
    assert.equal(entry.connection.remoteAddress, HOST);
    client.socket.write('{"id":"1","method":"login"}\r\n\n  \n{"id":"2",');
    client.socket.write('"method":"x"} \n');
    assert.deepEqual(await recorder.lineFrom(entry, 2), ['{"id":"1","method":"login"}', '{"id":"2","method":"x"}']);
    assert.equal(entry.connection.send('{"id":"1","code":0}\n'), true);
    assert.equal(entry.connection.send('{"id":"2","code":1}'), true); // a missing \n is added
    assert.deepEqual(await client.nextLines(2), ['{"id":"1","code":0}', '{"id":"2","code":1}']);
    client.socket.end();
    assert.equal(await recorder.closed(entry), 'peer-closed');
    assert.equal(entry.connection.closed, true);
    assert.equal(entry.connection.send('late'), false);
    assert.equal(entry.closes.length, 1);
  });

  it('tls: delivers lines and sends lines back', async () => {
    const recorder = new Recorder();
    const { port } = await started(new TlsTransport({ ...listenerConfig(), tlsPort: 0, ...certFiles }, deps(recorder)));
    const opened = recorder.nextOpen();
    const client = await tlsClient(port);
    const entry = await opened;
    assert.equal(entry.connection.transport, 'tls');
    client.socket.write('{"id":"1","method":"login"}\n');
    assert.deepEqual(await recorder.lineFrom(entry), ['{"id":"1","method":"login"}']);
    entry.connection.send('{"id":"1","code":0}\n');
    assert.deepEqual(await client.nextLines(1), ['{"id":"1","code":0}']);
    entry.connection.close('login-failed');
    await client.ended;
    assert.equal(await recorder.closed(entry), 'login-failed');
    assert.equal(entry.closes.length, 1);
  });

  it('ws: one message per frame, a trailing newline accepted, lines go out without \\n', async () => {
    const recorder = new Recorder();
    const { port } = await started(new WsTransport({ ...listenerConfig(), wsPort: 0 }, deps(recorder)));
    const opened = recorder.nextOpen();
    const client = await wsClient(port);
    const entry = await opened;
    assert.equal(entry.connection.transport, 'ws');
    client.ws.send('{"id":"1","method":"login"}');
    client.ws.send('{"id":"2","method":"x"}\n');
    client.ws.send('\r\n');
    client.ws.send('{"id":"3","method":"y"}\r\n');
    assert.deepEqual(await recorder.lineFrom(entry, 3), ['{"id":"1","method":"login"}', '{"id":"2","method":"x"}', '{"id":"3","method":"y"}']);
    entry.connection.send('{"id":"1","code":0}\n');
    assert.deepEqual(await client.nextMessages(1), ['{"id":"1","code":0}']);
    client.ws.close();
    assert.equal(await recorder.closed(entry), 'peer-closed');
    assert.equal(entry.closes.length, 1);
  });

  it('ws: a plain HTTP request gets 426 and never reaches the acceptor', async () => {
    const recorder = new Recorder();
    const { port } = await started(new WsTransport({ ...listenerConfig(), wsPort: 0 }, deps(recorder)));
    const response = await fetch(`http://${HOST}:${port}/`);
    assert.equal(response.status, 426);
    await response.text();
    assert.equal(recorder.seen.length, 0);
  });
});

describe('oversize and bad input', () => {
  it('tcp: a line over maxLineBytes closes with line-too-long', async () => {
    const recorder = new Recorder();
    const { port } = await started(new TcpTransport({ ...listenerConfig({ maxLineBytes: 64 }), port: 0 }, deps(recorder)));
    const opened = recorder.nextOpen();
    const client = await tcpClient(port);
    const entry = await opened;
    client.socket.write(`${'x'.repeat(60)}\n`);
    await recorder.lineFrom(entry);
    client.socket.write('y'.repeat(100)); // no newline: overflow is detected without one
    assert.equal(await recorder.closed(entry), 'line-too-long');
    await client.ended;
    assert.equal(entry.lines.length, 1);
  });

  it('ws: an oversize frame closes with line-too-long, a binary frame with protocol-violation', async () => {
    const recorder = new Recorder();
    const { port } = await started(new WsTransport({ ...listenerConfig({ maxLineBytes: 64 }), wsPort: 0 }, deps(recorder)));
    let opened = recorder.nextOpen();
    const big = await wsClient(port);
    const bigEntry = await opened;
    big.ws.send('z'.repeat(65));
    assert.equal(await recorder.closed(bigEntry), 'line-too-long');
    assert.equal(await big.closed, 1009);

    opened = recorder.nextOpen();
    const binary = await wsClient(port);
    const binaryEntry = await opened;
    binary.ws.send(Buffer.from('{"id":"1"}'));
    assert.equal(await recorder.closed(binaryEntry), 'protocol-violation');
    await binary.closed;
    assert.equal(binaryEntry.lines.length, 0);
  });

  it('garbage and half-open sockets on every port never disturb a healthy connection', async () => {
    const recorder = new Recorder();
    const shared = deps(recorder);
    const tcp = await started(new TcpTransport({ ...listenerConfig({ maxLineBytes: 128, closeGraceMs: 100 }), port: 0 }, shared));
    const tls = await started(new TlsTransport({ ...listenerConfig({ handshakeTimeoutMs: 200 }), tlsPort: 0, ...certFiles }, shared));
    const ws = await started(new WsTransport({ ...listenerConfig({ handshakeTimeoutMs: 200 }), wsPort: 0 }, shared));

    const opened = recorder.nextOpen();
    const healthy = await tcpClient(tcp.port);
    const healthyEntry = await opened;

    const garbage = Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x00, 0x0a, 0x80, 0xfe, 0x0a, 0x00]);
    const abusers: Socket[] = [];
    for (const port of [tcp.port, tls.port, ws.port]) {
      // raw bytes then a half-close; raw bytes then a reset; a connection that says nothing and half-closes
      const a = netConnect({ host: HOST, port });
      a.on('error', () => {});
      a.end(garbage);
      const b = netConnect({ host: HOST, port });
      b.on('error', () => {});
      b.write(garbage, () => b.resetAndDestroy());
      const c = netConnect({ host: HOST, port });
      c.on('error', () => {});
      c.on('connect', () => c.end());
      abusers.push(a, b, c);
    }
    for (const socket of abusers) socket.resume(); // read whatever the server answers, so 'close' can come
    await Promise.all(abusers.map((socket) => new Promise((resolve) => socket.on('close', resolve))));

    healthy.socket.write('{"id":"ok"}\n');
    assert.deepEqual(await recorder.lineFrom(healthyEntry), ['{"id":"ok"}']);
    healthyEntry.connection.send('{"still":"here"}');
    assert.deepEqual(await healthy.nextLines(1), ['{"still":"here"}']);
    assert.equal(healthyEntry.closes.length, 0);

    // every abuser that reached the acceptor was closed exactly once; the limiter holds only the healthy one
    for (const entry of recorder.seen.filter((e) => e !== healthyEntry)) {
      await recorder.closed(entry);
      assert.equal(entry.closes.length, 1);
    }
    while (shared.limiter.size > 1) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(shared.limiter.size, 1);
    healthy.socket.end();
    await recorder.closed(healthyEntry);
  });
});

describe('limits', () => {
  it('refuses connections over the per-IP limit and admits again once one closes', async () => {
    const recorder = new Recorder();
    const shared = deps(recorder, { maxConnections: 0, maxConnectionsPerIp: 2 });
    const { port } = await started(new TcpTransport({ ...listenerConfig(), port: 0 }, shared));
    const first = await tcpClient(port);
    await tcpClient(port);
    while (recorder.seen.length < 2) await recorder.nextOpen();
    const refused = await tcpClient(port);
    await refused.ended; // closed at once, never handed to the acceptor
    assert.equal(recorder.seen.length, 2);
    assert.equal(shared.limiter.countFor(HOST), 2);

    first.socket.end();
    await recorder.closed(recorder.seen[0]!);
    while (shared.limiter.countFor(HOST) > 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const opened = recorder.nextOpen();
    await tcpClient(port);
    await opened;
    assert.equal(recorder.seen.length, 3);
  });

  it('counts tcp, tls and ws together against the overall limit', async () => {
    const recorder = new Recorder();
    const shared = deps(recorder, { maxConnections: 2, maxConnectionsPerIp: 0 });
    const tcp = await started(new TcpTransport({ ...listenerConfig(), port: 0 }, shared));
    const tls = await started(new TlsTransport({ ...listenerConfig(), tlsPort: 0, ...certFiles }, shared));
    const ws = await started(new WsTransport({ ...listenerConfig(), wsPort: 0 }, shared));
    await tcpClient(tcp.port);
    await tlsClient(tls.port);
    while (recorder.seen.length < 2) await recorder.nextOpen();

    const refusedWs = new WsClient(new WebSocket(`ws://${HOST}:${ws.port}/`));
    await refusedWs.closed;
    const refusedTcp = netConnect({ host: HOST, port: tcp.port });
    refusedTcp.on('error', () => {});
    await new Promise((resolve) => refusedTcp.on('close', resolve));
    assert.equal(recorder.seen.length, 2);
    assert.equal(shared.limiter.size, 2);
  });
});

describe('slow readers and idle peers', () => {
  /** Sends until the connection refuses, yielding now and then so the socket can report back. */
  async function flood(connection: LineConnection): Promise<number> {
    const line = `{"method":"job","pad":"${'p'.repeat(1000)}"}`;
    for (let sent = 0; sent < 1_000_000; sent++) {
      if (!connection.send(line)) return sent;
      if (sent % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('the connection never refused a line');
  }

  for (const kind of ['tcp', 'tls', 'ws'] as const) {
    it(`${kind}: a client that never reads is dropped with send-queue-full`, async () => {
      const recorder = new Recorder();
      const config = { ...listenerConfig({ maxSendQueueBytes: 32 * 1024 }), port: 0, tlsPort: 0, wsPort: 0, ...certFiles };
      const transport =
        kind === 'tcp' ? new TcpTransport(config, deps(recorder)) : kind === 'tls' ? new TlsTransport(config, deps(recorder)) : new WsTransport(config, deps(recorder));
      const { port } = await started(transport);
      const opened = recorder.nextOpen();
      let clientSocket: Socket;
      let closed: Promise<unknown>;
      if (kind === 'ws') {
        const client = await wsClient(port);
        clientSocket = (client.ws as unknown as { _socket: Socket })._socket;
        closed = client.closed;
      } else {
        const client = kind === 'tcp' ? await tcpClient(port) : await tlsClient(port);
        clientSocket = client.socket;
        closed = client.ended;
      }
      clientSocket.pause();
      const entry = await opened;
      await flood(entry.connection);
      assert.equal(entry.connection.closed, true);
      assert.equal(await recorder.closed(entry), 'send-queue-full');
      clientSocket.resume(); // a paused client would never read the reset
      await closed;
      assert.equal(entry.closes.length, 1);
    });
  }

  it('tcp and ws: a silent connection is closed with idle-timeout', async () => {
    const recorder = new Recorder();
    const shared = deps(recorder);
    const tcp = await started(new TcpTransport({ ...listenerConfig({ idleTimeoutMs: 150 }), port: 0 }, shared));
    const ws = await started(new WsTransport({ ...listenerConfig({ idleTimeoutMs: 150 }), wsPort: 0 }, shared));
    const tcpClientSocket = await tcpClient(tcp.port);
    const wsc = await wsClient(ws.port);
    while (recorder.seen.length < 2) await recorder.nextOpen();
    for (const entry of recorder.seen) assert.equal(await recorder.closed(entry), 'idle-timeout');
    await tcpClientSocket.ended;
    await wsc.closed;
  });
});

describe('shutdown and TLS reload', () => {
  it('close() stops accepting and closes every connection with server-shutdown', async () => {
    const recorder = new Recorder();
    const shared = deps(recorder);
    const transport = new TcpTransport({ ...listenerConfig(), port: 0 }, shared);
    const port = await transport.listen();
    const clients = [await tcpClient(port), await tcpClient(port)];
    while (recorder.seen.length < 2) await recorder.nextOpen();
    recorder.seen[0]!.connection.send('{"last":"words"}');
    await transport.close();
    for (const entry of recorder.seen) assert.deepEqual(entry.closes, [{ reason: 'server-shutdown' }]);
    await Promise.all(clients.map((c) => c.ended));
    assert.deepEqual(clients[0]!.lines, ['{"last":"words"}']);
    assert.equal(shared.limiter.size, 0);
    await assert.rejects(tcpClient(port));
  });

  it('reloadCertificates() serves the new certificate to new handshakes; a bad reload keeps the current one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'equigate-reload-'));
    try {
      const files = await makeCertFiles(dir, 'old.equigate.test');
      const recorder = new Recorder();
      const transport = new TlsTransport({ ...listenerConfig(), tlsPort: 0, ...files }, deps(recorder));
      const { port } = await started(transport);
      const before = await tlsClient(port);
      assert.equal(before.socket.getPeerCertificate().subject.CN, 'old.equigate.test');

      await makeCertFiles(dir, 'new.equigate.test');
      assert.equal(await transport.reloadCertificates(), true);
      const afterReload = await tlsClient(port);
      assert.equal(afterReload.socket.getPeerCertificate().subject.CN, 'new.equigate.test');

      writeFileSync(files.tlsKeyFile, 'not a key');
      assert.equal(await transport.reloadCertificates(), false);
      const other = await makeCertFiles(mkdtempSync(join(dir, 'x')), 'mismatch.equigate.test');
      writeFileSync(files.tlsKeyFile, readFileSync(other.tlsKeyFile));
      assert.equal(await transport.reloadCertificates(), false); // key does not match the certificate
      const afterFailure = await tlsClient(port);
      assert.equal(afterFailure.socket.getPeerCertificate().subject.CN, 'new.equigate.test');

      // the connection made before the reload still works
      while (recorder.seen.length < 3) await recorder.nextOpen();
      recorder.seen[0]!.connection.send('{"still":"old"}');
      assert.deepEqual(await before.nextLines(1), ['{"still":"old"}']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing certificate file is a typed error at construction', () => {
    assert.throws(
      () => new TlsTransport({ ...listenerConfig(), tlsPort: 0, tlsCertFile: '/nonexistent/cert.pem', tlsKeyFile: '/nonexistent/key.pem' }, deps(new Recorder())),
      (error: Error & { code?: string }) => error.code === 'TLS_CERT_LOAD',
    );
  });
});
