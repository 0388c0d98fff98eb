// NodeLink against the scripted node stand-in (test/support/scriptedNode.ts, plain or TLS) and against SimNode.
// Real sockets on 127.0.0.1 only; never asserts on elapsed time (small timeouts in config, then wait for events).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type Logger } from '../../src/config/logger.js';
import type { UpstreamConfig } from '../../src/config/schema.js';
import { EventBus, type UpstreamEvent } from '../../src/events/EventBus.js';
import { selfSignedPair } from '../../src/transports/certificates.js';
import { NodeLink, type NodeLinkOptions } from '../../src/upstream/NodeLink.js';
import { SimNode } from '../../src/sim/SimNode.js';
import { INPUT, LogCapture, ScriptedNode, scriptedUpstreamConfig, type ScriptedConn } from '../support/scriptedNode.js';
import type { BlockSubmitOutcome, UpstreamJob, UpstreamLogin } from '../../src/upstream/types.js';

const HOST = '127.0.0.1';
const NONCE = '00ab000000000001';
const OUTPUT = 'c'.repeat(208);
const BLOCK_HASH = 'b2'.repeat(32);

interface Harness {
  readonly link: NodeLink;
  readonly logs: LogCapture;
  readonly states: UpstreamEvent[];
  readonly logins: UpstreamLogin[];
  readonly jobs: UpstreamJob[];
  readonly downs: string[];
}

const links: NodeLink[] = [];
function startLink(config: UpstreamConfig, extra: Partial<NodeLinkOptions> = {}): Harness {
  const logs = new LogCapture();
  const logger: Logger = createLogger('debug', logs);
  const bus = new EventBus();
  const states: UpstreamEvent[] = [];
  bus.subscribe('upstream', 'test', (event) => states.push(event));
  const link = new NodeLink({ config, logger, bus, ...extra });
  const harness: Harness = { link, logs, states, logins: [], jobs: [], downs: [] };
  link.on('login', (login) => harness.logins.push(login));
  link.on('job', (job) => harness.jobs.push(job));
  link.on('down', (reason) => harness.downs.push(reason));
  links.push(link);
  link.start();
  return harness;
}

async function nextEvent<T>(link: NodeLink, event: 'login' | 'job' | 'down'): Promise<T> {
  const [value] = await once(link, event);
  return value as T;
}

const nodes: ScriptedNode[] = [];
async function scriptedNode(tlsPems?: { cert: string; key: string }): Promise<ScriptedNode> {
  const node = new ScriptedNode(tlsPems);
  nodes.push(node);
  await node.listen();
  return node;
}

after(async () => {
  await Promise.all(links.map((link) => link.stop()));
  await Promise.all(nodes.map((node) => node.close().catch(() => undefined)));
});

describe('login', () => {
  it('logs in with a well-formed line and reports the prefix and fork heights', async () => {
    const node = await scriptedNode();
    node.loginReply = { code: 0, description: 'Login successful', nonceprefix: 'ab12', forkheight: 10, forkheight2: 20 };
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port));
    const conn = await connected;
    const login = await nextEvent<UpstreamLogin>(h.link, 'login');
    assert.deepEqual(login, { noncePrefix: 'ab12', forkHeight: 10, forkHeight2: 20 });
    assert.equal(h.link.isUp, true);
    assert.deepEqual(conn.received[0], { method: 'login', id: 'login', api_key: 'test-api-key-0001', jsonrpc: '2.0' });
    assert.deepEqual(
      h.states.map((s) => s.state),
      ['connecting', 'connected', 'logged-in'],
    );
    // the api key never reaches the logs
    assert.ok(!h.logs.entries.some((entry) => JSON.stringify(entry).includes('test-api-key-0001')));
  });

  it('a refused api key (-32003) is logged as such and retried with backoff', async () => {
    const node = await scriptedNode();
    let attempts = 0;
    node.loginReply = () => {
      attempts += 1;
      return attempts < 3 ? { code: -32003, description: 'Login failed' } : { code: 0, description: 'Login successful' };
    };
    const h = startLink(scriptedUpstreamConfig(node.port));
    const refused = await h.logs.waitFor((entry) => entry.level === 50 && /api key/.test(String(entry.msg)));
    assert.equal(refused.code, -32003);
    const login = await nextEvent<UpstreamLogin>(h.link, 'login');
    assert.equal(login.noncePrefix, '');
    assert.equal(attempts, 3);
    assert.deepEqual(h.downs, []); // never up before, so never "down"
    assert.ok(h.states.filter((s) => s.state === 'disconnected').every((s) => /api key refused/.test(s.detail ?? '')));
  });

  it('no login result within loginTimeoutMs drops the connection and tries again', async () => {
    const node = await scriptedNode();
    let attempts = 0;
    node.loginReply = () => (++attempts === 1 ? undefined : { code: 0, description: 'ok' });
    const h = startLink(scriptedUpstreamConfig(node.port, { loginTimeoutMs: 100 }));
    await nextEvent(h.link, 'login');
    assert.equal(attempts, 2);
    assert.ok(h.states.some((s) => s.state === 'disconnected' && /no login result/.test(s.detail ?? '')));
  });
});

describe('jobs', () => {
  it('emits valid jobs and logs (never crashes on) the node\'s malformed lines', async () => {
    const node = await scriptedNode();
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port));
    const conn = await connected;
    await nextEvent(h.link, 'login');
    conn.sendRaw('this is not json\n');
    conn.send({ method: 'job', id: '7', input: 'zz', difficulty: 1, height: 5 }); // bad input
    conn.send({ method: 'job', id: '8', input: INPUT, difficulty: 1 }); // no height
    conn.send({ method: 'job', id: 'x9', input: INPUT, difficulty: 1, height: 5 }); // non-decimal id
    conn.send({ method: 'result', id: '12345', code: 1 }); // answer to nothing
    conn.job('9', 100);
    const job = await nextEvent<UpstreamJob>(h.link, 'job');
    assert.deepEqual(job, { id: '9', input: INPUT, difficulty: 0x04000000, height: 100 });
    assert.equal(h.jobs.length, 1);
    assert.equal(h.link.isUp, true);
    assert.ok(h.logs.entries.filter((e) => /malformed/.test(String(e.msg))).length >= 4);
  });
});

describe('submitBlock', () => {
  async function loggedInWithJob(overrides: Partial<UpstreamConfig> = {}): Promise<{ h: Harness; conn: ScriptedConn; node: ScriptedNode }> {
    const node = await scriptedNode();
    node.firstJob = { id: '41', height: 500 };
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port, overrides));
    const conn = await connected;
    await nextEvent(h.link, 'job');
    return { h, conn, node };
  }

  it('sends the node job id as the solution id and resolves accepted with the block hash', async () => {
    const { h, conn } = await loggedInWithJob();
    const outcome = h.link.submitBlock('41', NONCE, OUTPUT);
    const solution = await conn.nextMessage((m) => m.method === 'solution');
    assert.deepEqual(solution, { method: 'solution', id: '41', nonce: NONCE, output: OUTPUT, jsonrpc: '2.0' });
    conn.result('41', 1, { description: 'accepted', blockhash: BLOCK_HASH });
    assert.deepEqual(await outcome, { status: 'accepted', code: 1, blockHash: BLOCK_HASH });
  });

  it("writes the node's prefix digits in the node's own case (it compares case-sensitively)", async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '41', height: 500 };
    node.loginReply = () => ({ code: 0, description: 'Login successful', nonceprefix: 'AbC1' });
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port));
    const conn = await connected;
    await nextEvent(h.link, 'job');
    void h.link.submitBlock('41', 'abc1000000000001', OUTPUT);
    void h.link.submitBlock('41', 'ffff000000000002', OUTPUT);
    await conn.nextMessage((m) => m.method === 'solution' && m.nonce === 'AbC1000000000001');
    await conn.nextMessage((m) => m.method === 'solution' && m.nonce === 'ffff000000000002');
  });

  it('resolves rejected (2) and expired (3), matching answers in order per job id', async () => {
    const { h, conn } = await loggedInWithJob();
    const first = h.link.submitBlock('41', NONCE, OUTPUT);
    const second = h.link.submitBlock('41', '00ab000000000002', OUTPUT);
    const third = h.link.submitBlock('40', '00ab000000000003', OUTPUT);
    while (conn.received.filter((m) => m.method === 'solution').length < 3) await once(conn, 'message');
    conn.result('40', 3, { description: 'expired' });
    conn.result('41', 2, { description: 'rejected' });
    conn.result('41', 1, { description: 'accepted', blockhash: BLOCK_HASH });
    assert.deepEqual(await third, { status: 'expired', code: 3, detail: 'expired' });
    assert.deepEqual(await first, { status: 'rejected', code: 2, detail: 'rejected' });
    assert.equal((await second).status, 'accepted');
  });

  it('no answer within resultTimeoutMs resolves unanswered; a late answer is not given to the next block', async () => {
    const { h, conn } = await loggedInWithJob({ resultTimeoutMs: 400 });
    const first = await h.link.submitBlock('41', NONCE, OUTPUT);
    assert.equal(first.status, 'unanswered');
    const second = h.link.submitBlock('41', '00ab000000000002', OUTPUT);
    while (conn.received.filter((m) => m.method === 'solution').length < 2) await once(conn, 'message');
    conn.result('41', 2, { description: 'rejected' }); // the late answer to the first block
    conn.result('41', 1, { description: 'accepted', blockhash: BLOCK_HASH });
    const late = await h.logs.waitFor((e) => /after upstream.resultTimeoutMs/.test(String(e.msg)));
    assert.equal(late.status, 'rejected');
    // matched to the second answer, not to the first (late) one
    assert.equal((await second).status, 'accepted');
  });

  it('a malformed solution is never sent', async () => {
    const { h, conn } = await loggedInWithJob();
    assert.equal((await h.link.submitBlock('41', 'xyz', OUTPUT)).status, 'dropped');
    assert.equal((await h.link.submitBlock('41', NONCE, 'abc')).status, 'dropped');
    assert.equal((await h.link.submitBlock('41', NONCE, `${'0'.repeat(206)}\n`)).status, 'dropped');
    assert.equal((await h.link.submitBlock('', NONCE, OUTPUT)).status, 'dropped');
    assert.equal((await h.link.submitBlock('4\n1', NONCE, OUTPUT)).status, 'dropped');
    const sent = h.link.submitBlock('41', NONCE, OUTPUT);
    await conn.nextMessage((m) => m.method === 'solution');
    assert.equal(conn.received.filter((m) => m.method === 'solution').length, 1);
    // nor any other line the node could not parse (the scripted node keeps those as { unparsed })
    assert.deepEqual(conn.received.filter((m) => 'unparsed' in m), []);
    conn.result('41', 1);
    assert.deepEqual(await sent, { status: 'accepted', code: 1 });
  });
});

describe('reconnect and queued blocks', () => {
  it('reconnects after the node drops the connection, and after a node restart', async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '1', height: 10 };
    const h = startLink(scriptedUpstreamConfig(node.port));
    await nextEvent(h.link, 'job');
    node.dropAll();
    assert.equal(await nextEvent<string>(h.link, 'down'), 'closed by the node');
    assert.equal(h.link.isUp, false);
    await nextEvent(h.link, 'login');

    const down = nextEvent<string>(h.link, 'down');
    await node.restart();
    await down;
    await nextEvent(h.link, 'login');
    assert.equal(h.logins.length, 3);
    assert.equal(h.downs.length, 2);
    assert.ok(h.states.filter((s) => s.state === 'disconnected').length >= 2);
  });

  it('a block not answered before the connection drops is sent again after re-login; unanswered if never answered', async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '3', height: 30 };
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port, { resultTimeoutMs: 300 }));
    const conn = await connected;
    await nextEvent(h.link, 'job');
    const outcome = h.link.submitBlock('3', NONCE, OUTPUT);
    await conn.nextMessage((m) => m.method === 'solution');
    const reconnected = node.nextConnection();
    node.dropAll();
    const again = await reconnected;
    await again.nextMessage((m) => m.method === 'solution'); // same height after re-login: sent again
    const result: BlockSubmitOutcome = await outcome;
    assert.equal(result.status, 'unanswered');
  });

  it('a block queued while down is sent after re-login when the first job is at the same height', async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '5', height: 700 };
    const h = startLink(scriptedUpstreamConfig(node.port));
    await nextEvent(h.link, 'job');
    node.loginReply = () => undefined; // hold the next login so the block is queued while down
    const reconnected = node.nextConnection();
    node.dropAll();
    await nextEvent(h.link, 'down');
    const outcome = h.link.submitBlock('5', NONCE, OUTPUT);
    await h.logs.waitFor((e) => /block queued/.test(String(e.msg)));
    const conn = await reconnected;
    await conn.nextMessage((m) => m.method === 'login');
    conn.send({ method: 'result', id: 'login', code: 0, description: 'ok' });
    conn.job('6', 700); // same height: the block may still be valid (tx refresh, same tip)
    const solution = await conn.nextMessage((m) => m.method === 'solution');
    assert.deepEqual(solution, { method: 'solution', id: '5', nonce: NONCE, output: OUTPUT, jsonrpc: '2.0' });
    conn.result('5', 1, { blockhash: BLOCK_HASH });
    assert.deepEqual(await outcome, { status: 'accepted', code: 1, blockHash: BLOCK_HASH });
  });

  it('a block queued while down is dropped (and logged) when the node has moved to a new height', async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '5', height: 700 };
    const h = startLink(scriptedUpstreamConfig(node.port));
    await nextEvent(h.link, 'job');
    node.firstJob = { id: '1', height: 701 };
    node.loginReply = () => undefined;
    const reconnected = node.nextConnection();
    node.dropAll();
    await nextEvent(h.link, 'down');
    const outcome = h.link.submitBlock('5', NONCE, OUTPUT);
    const unknown = await h.link.submitBlock('999', NONCE, OUTPUT); // never seen: cannot be judged later
    assert.equal(unknown.status, 'dropped');
    const conn = await reconnected;
    await conn.nextMessage((m) => m.method === 'login');
    conn.send({ method: 'result', id: 'login', code: 0, description: 'ok' });
    conn.job('1', 701);
    const result = await outcome;
    assert.equal(result.status, 'dropped');
    assert.match(result.detail ?? '', /701/);
    await h.logs.waitFor((e) => e.msg === 'queued block dropped');
    conn.job('2', 701);
    await nextEvent(h.link, 'job');
    assert.equal(conn.received.filter((m) => m.method === 'solution').length, 0);
  });

  it('stop() resolves queued and unanswered blocks as dropped and closes the socket', async () => {
    const node = await scriptedNode();
    node.firstJob = { id: '8', height: 80 };
    const connected = node.nextConnection();
    const h = startLink(scriptedUpstreamConfig(node.port));
    const conn = await connected;
    await nextEvent(h.link, 'job');
    const pending = h.link.submitBlock('8', NONCE, OUTPUT);
    await conn.nextMessage((m) => m.method === 'solution');
    const closed = once(conn.socket, 'close');
    await h.link.stop();
    assert.equal((await pending).status, 'dropped');
    await closed;
    assert.equal((await h.link.submitBlock('8', NONCE, OUTPUT)).status, 'dropped');
    assert.deepEqual(h.downs, ['stopped']);
  });
});

describe('TLS upstream', () => {
  let dir = '';
  let pems: { cert: string; key: string } = { cert: '', key: '' };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'equigate-nodelink-'));
    pems = await selfSignedPair('stratum.node.test', { ips: [HOST] });
    writeFileSync(join(dir, 'stratum.crt'), pems.cert);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('logs in over TLS to a self-signed node certificate (tlsVerify off, the default)', async () => {
    const node = await scriptedNode(pems);
    node.firstJob = { id: '1', height: 2 };
    const h = startLink(scriptedUpstreamConfig(node.port, { tls: true }));
    const job = await nextEvent<UpstreamJob>(h.link, 'job');
    assert.equal(job.height, 2);
  });

  it('with tlsVerify, refuses the self-signed certificate unless tlsCaFile trusts it', async () => {
    const node = await scriptedNode(pems);
    const refused = startLink(scriptedUpstreamConfig(node.port, { tls: true, tlsVerify: true }));
    await refused.logs.waitFor((e) => e.msg === 'node link down; reconnecting' && /socket error/.test(String(e.reason)));
    assert.equal(refused.logins.length, 0);
    await refused.link.stop();

    const trusted = startLink(scriptedUpstreamConfig(node.port, { tls: true, tlsVerify: true, tlsCaFile: join(dir, 'stratum.crt') }));
    await nextEvent(trusted.link, 'login');
  });

  it('an unreadable tlsCaFile is a typed error at construction', () => {
    assert.throws(
      () => new NodeLink({ config: scriptedUpstreamConfig(1, { tls: true, tlsCaFile: join(dir, 'missing.crt') }), logger: createLogger('silent') }),
      (error: Error & { code?: string }) => error.code === 'UPSTREAM_CA_LOAD',
    );
  });
});

describe('against SimNode', () => {
  it('logs in over TLS, gets jobs, a block is accepted, and the link survives a kick', async () => {
    // powCheck stubbed: this checks the link, not PoW (block difficulty 1: any solution passing PoW is a block)
    const sim = await SimNode.start({ tls: true, noncePrefix: 'c3', powCheck: () => true, chain: 'beam-mainnet', startHeight: 1000 });
    try {
      const h = startLink(scriptedUpstreamConfig(sim.port, { tls: true }));
      const login = await nextEvent<UpstreamLogin>(h.link, 'login');
      assert.equal(login.noncePrefix, 'c3');
      const job = h.jobs[0] ?? (await nextEvent<UpstreamJob>(h.link, 'job'));
      assert.equal(job.id, sim.currentJob.id);

      const outcome = await h.link.submitBlock(job.id, `c3${'0'.repeat(14)}`, OUTPUT);
      assert.equal(outcome.status, 'accepted');
      assert.match(outcome.blockHash ?? '', /^[0-9a-f]{64}$/);
      const next = await nextEvent<UpstreamJob>(h.link, 'job'); // an accepted block opens a new tip
      assert.ok(next.height > job.height);

      const rejected = await h.link.submitBlock(job.id, `c3${'0'.repeat(13)}1`, OUTPUT);
      assert.ok(rejected.status === 'rejected' || rejected.status === 'expired');

      sim.kickAll();
      await nextEvent(h.link, 'down');
      await nextEvent(h.link, 'login');
      assert.equal(h.link.isUp, true);
    } finally {
      await sim.stop();
    }
  });
});
