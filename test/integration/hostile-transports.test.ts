// Transports against hostile peers on real sockets: TLS renegotiation is refused and the connection released
// at once (no zombie holding its slot and session); line and frame limits count bytes, not characters.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { silentLogger } from '../../src/config/logger.js';
import { LineSplitter, LineTooLongError } from '../../src/protocol/LineSplitter.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';
import type { ListenerConfig, Transport } from '../../src/transports/ListenerBase.js';
import { TcpTransport } from '../../src/transports/TcpTransport.js';
import { TlsTransport } from '../../src/transports/TlsTransport.js';
import type { CloseReason, ConnectionAcceptor } from '../../src/transports/types.js';
import { WsTransport } from '../../src/transports/WsTransport.js';
import { makeCertFiles } from '../support/tls.js';
import { waitFor, within } from '../support/wait.js';

const HOST = '127.0.0.1';
const logger = silentLogger();

interface Recorded {
  readonly lines: string[];
  readonly closes: { reason: CloseReason; detail?: string }[];
}

function recording(): { acceptor: ConnectionAcceptor; seen: Recorded[] } {
  const seen: Recorded[] = [];
  const acceptor: ConnectionAcceptor = () => {
    const entry: Recorded = { lines: [], closes: [] };
    seen.push(entry);
    return {
      onLine: (line) => entry.lines.push(line),
      onClose: (reason, detail) => entry.closes.push(detail === undefined ? { reason } : { reason, detail }),
    };
  };
  return { acceptor, seen };
}

function listenerConfig(overrides: Partial<ListenerConfig> = {}): ListenerConfig {
  return { host: HOST, maxLineBytes: 4096, idleTimeoutMs: 60_000, maxSendQueueBytes: 64 * 1024, closeGraceMs: 200, ...overrides };
}

const open: Transport[] = [];
let certDir = '';
let certFiles = { tlsCertFile: '', tlsKeyFile: '' };
before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'equigate-hostile-'));
  certFiles = await makeCertFiles(certDir, 'hostile.equigate.test');
});
after(async () => {
  await Promise.all(open.map((t) => t.close()));
  rmSync(certDir, { recursive: true, force: true });
});

describe('TLS renegotiation', () => {
  it('is refused outright: the connection is destroyed and its slot and session released at once', async () => {
    const { acceptor, seen } = recording();
    const limiter = new ConnectionLimiter({ maxConnections: 10, maxConnectionsPerIp: 10 }, logger);
    const transport = new TlsTransport({ ...listenerConfig(), tlsPort: 0, ...certFiles }, { acceptor, limiter, logger });
    open.push(transport);
    const port = await transport.listen();
    // TLS 1.3 has no renegotiation; a hostile client picks 1.2 to use it.
    const client = tlsConnect({ host: HOST, port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    client.on('error', () => {});
    const clientClosed = once(client, 'close');
    await once(client, 'secureConnect');
    await waitFor(() => seen.length === 1, 'the connection to reach the acceptor');
    assert.equal(limiter.size, 1);
    // Node's own limit lets a few renegotiations through, then only marks the connection: renegotiate past it.
    for (let attempt = 0; attempt < 6 && !client.destroyed; attempt += 1) {
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve()); // refused: the gateway destroys the connection, no callback
        const started = client.renegotiate({ rejectUnauthorized: false }, () => resolve());
        if (started !== true) resolve();
      });
      client.write('{"id":"1","method":"login","api_key":"x"}\n');
    }
    // Before: renegotiations succeeded, then the connection stayed open, holding its slot (a zombie).
    await within(clientClosed, 'the gateway to close the renegotiating connection', 5_000);
    await waitFor(() => seen[0]!.closes.length === 1, 'onClose for the renegotiating connection', 5_000);
    assert.equal(seen[0]!.closes[0]!.reason, 'socket-error');
    assert.equal(limiter.size, 0);
    assert.equal(transport.connectionCount, 0);
  });
});

describe('line limits count bytes', () => {
  it('LineSplitter: a line of multi-byte characters over the limit in bytes throws; one at the limit passes', () => {
    const splitter = new LineSplitter(600);
    assert.deepEqual(splitter.push(Buffer.from(`${'€'.repeat(200)}\n`)), ['€'.repeat(200)]); // 600 bytes
    assert.throws(() => new LineSplitter(600).push(Buffer.from(`${'€'.repeat(201)}\n`)), LineTooLongError);
    // Unterminated: 201 × 3 bytes pending is already over.
    assert.throws(() => new LineSplitter(600).push(Buffer.from('€'.repeat(201))), LineTooLongError);
  });

  it('LineSplitter: a character split across chunks decodes whole; one-byte chunks stay bounded', () => {
    const splitter = new LineSplitter(64);
    const bytes = Buffer.from('{"id":"€"}\n');
    const lines: string[] = [];
    for (const byte of bytes) lines.push(...splitter.push(Buffer.from([byte])));
    assert.deepEqual(lines, ['{"id":"€"}']);
    const dribble = new LineSplitter(64);
    assert.throws(() => {
      for (let i = 0; i < 65; i += 1) dribble.push(Buffer.from('x'));
    }, LineTooLongError);
  });

  it('tcp: a line of 300 three-byte characters (900 bytes) closes a 600-byte limit with line-too-long', async () => {
    const { acceptor, seen } = recording();
    const limiter = new ConnectionLimiter({ maxConnections: 10, maxConnectionsPerIp: 10 }, logger);
    const transport = new TcpTransport({ ...listenerConfig({ maxLineBytes: 600 }), port: 0 }, { acceptor, limiter, logger });
    open.push(transport);
    const port = await transport.listen();
    const client = netConnect({ host: HOST, port });
    client.on('error', () => {});
    await once(client, 'connect');
    client.write(`${'€'.repeat(200)}\n`); // exactly 600 bytes: delivered
    await waitFor(() => seen[0]?.lines.length === 1, 'the line at the limit');
    client.write(`${'€'.repeat(300)}\n`); // 300 UTF-16 units, 900 bytes
    // Before: counted 300 characters, under 600, and delivered it.
    await waitFor(() => seen[0]!.closes.length === 1, 'the connection to close', 5_000);
    assert.equal(seen[0]!.closes[0]!.reason, 'line-too-long');
    assert.equal(seen[0]!.lines.length, 1);
  });

  it('ws: a frame over maxLineBytes in bytes (under it in characters) closes with line-too-long', async () => {
    const { acceptor, seen } = recording();
    const limiter = new ConnectionLimiter({ maxConnections: 10, maxConnectionsPerIp: 10 }, logger);
    const transport = new WsTransport({ ...listenerConfig({ maxLineBytes: 600 }), wsPort: 0 }, { acceptor, limiter, logger });
    open.push(transport);
    const port = await transport.listen();
    const ws = new WebSocket(`ws://${HOST}:${port}/`);
    ws.on('error', () => {});
    const closed = once(ws, 'close');
    await once(ws, 'open');
    ws.send('€'.repeat(300));
    const [code] = (await closed) as [number];
    assert.equal(code, 1009);
    await waitFor(() => seen[0]?.closes.length === 1, 'onClose');
    assert.equal(seen[0]!.closes[0]!.reason, 'line-too-long');
    assert.equal(seen[0]!.lines.length, 0);
  });
});
