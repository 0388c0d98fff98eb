// NodeLink when the node (or the link) misbehaves: a skipped answer must not shift later ones, a block whose
// answer is lost with the link is sent again after re-login, and malformed login fields are a failed login.
// Real sockets on 127.0.0.1 against a scripted node; no timing assertions (small timeouts, then wait for events).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import type { UpstreamConfig } from '../../src/config/schema.js';
import { EventBus, type UpstreamEvent } from '../../src/events/EventBus.js';
import { NodeLink } from '../../src/upstream/NodeLink.js';
import type { UpstreamLogin } from '../../src/upstream/types.js';
import { LogCapture, ScriptedNode, scriptedUpstreamConfig, type ScriptedConn } from '../support/scriptedNode.js';

const NONCE_A = '00ab000000000001';
const NONCE_B = '00ab000000000002';
const OUTPUT = 'c'.repeat(208);
const BLOCK_HASH = 'b2'.repeat(32);

const links: NodeLink[] = [];
const nodes: ScriptedNode[] = [];
after(async () => {
  await Promise.all(links.map((link) => link.stop()));
  await Promise.all(nodes.map((node) => node.close()));
});

interface Harness {
  readonly node: ScriptedNode;
  readonly link: NodeLink;
  readonly logs: LogCapture;
  readonly states: UpstreamEvent[];
  readonly logins: UpstreamLogin[];
}

async function start(firstJob: { id: string; height: number } | undefined, overrides: Partial<UpstreamConfig> = {}): Promise<Harness & { conn: ScriptedConn }> {
  const node = new ScriptedNode();
  nodes.push(node);
  node.firstJob = firstJob;
  await node.listen();
  const logs = new LogCapture();
  const bus = new EventBus();
  const states: UpstreamEvent[] = [];
  bus.subscribe('upstream', 'test', (event) => states.push(event));
  const link = new NodeLink({ config: scriptedUpstreamConfig(node.port, overrides), logger: logs.logger(), bus });
  links.push(link);
  const logins: UpstreamLogin[] = [];
  link.on('login', (login) => logins.push(login));
  const connected = node.nextConnection();
  const firstJobSeen = firstJob === undefined ? Promise.resolve() : once(link, 'job');
  link.start();
  const conn = await connected;
  await firstJobSeen;
  return { node, link, logs, states, logins, conn };
}

describe('answers the node skips', () => {
  it('a skipped answer for a timed-out block is not taken from the next block of the same job id', async () => {
    const h = await start({ id: '41', height: 500 }, { resultTimeoutMs: 300 });
    const first = await h.link.submitBlock('41', NONCE_A, OUTPUT); // the node never answers this one
    assert.equal(first.status, 'unanswered');
    const second = h.link.submitBlock('41', NONCE_B, OUTPUT);
    await h.conn.nextMessage((m) => m.method === 'solution' && m.nonce === NONCE_B);
    h.conn.result('41', 1, { description: 'accepted', blockhash: BLOCK_HASH });
    // Before: this answer went to the first (timed-out) block and the second was reported unanswered.
    assert.deepEqual(await second, { status: 'accepted', code: 1, blockHash: BLOCK_HASH });
  });

  it('answers for other job ids are matched by job id, unaffected by a skipped one', async () => {
    const h = await start({ id: '41', height: 500 }, { resultTimeoutMs: 300 });
    const skipped = h.link.submitBlock('41', NONCE_A, OUTPUT);
    const other = h.link.submitBlock('40', NONCE_B, OUTPUT);
    while (h.conn.solutions().length < 2) await once(h.conn, 'message');
    h.conn.result('40', 3, { description: 'expired' });
    assert.deepEqual(await other, { status: 'expired', code: 3, detail: 'expired' });
    assert.equal((await skipped).status, 'unanswered');
  });
});

describe('a block whose answer is lost with the link', () => {
  it('is sent again after re-login while its height is current, and its answer is reported', async () => {
    const h = await start({ id: '7', height: 900 });
    const outcome = h.link.submitBlock('7', NONCE_A, OUTPUT);
    await h.conn.nextMessage((m) => m.method === 'solution');
    const reconnected = h.node.nextConnection();
    h.node.dropAll(); // the link drops just after the block went out, before the node answered
    const conn = await reconnected;
    const resent = await conn.nextMessage((m) => m.method === 'solution');
    assert.deepEqual(resent, { method: 'solution', id: '7', nonce: NONCE_A, output: OUTPUT, jsonrpc: '2.0' });
    conn.result('7', 1, { description: 'accepted', blockhash: BLOCK_HASH });
    // Before: 'unanswered' at the drop, never sent again.
    assert.deepEqual(await outcome, { status: 'accepted', code: 1, blockHash: BLOCK_HASH });
  });

  it('is dropped (and logged) when the node is at another height after re-login', async () => {
    const h = await start({ id: '7', height: 900 });
    const outcome = h.link.submitBlock('7', NONCE_A, OUTPUT);
    await h.conn.nextMessage((m) => m.method === 'solution');
    h.node.firstJob = { id: '1', height: 901 };
    const reconnected = h.node.nextConnection();
    h.node.dropAll();
    const conn = await reconnected;
    const result = await outcome;
    assert.equal(result.status, 'dropped');
    assert.match(result.detail ?? '', /901/);
    assert.equal(conn.solutions().length, 0);
  });

  it('is sent at most three times when the link keeps dropping on it', async () => {
    const h = await start({ id: '7', height: 900 });
    h.node.on('connection', (conn: ScriptedConn) => {
      conn.on('message', (m) => {
        if (m.method === 'solution') conn.socket.destroy(); // the node drops us on every copy
      });
    });
    h.conn.on('message', (m) => {
      if (m.method === 'solution') h.conn.socket.destroy();
    });
    const result = await h.link.submitBlock('7', NONCE_A, OUTPUT);
    assert.equal(result.status, 'unanswered');
    const sent = h.node.conns.reduce((n, c) => n + c.solutions().length, 0);
    assert.equal(sent, 3);
  });
});

describe('malformed login fields from the node', () => {
  for (const [field, value] of [
    ['nonceprefix', 123],
    ['nonceprefix', null],
    ['nonceprefix', ['ab']],
    ['forkheight', 'ten'],
    ['forkheight2', -1],
  ] as const) {
    it(`${field}: ${JSON.stringify(value)} is a failed login with a clear log line`, async () => {
      const node = new ScriptedNode();
      nodes.push(node);
      node.loginReply = { code: 0, description: 'Login successful', [field]: value };
      node.firstJob = { id: '1', height: 5 };
      await node.listen();
      const logs = new LogCapture();
      const bus = new EventBus();
      const states: UpstreamEvent[] = [];
      bus.subscribe('upstream', 'test', (event) => states.push(event));
      const link = new NodeLink({ config: scriptedUpstreamConfig(node.port), logger: logs.logger(), bus });
      links.push(link);
      let logins = 0;
      link.on('login', () => (logins += 1));
      link.start();
      const line = await logs.waitFor((e) => /malformed login result/.test(String(e.msg)));
      assert.equal(line.level, 50);
      assert.match(String(line.problem), new RegExp(field));
      await logs.waitFor((e) => e.msg === 'node link down; reconnecting' && /malformed login result/.test(String(e.reason)));
      // Before: a non-string nonceprefix was read as "no prefix" and the login went through.
      assert.equal(logins, 0);
      assert.equal(link.isUp, false);
      await link.stop();
    });
  }
});
