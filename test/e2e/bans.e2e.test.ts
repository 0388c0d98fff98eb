// Abuse control end to end (docs/gateway.md "Abuse control"): SimNode ← Gateway (bans after 10 judged shares over
// 50 % invalid, for 2 s) ← 5 honest reference miners on 127.0.0.1 and a peer on 127.0.0.2 sending only invalid shares.
// Proves: the bad peer is banned at the threshold and closed ('banned'), reconnecting from its IP is refused until
// the ban expires, then admitted again; honest miners on the same port keep mining throughout; stale shares
// right after new tips never count.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { StratumClient } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const BAD_PEER = '127.0.0.2';
const THRESHOLD = 10;
const BAN_SECONDS = 2;
const DEVNET_OUTPUT_HEX = 72;

describe('bans end to end: an invalid-share flooder is banned, honest miners on the same port keep mining', { timeout: 60_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let honest: MinerGroup;

  before(async () => {
    stack = await startStack(
      teardown,
      { tls: true, chain: 'devnet', noncePrefix: '', difficulty: 1e6, blockIntervalMs: 0, minerJobLatencyMs: 0 },
      { stratum: { bans: { checkThreshold: THRESHOLD, invalidPercent: 50, banSeconds: BAN_SECONDS } } },
    );
    honest = miners(teardown, { url: stack.url, key: 'honest-miner', miners: 5, workers: 1, rate: 5, chain: 'devnet' });
    await waitFor(() => honest.stats().accepted >= 10, 'honest miners mining', 20_000);
  });
  after(() => teardown.run());

  it('stale shares never count: many of them right after new tips ban nobody', async () => {
    const client = await StratumClient.connect(stack.gateway.ports.tcp ?? 0, { localAddress: BAD_PEER });
    teardown.defer(() => client.destroy());
    await client.login('late-miner');
    const job = await client.nextJob();
    stack.node.newTip();
    await client.next((m) => m.method === 'job' && m.id !== job.id, 'the new tip');
    for (let i = 0; i < THRESHOLD * 3; i++) {
      const answer = await client.solution(String(job.id), randomBytes(8).toString('hex'), '00'.repeat(DEVNET_OUTPUT_HEX / 2));
      assert.equal(answer.code, ResultCode.StaleJob);
    }
    assert.equal(client.closed, false);
    assert.deepEqual(stack.gateway.hub.bans.list(), []);
    client.destroy();
  });

  it('100 % invalid shares: banned at the threshold, refused until the ban expires, honest miners unaffected', async () => {
    const honestBefore = honest.stats().accepted;
    const bad = await StratumClient.connect(stack.gateway.ports.tcp ?? 0, { localAddress: BAD_PEER });
    teardown.defer(() => bad.destroy());
    await bad.login('bad-miner');
    const badRemote = bad.remote;
    const job = await bad.nextJob();
    const prefix = String(job.nonceprefix);
    const codes: unknown[] = [];
    for (let i = 0; i < THRESHOLD && !bad.closed; i++) {
      const nonce = (prefix + randomBytes(8).toString('hex')).slice(0, 16);
      // Right size, right prefix, wrong PoW: -32004 each time.
      const answer = await bad.solution(String(job.id), nonce, randomBytes(DEVNET_OUTPUT_HEX / 2).toString('hex')).catch(() => undefined);
      codes.push(answer?.code);
    }
    assert.deepEqual(codes.slice(0, THRESHOLD - 1), new Array(THRESHOLD - 1).fill(ResultCode.InvalidSolution));
    await bad.closedByServer('the banned peer closed');
    await waitFor(() => stack.events.closes.some((c) => c.remote === badRemote), 'the session to be gone');
    assert.equal(stack.events.closes.find((c) => c.remote === badRemote)?.reason, 'banned');
    const bans = stack.gateway.hub.bans.list();
    assert.deepEqual(bans.map((b) => b.key), [BAD_PEER]);
    // In the books with its reason, as the abuse guard's (docs/ledger.md "Bans").
    const ledger = stack.gateway.ledger;
    assert.ok(ledger !== undefined);
    await ledger.flush();
    const booked = await ledger.store.bans();
    assert.deepEqual(booked.map((e) => [e.action, e.key, e.source]), [['ban', BAD_PEER, 'abuse']]);
    assert.match(booked[0]?.reason ?? '', /^invalid shares \d+\/\d+ \(last: /);
    assert.equal(booked[0]?.until, bans[0]?.until);

    // Refused at acceptance: the socket is closed before any session exists.
    const opensBefore = stack.events.opens.length;
    const again = await StratumClient.connect(stack.gateway.ports.tcp ?? 0, { localAddress: BAD_PEER });
    teardown.defer(() => again.destroy());
    await again.closedByServer('the banned IP refused');
    assert.equal(stack.events.opens.filter((o) => o.remote.startsWith(`${BAD_PEER}:`)).length, stack.events.opens.slice(0, opensBefore).filter((o) => o.remote.startsWith(`${BAD_PEER}:`)).length, 'no session for a banned IP');

    // Honest miners on the same port kept mining, and none of them was closed.
    await waitFor(() => honest.stats().accepted >= honestBefore + 20, 'honest miners still mining', 20_000);
    assert.equal(honest.stats().connected, 5);
    assert.equal(stack.events.closes.filter((c) => c.remote.startsWith('127.0.0.1:')).length, 0);

    // The ban expires by itself.
    await waitFor(() => bans[0] !== undefined && Date.now() > bans[0].until, 'the ban to expire', (BAN_SECONDS + 2) * 1000, 50);
    const back = await StratumClient.connect(stack.gateway.ports.tcp ?? 0, { localAddress: BAD_PEER });
    teardown.defer(() => back.destroy());
    assert.equal((await back.login('bad-miner')).code, ResultCode.LoginOk);
    assert.deepEqual(stack.gateway.hub.bans.list(), []);
  });
});
