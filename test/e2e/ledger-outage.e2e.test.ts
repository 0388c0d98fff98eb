// PostgreSQL goes away for 10 s while miners mine (pg_ctl stop -m fast on a private cluster, then start): the
// gateway does not crash, block candidates still reach the node, shares during the outage are answered
// `2` "Share not credited: ledger unavailable, resend" (docs/ledger.md), the state goes out on the bus, the ledger
// recovers by itself, and afterwards the books hold exactly the shares answered accepted, and the blocks. /ready is
// 503 naming the ledger while it is down and 200 after; the ledger availability gauge follows (docs/operations.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { LedgerEvent } from '../../src/events/topics.js';
import { silentLogger } from '../../src/config/logger.js';
import { openLedgerStore } from '../../src/ledger/Ledger.js';
import { miners, startStack, Teardown } from '../support/e2e.js';
import { pgServerUrl, PG_SKIP_REASON, PrivateCluster } from '../support/postgres.js';
import { freePort } from '../support/net.js';
import { eventually, waitFor } from '../support/wait.js';

const PG_AVAILABLE = pgServerUrl() !== undefined;
const OUTAGE_MS = 10_000;

test('PostgreSQL stopped 10 s during mining: no crash, blocks reach the node, documented answer, consistent books', { timeout: 240_000, skip: PG_AVAILABLE ? false : PG_SKIP_REASON }, async (t) => {
  const cluster = await PrivateCluster.create();
  t.after(() => cluster.destroy());
  const teardown = new Teardown();
  t.after(() => teardown.run());
  const stack = await startStack(
    teardown,
    { chain: 'devnet', tls: false, difficulty: 40, blockIntervalMs: 0, minerJobLatencyMs: 0 },
    { ledger: { url: cluster.url, shareWaitMs: 1000, retryMinMs: 100, retryMaxMs: 1000, timeoutMs: 2000 }, http: { port: await freePort() } },
  );
  const httpBase = `http://127.0.0.1:${stack.gateway.operations.httpPort ?? 0}`;
  const ready = async (): Promise<{ status: number; body: { ready: boolean; probes: Record<string, { ok: boolean; reason?: string }> } }> => {
    const res = await fetch(`${httpBase}/ready`);
    return { status: res.status, body: (await res.json()) as { ready: boolean; probes: Record<string, { ok: boolean; reason?: string }> } };
  };
  const ledgerUp = async (): Promise<string | undefined> =>
    (await (await fetch(`${httpBase}/metrics`)).text()).split('\n').find((l) => l.startsWith('equigate_ledger_up '))?.slice('equigate_ledger_up '.length);
  const ledgerEvents: LedgerEvent[] = [];
  stack.gateway.bus.subscribe('ledger', 'test', (e) => ledgerEvents.push(e));
  const { events, node } = stack;
  const group = miners(teardown, { url: stack.url, key: 'outage-miner', miners: 4, chain: 'devnet', rate: 50 });
  const accepted = (): number => events.sharesWith(ResultCode.Accepted).length;
  await waitFor(() => accepted() >= 100 && node.stats().blocks.length >= 1, '100 shares and a block before the outage', 120_000, 10);

  assert.equal((await ready()).status, 200);
  assert.equal(await ledgerUp(), '1');
  cluster.stop();
  // Shares keep coming, so a write fails soon: not ready, with the reason, while the books are down.
  await eventually(async () => (await ready()).status === 503, '/ready 503 while PostgreSQL is down', 5000, 50);
  const down = await ready();
  assert.equal(down.body.probes.ledger?.ok, false);
  assert.match(down.body.probes.ledger?.reason ?? '', /^ledger \(postgres\) is unavailable/);
  assert.equal(down.body.probes.upstream?.ok, true);
  assert.equal(await ledgerUp(), '0');
  const blocksBefore = node.stats().blocks.length;
  const submittedBefore = events.blocks.filter((b) => b.status === 'submitted').length;
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  const blocksDuringOutage = node.stats().blocks.length - blocksBefore;
  const submittedDuringOutage = events.blocks.filter((b) => b.status === 'submitted').length - submittedBefore;
  const notCredited = events.shares.filter((s) => s.reason === 'ledger-unavailable');
  cluster.start();

  await waitFor(() => ledgerEvents.some((e) => e.state === 'available'), 'the ledger to recover by itself', 60_000, 20);
  assert.equal((await ready()).status, 200, '/ready 200 after recovery');
  assert.equal(await ledgerUp(), '1');
  const acceptedAtRecovery = accepted();
  await waitFor(() => accepted() >= acceptedAtRecovery + 50, '50 more accepted shares after recovery', 60_000, 10);
  await group.stop();
  await stack.gateway.stop();

  assert.deepEqual(ledgerEvents.map((e) => e.state), ['unavailable', 'available'], 'state reported on the bus');
  assert.ok(blocksDuringOutage >= 1, `block candidates reached the node during the outage (${blocksDuringOutage})`);
  assert.ok(submittedDuringOutage >= blocksDuringOutage);
  assert.ok(notCredited.length > 0, 'shares during the outage got the documented answer');
  for (const s of notCredited) assert.equal(s.code, ResultCode.Rejected);

  const store = await openLedgerStore({ url: cluster.url, sqliteSynchronous: 'normal', timeoutMs: 5000 }, silentLogger());
  t.after(() => store.close());
  const rows = await store.shares();
  const acceptedEvents = events.sharesWith(ResultCode.Accepted);
  assert.equal(rows.length, acceptedEvents.length, 'the books hold exactly the shares answered accepted');
  // A devnet nonce often has two solutions; the achieved difficulty (from the output's hash) tells them apart.
  const key = (s: { jobId: string; nonce: string; achievedDifficulty: number }): string => `${s.jobId}:${s.nonce}:${s.achievedDifficulty}`;
  const inBooks = new Set(rows.map(key));
  for (const s of acceptedEvents) assert.ok(inBooks.has(key(s)));
  for (const s of notCredited) assert.ok(!inBooks.has(key(s)), 'a share answered not credited is never written later');
  // Every block the node accepted, outage or not, is in the books with its hash (buffered, written on recovery).
  const bookedBlocks = await store.blocks();
  const booked = new Set(bookedBlocks.filter((b) => b.status === 'accepted').map((b) => b.blockHash));
  for (const b of node.stats().blocks) {
    assert.ok(booked.has(b.hash), `block ${b.height} in the books: ${JSON.stringify(bookedBlocks.filter((x) => x.height === b.height))} ${JSON.stringify(events.blocks.filter((x) => x.height === b.height))}`);
  }
  t.diagnostic(`outage: ${notCredited.length} shares answered not credited, ${blocksDuringOutage} blocks accepted by the node; books: ${rows.length} shares, ${booked.size} blocks`);
});
