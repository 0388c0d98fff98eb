// The WebSocket event API (docs/event-api.md) on a real socket: every action and topic, acks with and without id,
// update changing a filter, ping, errors that keep the socket open, the token, the frame cap, idle clients and a
// slow consumer dropped while another keeps receiving. Events come from a real bus fed by hand.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventsConfig } from '../../src/config/schema.js';
import { splitWorkerLabel } from '../../src/operations/StatisticsSource.js';
import { silentLogger } from '../../src/config/logger.js';
import { EventBus } from '../../src/events/EventBus.js';
import type { BlockEvent, ShareEvent } from '../../src/events/topics.js';
import { EventApiServer } from '../../src/eventapi/EventApiServer.js';
import { difficultyToPacked, packedToDifficulty } from '../../src/pow/difficulty.js';
import { ProvisionalStatistics } from '../../src/operations/ProvisionalStatistics.js';
import { EventClient, stalledClient } from '../support/eventClient.js';
import type { Json } from '../support/net.js';
import { waitFor } from '../support/wait.js';

/** Walks server frames (unmasked) and returns the close frame's code and reason, if one is complete. */
function closeFrame(bytes: Buffer): { code: number; reason: string } | undefined {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] ?? 0) & 0x0f;
    let length = (bytes[at + 1] ?? 0) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > bytes.length) return undefined;
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > bytes.length) return undefined;
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > bytes.length) return undefined;
    if (opcode === 0x8) {
      const payload = bytes.subarray(at + header, at + header + length);
      return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() };
    }
    at += header + length;
  }
  return undefined;
}

function eventsConfig(overrides: Partial<EventsConfig> = {}): EventsConfig {
  return {
    host: '127.0.0.1',
    wsPort: 0,
    token: '',
    statisticsIntervalS: 0.3, // below the config's floor on purpose: built directly so the test sees several
    heartbeatIntervalMs: 100,
    maxClients: 50,
    maxClientsPerIp: 50,
    maxQueueBytes: 256 * 1024,
    maxFrameBytes: 1024,
    batchMs: 5,
    pingIntervalMs: 0,
    ...overrides,
  };
}

let seq = 0;
function share(label: string, code = 1): ShareEvent {
  seq += 1;
  const { miner, worker } = splitWorkerLabel(label);
  return {
    sessionId: 1,
    miner,
    worker,
    profile: 'default',
    remote: '127.0.0.1:1',
    jobId: '7',
    height: 12,
    nonce: seq.toString(16).padStart(16, '0'),
    code,
    reason: code === 1 ? 'share' : 'low-difficulty',
    shareDifficulty: 4,
    achievedDifficulty: 9,
    isBlockCandidate: false,
    at: Date.now(),
  };
}

interface Harness {
  readonly bus: EventBus;
  readonly server: EventApiServer;
  readonly port: number;
  readonly clients: EventClient[];
  connect(query?: string): Promise<EventClient>;
  stop(): Promise<void>;
}

async function harness(overrides: Partial<EventsConfig> = {}): Promise<Harness> {
  const bus = new EventBus();
  const statistics = new ProvisionalStatistics();
  statistics.attach(bus);
  const server = new EventApiServer({
    config: eventsConfig(overrides),
    bus,
    statistics,
    chain: 'devnet',
    shareDifficulty: 4,
    logger: silentLogger(),
    telemetry: () => ({ sessions: { tcp: 2, tls: 0, ws: 1 }, hashrate: statistics.pool().hashrate10m, upstream: 'logged-in', uptime: 5, version: 'test' }),
  });
  const port = await server.listen();
  const clients: EventClient[] = [];
  return {
    bus,
    server,
    port,
    clients,
    async connect(query = '') {
      const client = await EventClient.connect(port, query);
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

describe('event API: actions', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.stop());

  it('subscribe with ack and id answers {ack, time, id}; without id the reply has no id', async () => {
    const c = await h.connect();
    const withId = await c.request({ action: 'subscribe', topic: 'share', ack: true, id: 'sub-1' });
    assert.equal(withId.ack, 'subscribe');
    assert.equal(withId.id, 'sub-1');
    assert.match(String(withId.time), /^\d{13}$/);
    assert.equal(typeof withId.time, 'string');
    const withoutId = await c.request({ action: 'subscribe', topic: 'job', ack: true });
    assert.deepEqual(Object.keys(withoutId).sort(), ['ack', 'time']);
  });

  it('without ack there is no reply: the next reply is the pong of a following ping', async () => {
    const c = await h.connect();
    const from = c.messages.length;
    c.send({ action: 'subscribe', topic: 'block', id: 'quiet' });
    const reply = await c.request({ action: 'ping' });
    assert.equal(reply.ack, 'pong');
    assert.match(String(reply.time), /^\d{13}$/);
    assert.equal(c.messages.slice(from).filter((m) => m.ack === 'subscribe').length, 0);
    const withId = await c.request({ action: 'ping', id: 'p1' });
    assert.deepEqual({ ack: withId.ack, id: withId.id }, { ack: 'pong', id: 'p1' });
  });

  it('bad JSON, a non-object, a missing action, an unknown action and an unknown topic get error objects; the socket stays open', async () => {
    const c = await h.connect();
    const badJson = await c.request('{"action": "subscribe", ');
    assert.deepEqual(badJson.error, { code: 'bad-json', message: 'message is not JSON' });
    assert.equal((await c.request('[1,2]')).error !== undefined, true);
    assert.equal(((await c.request({ topic: 'share' })).error as Json).code, 'bad-message');
    assert.equal(((await c.request({ action: 'explode', id: 'x1' })).error as Json).code, 'unknown-action');
    const unknownTopic = await c.request({ action: 'subscribe', topic: 'confirmation', ack: true, id: 'u1' });
    assert.equal((unknownTopic.error as Json).code, 'unknown-topic');
    assert.equal(unknownTopic.id, 'u1', 'the error carries the request id');
    const notSubscribed = await c.request({ action: 'update', topic: 'share', options: { miners_add: ['a'] }, ack: true });
    assert.equal((notSubscribed.error as Json).code, 'not-subscribed');
    const badOptions = await c.request({ action: 'subscribe', topic: 'share', options: { miners: 'a' } });
    assert.equal((badOptions.error as Json).code, 'bad-options');
    assert.equal(c.closed, false);
    assert.equal((await c.request({ action: 'ping' })).ack, 'pong', 'still answering after every error');
  });

  it('share: {topic, time, message} for every share; miners filter; update adds a worker and removes a miner; unsubscribe stops', async () => {
    const all = await h.connect();
    const filtered = await h.connect();
    await all.request({ action: 'subscribe', topic: 'share', ack: true });
    await filtered.request({ action: 'subscribe', topic: 'share', ack: true, options: { miners: ['alice'] } });
    h.bus.emit('share', share('alice.rig1'));
    h.bus.emit('share', share('bob.rig1', -32009));
    h.bus.emit('share', share('carol'));
    await waitFor(() => all.events('share').length === 3, 'three shares to the unfiltered client');
    const first = all.events('share')[0] ?? {};
    assert.equal(first.topic, 'share');
    assert.match(String(first.time), /^\d{13}$/);
    assert.deepEqual(first.message, {
      outcome: 'accepted', code: 1, reason: 'share', miner: 'alice', worker: 'rig1', difficulty: 4, achieved_difficulty: 9, height: 12, job_id: '7', block_candidate: false,
    });
    assert.equal((all.events('share')[1]?.message as Json).outcome, 'rejected');
    await waitFor(() => filtered.events('share').length >= 1, 'alice’s share to the filtered client');
    assert.deepEqual(filtered.events('share').map((e) => (e.message as Json).miner), ['alice']);

    const upd = await filtered.request({ action: 'update', topic: 'share', ack: true, id: 'u', options: { workers_add: ['bob.rig1'], miners_del: ['alice'] } });
    assert.deepEqual({ ack: upd.ack, id: upd.id }, { ack: 'update', id: 'u' });
    h.bus.emit('share', share('alice.rig1'));
    h.bus.emit('share', share('bob.rig1'));
    h.bus.emit('share', share('bob.rig2'));
    await waitFor(() => all.events('share').length === 6, 'three more shares');
    await waitFor(() => filtered.events('share').length === 2, 'bob.rig1 to the filtered client');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(filtered.events('share').map((e) => `${(e.message as Json).miner}.${(e.message as Json).worker}`), ['alice.rig1', 'bob.rig1']);

    const unsub = await all.request({ action: 'unsubscribe', topic: 'share', ack: true, id: 'bye' });
    assert.deepEqual({ ack: unsub.ack, id: unsub.id }, { ack: 'unsubscribe', id: 'bye' });
    h.bus.emit('share', share('alice.rig1'));
    await waitFor(() => filtered.events('share').length === 2 && all.messages.length > 0, 'settle');
    const pong = await all.request({ action: 'ping' }); // the batch with the last share has gone out by now
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(pong.ack === 'pong');
    assert.equal(all.events('share').length, 6, 'nothing after unsubscribe');
  });

  it('job and active_difficulty: job {id, height, difficulty, variant, new_tip}; difficulty only when it changes', async () => {
    const c = await h.connect();
    await c.request({ action: 'subscribe', topic: 'job', ack: true });
    await c.request({ action: 'subscribe', topic: 'active_difficulty', ack: true });
    const job = { upstreamJobId: '3', packedDifficulty: difficultyToPacked(50), newTip: true, at: Date.now() };
    h.bus.emit('job', { ...job, jobId: '41', height: 100 });
    h.bus.emit('job', { ...job, jobId: '42', height: 100, newTip: false });
    await waitFor(() => c.events('job').length === 2, 'two job events');
    const message = c.events('job')[0]?.message as Json;
    assert.deepEqual(Object.keys(message).sort(), ['difficulty', 'height', 'id', 'new_tip', 'variant']);
    assert.equal(message.id, '41');
    assert.equal(message.variant, 'devnet');
    assert.equal(message.new_tip, true);
    assert.equal(message.difficulty, packedToDifficulty(difficultyToPacked(50)));
    assert.equal((c.events('job')[1]?.message as Json).new_tip, false);
    assert.equal(c.events('active_difficulty').length, 1, 'same difficulty twice: one active_difficulty');
    const diff = c.events('active_difficulty')[0]?.message as Json;
    assert.equal(diff.block_difficulty, message.difficulty);
    assert.equal(diff.share_difficulty, 4);
  });

  it('block: every lifecycle step, with the node’s blockhash once accepted; filterable by miner', async () => {
    const c = await h.connect();
    const other = await h.connect();
    await c.request({ action: 'subscribe', topic: 'block', ack: true });
    await other.request({ action: 'subscribe', topic: 'block', ack: true, options: { miners: ['nobody'] } });
    const base: Omit<BlockEvent, 'status' | 'at'> = { sessionId: 1, miner: 'alice', worker: 'rig1', jobId: '9', upstreamJobId: '4', height: 77, nonce: '00'.repeat(8) };
    h.bus.emit('block', { ...base, status: 'submitted', at: Date.now() });
    h.bus.emit('block', { ...base, status: 'accepted', blockHash: 'ab'.repeat(32), nodeCode: 1, at: Date.now() });
    await waitFor(() => c.events('block').length === 2, 'submitted and accepted');
    assert.deepEqual(c.events('block').map((e) => (e.message as Json).status), ['submitted', 'accepted']);
    assert.equal((c.events('block')[1]?.message as Json).blockhash, 'ab'.repeat(32));
    assert.equal((c.events('block')[0]?.message as Json).blockhash, undefined);
    assert.equal(other.events('block').length, 0);
  });

  it('heartbeat about every heartbeatIntervalMs; telemetry; miner statistics when they change; statistics on its interval', async () => {
    const c = await h.connect();
    for (const topic of ['heartbeat', 'telemetry', 'miner', 'statistics']) await c.request({ action: 'subscribe', topic, ack: true });
    h.bus.emit('share', share('dave.rig9'));
    await waitFor(() => c.events('heartbeat').length >= 3, 'heartbeats', 5000);
    await waitFor(() => c.events('miner').length >= 1, 'miner statistics for dave', 5000);
    const miner = c.events('miner')[0]?.message as Json;
    assert.equal(miner.miner, 'dave');
    assert.equal(miner.accepted, 1);
    assert.equal(((miner.workers as Json[])[0] ?? {}).worker, 'rig9');
    assert.ok(Number(miner.hashrate10m) > 0);
    await waitFor(() => c.events('telemetry').length >= 1, 'telemetry', 5000);
    assert.deepEqual((c.events('telemetry')[0]?.message as Json).sessions, { tcp: 2, tls: 0, ws: 1 });
    assert.equal((c.events('telemetry')[0]?.message as Json).upstream, 'logged-in');
    await waitFor(() => c.events('statistics').length >= 1, 'statistics', 5000);
    const stats = c.events('statistics')[0]?.message as Json;
    assert.ok(Number(stats.accepted) >= 1);
    const minersBefore = c.events('miner').length;
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(c.events('miner').length, minersBefore, 'no share: no new miner event');
  });
});

describe('event API: limits', () => {
  it('a slow consumer is dropped with a reason while another client keeps receiving every event', async () => {
    const h = await harness({ maxQueueBytes: 64 * 1024 });
    try {
      const good = await h.connect();
      await good.request({ action: 'subscribe', topic: 'share', ack: true });
      const slow = await stalledClient(h.port, [{ action: 'subscribe', topic: 'share' }]);
      await waitFor(() => h.server.stats().clients === 2, 'both clients connected');
      await new Promise((r) => setTimeout(r, 50)); // the stalled client's subscribe frame is read
      const total = 40_000;
      for (let i = 0; i < total; i++) {
        h.bus.emit('share', share(`m${i % 7}.w`));
        if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => h.server.stats().dropped['slow-consumer'] === 1, 'the stalled client dropped', 20_000);
      // Reading again, the stalled client finds the close frame with its reason after the data it was sent.
      const chunks: Buffer[] = [];
      slow.on('data', (c: Buffer) => chunks.push(c));
      slow.resume();
      await waitFor(() => closeFrame(Buffer.concat(chunks)) !== undefined || slow.destroyed, 'the close frame', 10_000);
      const close = closeFrame(Buffer.concat(chunks));
      assert.ok(close !== undefined, 'a close frame reached the slow consumer');
      assert.equal(close.code, 4008);
      assert.match(close.reason, /^slow-consumer: \d+ bytes unsent \(limit 65536\)/);
      await waitFor(() => good.events('share').length === total, 'every share to the good client', 30_000);
      assert.equal(good.closed, false);
      assert.equal(h.server.stats().clients, 1);
    } finally {
      await h.stop();
    }
  });

  it('a client that answers no ping is dropped as idle; a normal client stays', async () => {
    const h = await harness({ pingIntervalMs: 100 });
    try {
      const normal = await h.connect();
      const silent = await stalledClient(h.port, []);
      await waitFor(() => h.server.stats().dropped.idle === 1, 'the silent client dropped as idle', 5000);
      assert.ok(silent);
      assert.equal(normal.closed, false);
      assert.equal((await normal.request({ action: 'ping' })).ack, 'pong');
    } finally {
      await h.stop();
    }
  });

  it('one address holds at most maxClientsPerIp clients (HTTP 429 beyond), and a slot it closes can be taken again', async () => {
    const h = await harness({ maxClientsPerIp: 3, maxClients: 50 });
    try {
      const held = [await h.connect(), await h.connect(), await h.connect()];
      await assert.rejects(EventClient.connect(h.port), /HTTP 429/);
      assert.equal(h.server.stats().clients, 3);
      held[0]?.close();
      await waitFor(() => h.server.stats().clients === 2, 'the closed client released its slot');
      const again = await h.connect();
      assert.equal((await again.request({ action: 'ping' })).ack, 'pong');
    } finally {
      await h.stop();
    }
  });

  it('a frame over maxFrameBytes closes with 1009; a token is required when configured', async () => {
    const h = await harness({ token: 'sekrit-token', maxFrameBytes: 512 });
    try {
      await assert.rejects(EventClient.connect(h.port), /HTTP 401/);
      await assert.rejects(EventClient.connect(h.port, '?token=wrong-token!'), /HTTP 401/);
      const c = await h.connect('?token=sekrit-token');
      assert.equal((await c.request({ action: 'ping' })).ack, 'pong');
      c.send({ action: 'subscribe', topic: 'share', id: 'x'.repeat(600) });
      await waitFor(() => c.closed, 'closed for the big frame');
      assert.equal(c.closeCode, 1009);
      assert.equal(h.server.stats().dropped['frame-too-large'], 1);
    } finally {
      await h.stop();
    }
  });
});
