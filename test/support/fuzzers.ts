// Fuzzers for the gateway's three hostile inputs: miner lines (the session codec and a real Session), node lines
// (a real NodeLink fed by a scripted node over a socket), and raw WebSocket frames (a real WsTransport in front of
// a real MinerHub). Each checks that nothing throws out of the gateway and every answer is well-formed.
// test/integration/fuzz.test.ts runs them briefly in `npm test`; bench/fuzz.ts runs them for longer.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import fc from 'fast-check';
import { silentLogger } from '../../src/config/logger.js';
import { parseMessage, ProtocolError } from '../../src/protocol/messages.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';
import { WsTransport } from '../../src/transports/WsTransport.js';
import { NodeLink } from '../../src/upstream/NodeLink.js';
import type { UpstreamJob } from '../../src/upstream/types.js';
import { RecordingConnection } from './gatewayDoubles.js';
import { MinerHubHarness } from './minerHubHarness.js';
import { ScriptedNode, scriptedUpstreamConfig } from './scriptedNode.js';
import { waitFor } from './wait.js';

export const MINER_KEY = 'fuzz-miner-key-01';
const METHODS = ['login', 'solution', 'job', 'cancel', 'result'] as const;
const HEX_RE = /^[0-9a-f]*$/;

// ---- arbitraries ----

const hexString = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((bytes) => Buffer.from(bytes).toString('hex'));

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
  hexString(0, 120),
);

/** Protocol-shaped objects whose every field may be missing, of the wrong type, or out of range. */
function messageShaped(jobIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const id = fc.oneof(fc.constantFrom('login', '', 'x'.repeat(65), ...jobIds), fc.integer({ min: 0, max: 50 }).map(String), anyValue);
  return fc.record(
    {
      method: fc.oneof(fc.constantFrom(...METHODS, 'mining.subscribe', ''), anyValue),
      id,
      jsonrpc: fc.constantFrom('2.0', '1.0'),
      api_key: fc.oneof(fc.constant(MINER_KEY), anyValue),
      nonce: fc.oneof(hexString(8, 8), hexString(0, 10), anyValue),
      output: fc.oneof(hexString(36, 36), hexString(104, 104), anyValue),
      input: fc.oneof(hexString(32, 32), anyValue),
      difficulty: anyValue,
      height: anyValue,
      code: anyValue,
      description: anyValue,
      nonceprefix: anyValue,
      forkheight: anyValue,
      blockhash: anyValue,
    },
    { requiredKeys: [] },
  );
}

interface Mutation {
  readonly at: number;
  readonly kind: 'insert' | 'delete' | 'replace' | 'duplicate';
  readonly text: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
  text: fc.oneof(fc.string({ minLength: 1, maxLength: 4 }), fc.constantFrom('"', '{', '}', ',', ':', '\\', '\u0000', '\uffff', '€', '😀', '\r')),
});

function mutate(line: string, mutations: readonly Mutation[]): string {
  let out = line;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.text.length);
    else if (m.kind === 'replace') out = out.slice(0, at) + m.text + out.slice(at + m.text.length);
    else out = out.slice(0, at) + out.slice(at, at + 8) + out.slice(at);
  }
  return out;
}

/** Well-formed requests (login; solutions for live job ids with any prefix, right or wrong sizes) to mutate. */
function validShaped(jobIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.record({ method: fc.constant('login'), id: fc.constantFrom('login', 'l1'), api_key: fc.constantFrom(MINER_KEY, 'wrong-key-000000') }),
    fc.record({
      method: fc.constant('solution'),
      id: fc.constantFrom(...jobIds),
      // PREFIX: the session's own nonce prefix (4 hex digits), filled in by fuzzSessions once it has logged in.
      nonce: fc.oneof(hexString(8, 8), hexString(6, 6).map((hex) => `PREFIX${hex}`), hexString(7, 9)),
      output: fc.oneof(hexString(36, 36), hexString(104, 104), hexString(35, 37)),
      jsonrpc: fc.constant('2.0'),
    }),
  );
}

/** One line as a miner (or node) could send it: random text, random JSON, protocol-shaped objects, mutations. */
export function hostileLine(jobIds: readonly string[] = ['1']): fc.Arbitrary<string> {
  const shaped = messageShaped(jobIds).map((o) => JSON.stringify(o));
  const valid = validShaped(jobIds).map((o) => JSON.stringify(o));
  const base = fc.oneof(shaped, valid);
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
    { weight: 3, arbitrary: shaped },
    { weight: 3, arbitrary: valid },
    { weight: 4, arbitrary: fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([line, ms]) => mutate(line, ms)) },
  );
}

// ---- well-formed answers ----

/** A line the gateway sends a miner: one JSON object, a known method, fields of the right types. */
export function assertWellFormedMinerLine(line: string): void {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  assert.ok(!text.includes('\n'), `one line per message: ${JSON.stringify(line)}`);
  const message = JSON.parse(text) as Record<string, unknown>;
  assert.equal(typeof message, 'object');
  assert.equal(typeof message.id, 'string', line);
  switch (message.method) {
    case 'result':
      assert.ok(Number.isInteger(message.code), line);
      assert.equal(typeof message.description, 'string', line);
      if ('nonceprefix' in message) assert.match(String(message.nonceprefix), HEX_RE);
      return;
    case 'job':
      assert.match(String(message.id), /^[0-9]+$/);
      assert.match(String(message.input), /^[0-9a-f]{64}$/);
      assert.ok(Number.isInteger(message.difficulty) && Number.isInteger(message.height), line);
      return;
    case 'cancel':
      return;
    default:
      assert.fail(`unexpected method in ${line}`);
  }
}

// ---- 1. the session codec and a real Session ----

/** parseMessage either returns a typed message or throws ProtocolError, never anything else. */
export function fuzzCodec(numRuns: number, seed?: number): void {
  fc.assert(
    fc.property(hostileLine(['1', '2']), (line) => {
      try {
        const message = parseMessage(line);
        assert.ok((METHODS as readonly string[]).includes(message.method));
        assert.equal(typeof message.id, 'string');
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }) },
  );
}

/** A real MinerHub (sessions, JobBook, native verifier) with one live devnet job; connections record answers. */
export class SessionFuzzRig extends MinerHubHarness {
  readonly connections: RecordingConnection[] = [];

  constructor() {
    super({
      instanceId: '',
      jobHistory: 4,
      maxQueued: 256,
      maxPendingSolutions: 8,
      apiKeys: { openAccess: false, isAllowed: (key) => key === MINER_KEY },
    });
    this.upstream.login('');
    this.upstream.job(10, 0);
  }

  override connect(): RecordingConnection {
    const connection = super.connect();
    this.connections.push(connection);
    return connection;
  }

  /** Every line sent to any connection so far is well-formed. */
  checkAnswers(): void {
    for (const connection of this.connections) for (const line of connection.lines) assertWellFormedMinerLine(line);
  }
}

/** Sequences of hostile lines into fresh sessions (logged in or not): onLine never throws, answers well-formed. */
export async function fuzzSessions(numRuns: number, seed?: number): Promise<void> {
  const rig = new SessionFuzzRig();
  try {
    const loginLine = JSON.stringify({ method: 'login', id: 'l', api_key: MINER_KEY, jsonrpc: '2.0' });
    fc.assert(
      fc.property(fc.boolean(), fc.array(hostileLine(['1', '2']), { minLength: 1, maxLength: 15 }), (logIn, lines) => {
        const connection = rig.connect();
        if (logIn) connection.receive(loginLine);
        const login = connection.lines.length > 0 ? (JSON.parse(connection.lines[0]!) as { nonceprefix?: string }) : {};
        const prefix = login.nonceprefix ?? '0000';
        for (const line of lines) connection.receive(line.replaceAll('PREFIX', prefix)); // a throw fails the property
        for (const line of connection.lines) assertWellFormedMinerLine(line);
      }),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
    // Answers given after the verifier (or in a later tick) are checked too, before the sessions close.
    await new Promise((resolve) => setTimeout(resolve, 100));
    rig.checkAnswers();
    for (const connection of rig.connections) connection.close('peer-closed');
    await new Promise((resolve) => setTimeout(resolve, 10));
    rig.checkAnswers();
  } finally {
    await rig.close();
  }
}

// ---- 2. NodeLink fed by a hostile node ----

/**
 * A real NodeLink logged in to a scripted node over a socket; each run, the node sends hostile lines (and raw
 * bytes), then a sentinel job: the link must still be up and take it. Jobs it emits must be well-formed.
 */
export async function fuzzNodeLink(numRuns: number, seed?: number): Promise<void> {
  const node = new ScriptedNode();
  node.firstJob = { id: '1', height: 100 };
  await node.listen();
  const link = new NodeLink({ config: scriptedUpstreamConfig(node.port, { resultTimeoutMs: 30 }), logger: silentLogger() });
  const jobs: UpstreamJob[] = [];
  link.on('job', (job) => jobs.push(job));
  const connected = node.nextConnection();
  link.start();
  let conn = await connected;
  await waitFor(() => jobs.length > 0, 'the first job');
  let sentinel = 1_000_000;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(hostileLine(['1', 'login']), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'))), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        async (lines, submit) => {
          if (conn.socket.destroyed) {
            conn = node.conns[node.conns.length - 1]!;
          }
          const outcome = submit ? link.submitBlock('1', '00ab000000000001', 'c'.repeat(72)) : undefined;
          for (const line of lines) conn.sendRaw(`${line}\n`);
          const id = String(sentinel++);
          conn.job(id, 100);
          await waitFor(() => jobs.some((job) => job.id === id) || !link.isUp, `sentinel job ${id}`, 5_000, 1);
          if (!link.isUp) {
            // Only an over-long line may drop the link; wait for it to come back before the next run.
            await waitFor(() => link.isUp && node.conns[node.conns.length - 1] !== conn, 're-login', 5_000, 5);
            conn = node.conns[node.conns.length - 1]!;
          }
          for (const job of jobs) {
            assert.match(job.id, /^[0-9]{1,20}$/);
            assert.match(job.input, /^[0-9a-f]{64}$/);
            assert.ok(job.height >= 1 && Number.isSafeInteger(job.difficulty));
          }
          if (outcome !== undefined) {
            const settled = await outcome;
            assert.ok(['accepted', 'rejected', 'expired', 'unanswered', 'dropped'].includes(settled.status));
          }
        },
      ),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
  } finally {
    await link.stop();
    await node.close();
  }
}

// ---- 3. random WebSocket frames ----

interface Frame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
  /** Declare a length other than the payload's (a lie, or a truncated frame). */
  readonly lengthLie: number | undefined;
}

const frame: fc.Arbitrary<Frame> = fc.record({
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  opcode: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 4, arbitrary: fc.constantFrom(0, 2, 8, 9, 10) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  masked: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  payload: fc.oneof(
    hostileLine(['1']).map((line) => Buffer.from(line)),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  ),
  lengthLie: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.nat(70_000), fc.constant(2 ** 40)) }),
});

function encodeFrame(f: Frame): Buffer {
  const length = f.lengthLie ?? f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const maskBit = f.masked ? 0x80 : 0;
  let extended = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65_536) {
    head.push(maskBit | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    extended = Buffer.alloc(8);
    extended.writeBigUInt64BE(BigInt(length));
  }
  const key = f.masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(f.payload);
  if (f.masked) for (let i = 0; i < body.length; i += 1) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), extended, key, body]);
}

/** Text payloads of the server's (unmasked) frames in `data`; stops at a partial frame. */
function serverTexts(data: Buffer): string[] {
  const texts: string[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > data.length) break;
      length = data.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > data.length) break;
    if (opcode === 1) texts.push(data.subarray(start, start + length).toString('utf8'));
    at = start + length;
  }
  return texts;
}

async function wsHandshake(port: number): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let head = Buffer.alloc(0);
  const received: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const status = head.subarray(0, end).toString();
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (!status.startsWith('HTTP/1.1 101') || !status.includes(accept)) reject(new Error(`no upgrade: ${status}`));
      if (head.length > end + 4) received.push(head.subarray(end + 4));
      socket.on('data', (more: Buffer) => received.push(more));
      resolve();
    };
    socket.on('data', onData);
  });
  return { socket, received };
}

/**
 * A real WsTransport in front of a real MinerHub; each run, a raw client upgrades, logs in or not, sends random
 * frames (bad opcodes, unmasked, reserved bits, lying lengths, random text), then half-closes. The server must
 * close it (no zombie), every text frame it sent must be a well-formed line, and the listener must stay usable.
 */
export async function fuzzWebSocket(numRuns: number, seed?: number): Promise<void> {
  const rig = new SessionFuzzRig();
  const logger = silentLogger();
  const limiter = new ConnectionLimiter({ maxConnections: 1000, maxConnectionsPerIp: 1000 }, logger);
  const transport = new WsTransport(
    { host: '127.0.0.1', wsPort: 0, maxLineBytes: 4096, idleTimeoutMs: 10_000, maxSendQueueBytes: 65_536, closeGraceMs: 200, handshakeTimeoutMs: 2_000 },
    { acceptor: rig.hub.accept, limiter, logger },
  );
  const port = await transport.listen();
  const login = encodeFrame({ fin: true, rsv: 0, opcode: 1, masked: true, payload: Buffer.from(JSON.stringify({ method: 'login', id: 'l', api_key: MINER_KEY })), lengthLie: undefined });
  try {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 1, maxLength: 6 }), async (logIn, frames) => {
        const { socket, received } = await wsHandshake(port);
        const closed = once(socket, 'close');
        if (logIn) socket.write(login);
        for (const f of frames) socket.write(encodeFrame(f));
        socket.end();
        await closed;
        for (const text of serverTexts(Buffer.concat(received))) assertWellFormedMinerLine(text);
      }),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
    await waitFor(() => transport.connectionCount === 0 && limiter.size === 0, 'every fuzzed connection to be released', 5_000);
    // Still serving: a well-formed client logs in and is answered.
    const { socket, received } = await wsHandshake(port);
    socket.write(login);
    await waitFor(() => serverTexts(Buffer.concat(received)).length > 0, 'a login answer after the fuzzing', 5_000);
    const [answer] = serverTexts(Buffer.concat(received));
    assertWellFormedMinerLine(answer!);
    assert.equal((JSON.parse(answer!) as { code: number }).code, 0);
    socket.destroy();
  } finally {
    await transport.close();
    await rig.close();
  }
}
