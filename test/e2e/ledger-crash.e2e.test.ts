// Accepted means written, proven with kill -9: devnet miners mine through a real `equigate start` process; the
// process is killed mid-stream (SIGKILL, no shutdown code runs), restarted on the same ledger, mined through again
// and stopped. Every share a miner was told `1 accepted` must be in the books exactly once; a share in the books
// that no miner heard accepted may only be one whose answer was in flight when the process died (committed, reply
// lost with the process: docs/ledger.md "Durability"). Runs against SQLite and, when available, PostgreSQL.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/config/logger.js';
import { openLedgerStore } from '../../src/ledger/Ledger.js';
import { rewardReport } from '../../src/ledger/rewards.js';
import { SimNode } from '../../src/sim/SimNode.js';
import { BookkeepingMiners } from '../support/bookkeepingMiner.js';
import { startGatewayProcess, waitForOutput, type GatewayProcess } from '../support/gatewayProcess.js';
import { freePort } from '../support/net.js';
import { freshDatabase, pgServerUrl, PG_SKIP_REASON } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';

const PG_SERVER = pgServerUrl();
const MINERS = 6;

async function crashTest(t: TestContext, ledgerUrl: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-crash-'));
  // Block difficulty 30: a block every few dozen shares, so the books also hold blocks to report on.
  const node = await SimNode.start({ chain: 'devnet', tls: false, difficulty: 30, blockIntervalMs: 0, minerJobLatencyMs: 0 });
  t.after(() => node.stop());
  const stratumPort = await freePort();
  const config = {
    chain: 'devnet',
    upstream: { host: '127.0.0.1', port: node.port, tls: false, apiKey: 'crash-gateway-key', reconnectMinMs: 50, reconnectMaxMs: 200 },
    stratum: { host: '127.0.0.1', port: stratumPort, shareDifficulty: 1 },
    http: { port: 0 },
    // A wide group-commit window (20 ms, default 2): a gateway that answered before committing would lose the
    // shares answered in the last 20 ms to the kill, so this test would catch it.
    ledger: { url: ledgerUrl, commitDelayMs: 20 },
  };
  const configFile = path.join(dir, 'gateway.json');
  const procs: GatewayProcess[] = [];
  t.after(() => procs.forEach((p) => p.child.kill('SIGKILL')));

  // Phase 1: mine, then kill -9 while shares are streaming.
  const first = startGatewayProcess(configFile, config);
  procs.push(first);
  await waitForOutput(first, /"msg":"gateway started"/, 'first gateway started');
  const phase1 = await BookkeepingMiners.start(stratumPort, 'crash-miner-key', MINERS);
  await waitFor(() => phase1.accepted.size >= 400, '400 accepted shares before the kill', 120_000, 5);
  first.child.kill('SIGKILL');
  assert.equal(await first.exited(), null, 'killed by the signal, no graceful path');
  await phase1.stop();

  // Phase 2: restart on the same ledger, mine a little more, stop gracefully.
  const second = startGatewayProcess(configFile, config);
  procs.push(second);
  await waitForOutput(second, /"msg":"gateway started"/, 'restarted gateway started');
  const phase2 = await BookkeepingMiners.start(stratumPort, 'crash-miner-key', MINERS);
  await waitFor(() => phase2.accepted.size >= 100, '100 accepted shares after the restart', 120_000, 5);
  await phase2.stop();
  second.child.kill('SIGTERM');
  assert.equal(await second.exited(), 0, second.output());

  const store = await openLedgerStore({ url: ledgerUrl, sqliteSynchronous: 'normal', timeoutMs: 5000 }, silentLogger());
  t.after(() => store.close());
  const rows = await store.shares();
  const inBooks = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.nonce}:${r.outputHash}`;
    inBooks.set(key, (inBooks.get(key) ?? 0) + 1);
  }
  const told = new Set([...phase1.accepted, ...phase2.accepted]);
  const missing = [...told].filter((k) => inBooks.get(k) !== 1);
  assert.deepEqual(missing, [], 'every share a miner was told accepted is in the books exactly once');
  const notTold = [...inBooks.keys()].filter((k) => !told.has(k));
  const inFlight = new Set([...phase1.unanswered, ...phase2.unanswered]);
  assert.deepEqual(notTold.filter((k) => !inFlight.has(k)), [], 'no share in the books that a miner was not told accepted (except answers lost in flight)');
  assert.ok(notTold.length <= MINERS, `at most one in-flight share per connection (${notTold.length})`);
  assert.equal(rows.length, told.size + notTold.length);
  t.diagnostic(`told accepted ${told.size}, in the books ${rows.length}, committed with the answer lost in flight ${notTold.length}`);

  // The books hold devnet blocks the node accepted; a reward report on one sums exactly to the reward.
  const accepted = (await store.blocks()).filter((b) => b.status === 'accepted');
  assert.ok(accepted.length > 0, 'the miners found blocks');
  const block = accepted[accepted.length - 1];
  assert.ok(block);
  const reward = 8_000_000_000n + 12_345n; // 80 BEAM and fees, in groth
  const report = await rewardReport(store, { height: block.height, scheme: 'pplns', reward, window: 250n });
  assert.equal(report.payouts.reduce((a, p) => a + BigInt(p.amount), 0n), reward);
  assert.deepEqual(report.payouts.map((p) => p.miner), ['crash-miner-key']);
}

test('kill -9 mid-stream, SQLite: every share told accepted is in the books exactly once', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-crash-db-'));
  await crashTest(t, `sqlite:${path.join(dir, 'books.sqlite')}`);
});

test('kill -9 mid-stream, PostgreSQL: every share told accepted is in the books exactly once', { timeout: 300_000, skip: PG_SERVER === undefined ? PG_SKIP_REASON : false }, async (t) => {
  const db = await freshDatabase(PG_SERVER ?? '');
  t.after(() => db.drop());
  await crashTest(t, db.url);
});
