// Operations end to end (docs/operations.md): a gateway in front of SimNode with reference miners, HTTP and the
// event API on, the books in SQLite. /metrics scraped while it runs: the accepted-share counter equals the shares in
// the ledger, the upstream gauge and /ready follow a node stop and restart; the statistics are the ledger's;
// the admin API refuses without its token, kicks and bans live miners, answers malformed JSON-RPC with errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { miners, startGateway, startNode, Teardown, type Stack } from '../support/e2e.js';
import { EventClient } from '../support/eventClient.js';
import { freePort, StratumClient, type Json } from '../support/net.js';
import { eventually, waitFor } from '../support/wait.js';
import type { SimNodeOptions } from '../../src/sim/SimNode.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

describe('operations end to end: metrics, health, readiness, admin, event API on a live gateway', { timeout: 180_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let group: MinerGroup;
  let httpBase: string;
  let eventsPort: number;
  let nodeOptions: SimNodeOptions;

  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${httpBase}${path}`);
    return { status: res.status, text: await res.text() };
  };
  const admin = async (body: unknown, token: string | null = ADMIN_TOKEN): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${httpBase}/admin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Json) };
  };
  let rpcId = 0;
  const call = async (method: string, params?: unknown): Promise<Json> => {
    const { status, json } = await admin({ jsonrpc: '2.0', method, params, id: ++rpcId });
    assert.equal(status, 200);
    return json;
  };
  const metric = async (name: string): Promise<number | undefined> => {
    const { text } = await get('/metrics');
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };

  before(async () => {
    nodeOptions = { tls: false, chain: 'devnet', difficulty: 30, blockIntervalMs: 0, port: await freePort() };
    const node = await startNode(teardown, nodeOptions);
    stack = await startGateway(teardown, node, {
      http: { port: await freePort() },
      events: { wsPort: await freePort(), batchMs: 5 },
      admin: { token: ADMIN_TOKEN },
      upstream: { reconnectMinMs: 50, reconnectMaxMs: 100 },
      ledger: { statisticsIntervalMs: 250 },
    });
    httpBase = `http://127.0.0.1:${stack.gateway.operations.httpPort ?? 0}`;
    eventsPort = stack.gateway.operations.eventsPort ?? 0;
    group = miners(teardown, { url: stack.url, key: 'alice.rig1', miners: 2, rate: 20 });
    await waitFor(() => stack.events.sharesWith(1).length >= 10, 'accepted shares', 30_000, 10);
  });
  after(() => teardown.run());

  it('GET /health 200; /ready 200 with the upstream probe; the dashboard and its uPlot are served', async () => {
    assert.equal((await get('/health')).status, 200);
    const ready = await get('/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { ready: true, probes: { upstream: { ok: true }, ledger: { ok: true } } });
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<script src="\/dashboard\/uPlot.iife.min.js">/);
    const uplot = await get('/dashboard/uPlot.iife.min.js');
    assert.equal(uplot.status, 200);
    assert.match(uplot.text, /uPlot/);
    const stats = JSON.parse((await get('/api/statistics')).text) as Json;
    assert.deepEqual(stats.eventApi, { port: eventsPort, tokenRequired: false });
    // The ledger's statistics, refreshed every 250 ms here.
    await eventually(async () => ((JSON.parse((await get('/api/statistics')).text) as { miners: Json[] }).miners[0] ?? {}).miner === 'alice', 'alice in the statistics');
  });

  it('event API on the live gateway: a share subscription gets the real shares of miner alice', async () => {
    const client = await EventClient.connect(eventsPort);
    try {
      const ack = await client.request({ action: 'subscribe', topic: 'share', ack: true, id: 'live', options: { miners: ['alice'] } });
      assert.equal(ack.ack, 'subscribe');
      await client.next((m) => m.topic === 'share', 'a live share');
      const share = client.events('share')[0]?.message as Json;
      assert.deepEqual([share.miner, share.worker, share.outcome], ['alice', 'rig1', 'accepted']);
    } finally {
      client.close();
    }
  });

  it('admin: 401 without or with a wrong token; malformed JSON-RPC gets JSON-RPC error objects', async () => {
    assert.equal((await admin({ jsonrpc: '2.0', method: 'bans.list', id: 1 }, null)).status, 401);
    assert.equal((await admin({ jsonrpc: '2.0', method: 'bans.list', id: 1 }, 'wrong-token-wrong-token-xx')).status, 401);
    const parse = await admin('{"jsonrpc": "2.0", "method": ');
    assert.equal(parse.status, 200);
    assert.equal((parse.json.error as Json).code, -32700);
    assert.equal(((await admin({ jsonrpc: '1.0', method: 'bans.list', id: 2 })).json.error as Json).code, -32600);
    assert.equal(((await call('no.such.method')).error as Json).code, -32601);
    assert.equal(((await call('sessions.kick', { id: 'x' })).error as Json).code, -32602);
    assert.equal(((await call('sessions.kick', { id: 987654 })).error as Json).code, -32001);
    const config = (await call('config.get')).result as Json;
    assert.equal((config.admin as Json).token, '***', 'secrets masked');
    assert.equal((config.upstream as Json).apiKey, '***');
  });

  it('admin: list sessions by miner, kick one live miner', async () => {
    const listed = (await call('sessions.list', { miner: 'alice' })).result as Json[];
    assert.equal(listed.length, 2);
    assert.deepEqual([listed[0]?.miner, listed[0]?.worker, listed[0]?.transport, listed[0]?.ip], ['alice', 'rig1', 'tcp', '127.0.0.1']);
    const bob = await StratumClient.connect(stack.gateway.ports.tcp ?? 0);
    await bob.login('bob.manual');
    const bobs = (await call('sessions.list', { worker: 'manual' })).result as Json[];
    assert.equal(bobs.length, 1);
    const id = Number(bobs[0]?.id);
    assert.deepEqual((await call('sessions.kick', { id })).result, { kicked: id });
    await waitFor(() => bob.closed, 'bob disconnected');
    assert.equal(stack.events.closeOf(id)?.reason, 'admin-kick');
    assert.equal(((await call('sessions.list', { miner: 'bob' })).result as Json[]).length, 0);
  });

  it('admin: ban 127.0.0.1 closes its live miners and refuses new connections until unbanned', async () => {
    const before = ((await call('sessions.list', { ip: '127.0.0.1' })).result as Json[]).map((s) => Number(s.id));
    assert.ok(before.length >= 2);
    const early = await StratumClient.connect(stack.gateway.ports.tcp ?? 0); // connected, not logged in, before the ban
    const ban = (await call('bans.add', { ip: '127.0.0.1', durationS: 600, reason: 'e2e' })).result as Json;
    assert.deepEqual((ban.kicked as number[]).sort(), before.sort());
    for (const id of before) await waitFor(() => stack.events.closeOf(id)?.reason === 'banned', `session ${id} closed as banned`);
    const earlyId = stack.events.sessionAt(early.remote);
    early.send({ method: 'login', id: 'late-login', api_key: 'carol.rig1', jsonrpc: '2.0' });
    await waitFor(() => early.closed, 'a connection from before the ban is closed when it logs in');
    assert.equal(stack.events.closeOf(earlyId)?.reason, 'banned');
    const refused = await StratumClient.connect(stack.gateway.ports.tcp ?? 0).catch(() => undefined);
    if (refused !== undefined) await waitFor(() => refused.closed, 'a new connection from a banned IP is closed at once');
    await new Promise((r) => setTimeout(r, 600)); // the reference miners retry meanwhile (backoff ≤ 500 ms)
    assert.equal(stack.gateway.hub.sessionCount, 0, 'no session while banned');
    assert.deepEqual(((await call('bans.list')).result as Json[]).map((b) => b.ip), ['127.0.0.1']);
    assert.deepEqual((await call('bans.remove', { ip: '127.0.0.1' })).result, { removed: true });
    // Both in the books, as the operator's, with the reason given (docs/ledger.md "Bans").
    await stack.gateway.ledger?.flush();
    const booked = (await stack.gateway.ledger?.store.bans()) ?? [];
    assert.deepEqual(booked.map((e) => [e.action, e.key, e.source, e.reason]), [['ban', '127.0.0.1', 'operator', 'e2e'], ['unban', '127.0.0.1', 'operator', '']]);
    await waitFor(() => stack.gateway.hub.loggedInCount >= 2, 'the miners back after unban', 10_000, 10);
  });

  it('/metrics: accepted-share counter equals the shares in the ledger; ledger metrics; sessions by transport and port', async () => {
    await group.stop();
    await waitFor(() => stack.gateway.hub.sessionCount === 0, 'miners gone');
    await new Promise((r) => setTimeout(r, 100));
    const ledger = stack.gateway.ledger;
    assert.ok(ledger !== undefined);
    await ledger.flush();
    const inBooks = (await ledger.store.shares()).length;
    assert.ok(inBooks > 0);
    assert.equal(await metric('equigate_shares_total{outcome="accepted",code="1"}'), inBooks);
    assert.equal(stack.events.sharesWith(1).length, inBooks);
    assert.equal(await metric('equigate_ledger_committed_shares_total'), inBooks);
    assert.equal(await metric('equigate_ledger_up'), 1);
    assert.equal(await metric('equigate_ledger_queue_depth'), 0);
    assert.ok(((await metric('equigate_ledger_commit_seconds_count')) ?? 0) >= 1);
    // The admin API reads the same statistics: the ledger's count.
    await eventually(async () => ((await call('statistics.get')).result as { pool: { accepted: number } }).pool.accepted === inBooks, 'statistics.get = the books');
    const accepted = inBooks;
    const rejectedByCode = new Map<number, number>();
    for (const s of stack.events.shares) if (s.code !== 1) rejectedByCode.set(s.code, (rejectedByCode.get(s.code) ?? 0) + 1);
    for (const [code, n] of rejectedByCode) assert.equal(await metric(`equigate_shares_total{outcome="rejected",code="${code}"}`), n);
    assert.equal(await metric(`equigate_sessions{transport="tcp",port="${stack.gateway.ports.tcp ?? 0}"}`), 0);
    assert.ok(((await metric('equigate_verification_seconds_count')) ?? 0) >= accepted);
    assert.ok(((await metric('equigate_job_fanout_seconds_count')) ?? 0) >= 1);
    assert.ok((await metric('equigate_nodejs_eventloop_lag_seconds')) !== undefined);
    assert.equal(await metric('equigate_bus_subscriber_failures_total'), undefined, 'no subscriber failed');
  });

  it('upstream gauge and /ready follow a node stop (0, 503 with the reason) and restart (1, 200)', async () => {
    assert.equal(await metric('equigate_upstream_up'), 1);
    await stack.node.stop();
    await eventually(async () => (await metric('equigate_upstream_up')) === 0, 'gauge 0 while the node is away');
    const away = await get('/ready');
    assert.equal(away.status, 503);
    const report = JSON.parse(away.text) as { ready: boolean; probes: { upstream: { ok: boolean; reason: string } } };
    assert.equal(report.ready, false);
    assert.match(report.probes.upstream.reason, /^node link is (disconnected|connecting|connected)$/);
    assert.equal((report.probes as unknown as { ledger: { ok: boolean } }).ledger.ok, true, 'only the node link is away');
    await startNode(teardown, nodeOptions);
    await eventually(async () => (await metric('equigate_upstream_up')) === 1, 'gauge 1 after the restart', 30_000);
    assert.equal((await get('/ready')).status, 200);
    assert.ok(((await metric('equigate_upstream_transitions_total{state="logged-in"}')) ?? 0) >= 2, 'the re-login was counted');
  });
});
