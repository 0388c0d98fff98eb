// The ledger's shared suite, run against both real backends (SQLite file, PostgreSQL database): the same tests, one
// suite function, like a persistence suite shared by storage plugins. PostgreSQL runs when EQUIGATE_TEST_PG_URL is
// set (.ci/postgres.sh); otherwise its half is skipped with the reason printed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/config/logger.js';
import { EventBus, type GatewayEvents } from '../../src/events/EventBus.js';
import { LEDGER_DEFAULTS, openLedger, type Ledger, type LedgerConfig } from '../../src/ledger/Ledger.js';
import { LATEST_SCHEMA_VERSION } from '../../src/ledger/migrations.js';
import { shareWeight, splitExactly } from '../../src/ledger/weights.js';
import { LedgerStatisticsSource } from '../../src/operations/LedgerStatisticsSource.js';
import { MemoryBanList } from '../../src/bans/BanList.js';
import { recordedBanList } from '../../src/bans/BanRecorder.js';
import { pgServerUrl, PG_SKIP_REASON, PrivateCluster, ledgerBackends, type LedgerBackend } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';
import { REPO_ROOT } from '../support/e2e.js';
import { ledgerShare as share } from '../support/ledger.js';
import type { BanEntry, ShareRecord } from '../../src/ledger/types.js';


const PG_SERVER = pgServerUrl();

const BACKENDS = ledgerBackends();

if (PG_SERVER === undefined) process.stdout.write(`# ${PG_SKIP_REASON}\n`);

const PACKED_D1 = 0; // difficulty 1
const PACKED_D2 = 1 << 24; // difficulty 2
const PACKED_D3 = (1 << 24) + (1 << 23); // difficulty 3

async function open(t: TestContext, url: string, over: Partial<LedgerConfig> = {}, bus?: EventBus, instanceId = ''): Promise<Ledger> {
  const ledger = await openLedger({ ...LEDGER_DEFAULTS, url, ...over }, { instanceId, logger: silentLogger(), bus });
  assert.ok(ledger !== undefined);
  t.after(() => ledger.close());
  return ledger;
}

function ledgerSuite(b: LedgerBackend): void {
  const opts = { skip: b.skip };

  test(`${b.name}: a share is recorded once; the same key again is a duplicate, also from another gateway`, opts, async (t) => {
    const url = await b.url(t);
    const one = await open(t, url, {}, undefined, 'aa');
    const s = share({ isBlockCandidate: true, sharePacked: PACKED_D3 });
    assert.equal(await one.record(s), 'recorded');
    assert.equal(await one.record(s), 'duplicate');
    const two = await open(t, url, {}, undefined, 'bb');
    assert.equal(await two.record({ ...s, sessionId: 99, at: s.at + 5 }), 'duplicate');
    const rows = await one.store.shares();
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.ok(row);
    const { id: _id, ...fields } = row;
    assert.deepEqual(fields, { ...s, instanceId: 'aa' });
  });

  test(`${b.name}: group commit — concurrent shares all resolve 'recorded', each stored exactly once`, opts, async (t) => {
    const ledger = await open(t, await b.url(t), { maxBatch: 64 });
    const shares = Array.from({ length: 1000 }, (_, i) => share({ miner: `m${i % 7}` }));
    const outcomes = await Promise.all(shares.map((s) => ledger.record(s)));
    assert.deepEqual(new Set(outcomes), new Set(['recorded']));
    const stored = await ledger.store.shares();
    assert.equal(stored.length, 1000);
    assert.equal(new Set(stored.map((s) => s.nonce)).size, 1000);
  });

  test(`${b.name}: rejects are counted per minute, miner and code from the bus; blocks follow their lifecycle`, opts, async (t) => {
    const bus = new EventBus<GatewayEvents>();
    const ledger = await open(t, await b.url(t), {}, bus);
    const minute = 1_700_000_040_000;
    const reject = (miner: string, code: number, at: number): void =>
      bus.emit('share', { sessionId: 1, miner, worker: '', profile: 'default', remote: 'x', jobId: '1', height: 1, nonce: '0', code, reason: 'r', shareDifficulty: 0, achievedDifficulty: 0, isBlockCandidate: false, at });
    reject('alice', -32009, minute + 1);
    reject('alice', -32009, minute + 59_000);
    reject('alice', -32004, minute + 2);
    reject('bob', -32009, minute + 60_000);
    reject('bob', 1, minute + 3); // accepted: not a reject
    const base = { sessionId: 1, miner: 'alice', worker: '', jobId: '3', upstreamJobId: 'u3', height: 42, nonce: 'ab'.repeat(8) };
    bus.emit('block', { ...base, status: 'submitted', at: minute });
    bus.emit('block', { ...base, status: 'accepted', blockHash: 'ff'.repeat(32), at: minute + 10 });
    bus.emit('block', { ...base, upstreamJobId: 'u4', status: 'submitted', at: minute + 20 });
    bus.emit('block', { ...base, upstreamJobId: 'u4', status: 'rejected', nodeCode: 2, at: minute + 30 });
    await ledger.flush();
    bus.emit('block', { ...base, status: 'submitted', at: minute + 40 }); // late/replayed: never undoes the verdict
    // A second solution of the same nonce, also a candidate, rejected by the node: the accepted verdict stays.
    bus.emit('block', { ...base, status: 'submitted', at: minute + 41 });
    bus.emit('block', { ...base, status: 'rejected', nodeCode: 2, at: minute + 42 });
    bus.emit('block', { ...base, upstreamJobId: 'u5', status: 'submitted', at: minute + 50 });
    bus.emit('block', { ...base, upstreamJobId: 'u5', status: 'unanswered', at: minute + 60 });
    await ledger.flush();
    assert.deepEqual(await ledger.store.rejects(), [
      { minute, miner: 'alice', worker: '', code: -32009, count: 2 },
      { minute, miner: 'alice', worker: '', code: -32004, count: 1 },
      { minute: minute + 60_000, miner: 'bob', worker: '', code: -32009, count: 1 },
    ].sort((x, y) => x.minute - y.minute || (x.miner < y.miner ? -1 : x.miner > y.miner ? 1 : x.code - y.code)));
    const blocks = await ledger.store.blocks();
    const byJob = new Map(blocks.map((x) => [x.upstreamJobId, x]));
    assert.equal(byJob.get('u3')?.status, 'accepted');
    assert.equal(byJob.get('u3')?.blockHash, 'ff'.repeat(32));
    assert.equal(byJob.get('u3')?.submittedAt, minute);
    assert.equal(byJob.get('u3')?.nodeCode, null);
    assert.equal(byJob.get('u4')?.status, 'rejected');
    assert.equal(byJob.get('u4')?.nodeCode, 2);
    assert.equal(byJob.get('u5')?.status, 'unanswered');
  });

  test(`${b.name}: migrations are versioned; reopening keeps the books; a newer schema is refused clearly`, opts, async (t) => {
    const url = await b.url(t);
    const first = await openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: silentLogger() });
    assert.ok(first);
    assert.equal(await first.record(share()), 'recorded');
    await first.close();
    const again = await open(t, url);
    assert.equal((await again.store.shares()).length, 1);
    await again.close();
    // Books of schema 1 (before the bans table) are upgraded in place: the shares stay, bans can be written.
    await runSql(url, 'DROP TABLE bans');
    await setSchemaVersion(url, 1);
    const upgraded = await open(t, url);
    assert.equal((await upgraded.store.shares()).length, 1);
    assert.deepEqual(await upgraded.store.bans(), []);
    await upgraded.close();
    await setSchemaVersion(url, LATEST_SCHEMA_VERSION + 1);
    await assert.rejects(
      openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: silentLogger() }),
      (err: unknown) =>
        (err as { code?: string }).code === 'newer-schema' &&
        String(err).includes(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer than this equigate understands (${LATEST_SCHEMA_VERSION})`),
    );
  });

  test(`${b.name}: retention rolls old shares into hourly aggregates in one step; totals and credits unchanged`, opts, async (t) => {
    const now = Date.now();
    const ledger = await openLedger({ ...LEDGER_DEFAULTS, url: await b.url(t), retentionHours: 2 }, { instanceId: '', logger: silentLogger(), now: () => now });
    assert.ok(ledger);
    t.after(() => ledger.close());
    const hourAgo5 = Math.floor((now - 5 * 3_600_000) / 3_600_000) * 3_600_000;
    const old = [
      share({ miner: 'alice', at: hourAgo5 + 1000, sharePacked: PACKED_D2 }),
      share({ miner: 'alice', at: hourAgo5 + 2000, sharePacked: PACKED_D3 }),
      share({ miner: 'bob', at: hourAgo5 + 3000 }),
    ];
    const fresh = share({ miner: 'alice', at: now - 1000 });
    for (const s of [...old, fresh]) assert.equal(await ledger.record(s), 'recorded');
    const before = await ledger.statistics(now);
    const creditsBefore = await ledger.store.credits(0, now);
    assert.equal(await ledger.rollUp(), 3);
    assert.equal((await ledger.store.shares()).length, 1);
    const rollups = await ledger.store.rollups();
    assert.deepEqual(
      rollups.map((r) => [r.hour, r.miner, r.shares, r.difficultySum, r.weight]),
      [
        [hourAgo5, 'alice', 2, 5, (shareWeight(PACKED_D2) + shareWeight(PACKED_D3)).toString()],
        [hourAgo5, 'bob', 1, 1, shareWeight(PACKED_D1).toString()],
      ],
    );
    const after = await ledger.statistics(now);
    assert.deepEqual(after.miners.map((m) => [m.miner, m.accepted]), before.miners.map((m) => [m.miner, m.accepted]));
    const sum = (rows: Array<{ miner: string; weight: bigint }>, miner: string): bigint => rows.filter((r) => r.miner === miner).reduce((a, r) => a + r.weight, 0n);
    const creditsAfter = await ledger.store.credits(0, now);
    assert.equal(sum(creditsAfter, 'alice'), sum(creditsBefore, 'alice'));
    assert.equal(sum(creditsAfter, 'bob'), sum(creditsBefore, 'bob'));
    assert.equal(await ledger.rollUp(), 0, 'nothing left to roll up');
  });

  test(`${b.name}: statistics — hashrate per miner/worker over 10 min and 1 h, rejects by code, last share, blocks; pool totals`, opts, async (t) => {
    const bus = new EventBus<GatewayEvents>();
    const now = Date.now();
    const ledger = await open(t, await b.url(t), {}, bus);
    // alice: 6 × difficulty 2 in the last 10 min, 60 × difficulty 1 between 10 and 60 min ago; bob: one share 30 min ago.
    for (let i = 0; i < 6; i++) await ledger.record(share({ miner: 'alice', sharePacked: PACKED_D2, at: now - 60_000 * (i + 1) }));
    for (let i = 0; i < 60; i++) await ledger.record(share({ miner: 'alice', at: now - 11 * 60_000 - i * 30_000 }));
    await ledger.record(share({ miner: 'bob', sharePacked: PACKED_D3, at: now - 30 * 60_000 }));
    bus.emit('share', { sessionId: 1, miner: 'bob', worker: '', profile: 'default', remote: 'x', jobId: '1', height: 1, nonce: '0', code: -32009, reason: 'r', shareDifficulty: 0, achievedDifficulty: 0, isBlockCandidate: false, at: now });
    const blk = { sessionId: 1, miner: 'bob', worker: '', jobId: '1', upstreamJobId: 'ub', height: 9, nonce: '00'.repeat(8) };
    bus.emit('block', { ...blk, status: 'submitted', at: now });
    bus.emit('block', { ...blk, status: 'accepted', blockHash: '11'.repeat(32), at: now });
    await ledger.flush();
    const st = await ledger.statistics(now);
    const alice = st.workers.find((w) => w.miner === 'alice');
    const bob = st.workers.find((w) => w.miner === 'bob');
    assert.ok(alice && bob);
    assert.equal(alice.hashrate10m, 12 / 600);
    assert.equal(alice.hashrate1h, 72 / 3600);
    assert.equal(alice.accepted, 66);
    assert.equal(alice.lastShareAt, now - 60_000);
    assert.equal(bob.hashrate10m, 0);
    assert.equal(bob.hashrate1h, 3 / 3600);
    assert.deepEqual(bob.rejected, { '-32009': 1 });
    assert.equal(bob.blocksFound, 1);
    assert.equal(st.pool.accepted, 67);
    assert.equal(st.pool.hashrate1h, 75 / 3600);
    assert.deepEqual(st.pool.blocks, { accepted: 1 });
    assert.deepEqual(st.miners.map((m) => m.miner), ['alice', 'bob']);

    // What the operations read (admin, /api/statistics, event API, dashboard): the same numbers, one function.
    const source = new LedgerStatisticsSource({ read: (at) => ledger.statistics(at), intervalMs: 60_000, logger: silentLogger(), now: () => now });
    t.after(() => source.stop());
    await source.start();
    const pool = source.pool();
    assert.equal(pool.accepted, st.pool.accepted);
    assert.equal(pool.hashrate10m, st.pool.hashrate10m);
    assert.equal(pool.hashrate1h, st.pool.hashrate1h);
    assert.deepEqual(pool.rejectedByCode, { '-32009': 1 });
    assert.equal(pool.blocksAccepted, 1);
    assert.equal(pool.miners, 2);
    assert.deepEqual(pool.recentBlocks.map((r) => [r.height, r.miner, r.status, r.blockHash]), [[9, 'bob', 'accepted', '11'.repeat(32)]]);
    assert.deepEqual(source.miners().map((m) => [m.miner, m.hashrate10m, m.accepted]), [['alice', 12 / 600, 66], ['bob', 0, 1]]);
    const bobView = source.miner('bob');
    assert.ok(bobView);
    assert.equal(bobView.blocks, 1);
    assert.deepEqual(bobView.rejectedByCode, { '-32009': 1 });
    assert.deepEqual(bobView.workers.map((w) => [w.worker, w.hashrate1h]), [['', 3 / 3600]]);
    assert.equal(source.miner('carol'), undefined);
    assert.deepEqual(source.poolSeries(), { t: [Math.floor(now / 1000)], hashrate: [st.pool.hashrate10m] });
    // The books gone: a refresh fails, the last snapshot stays.
    await ledger.close();
    await source.refresh();
    assert.equal(source.pool().accepted, 67);
    assert.equal(source.poolSeries().t.length, 1);
  });

  test(`${b.name}: bans are in the books with their reasons — abuse guard and operator, IPv4 and IPv6 /64, lifts; a retry writes once`, opts, async (t) => {
    const url = await b.url(t);
    const ledger = await open(t, url, {}, undefined, 'gw1');
    let clock = 1_700_000_000_000;
    const now = (): number => clock;
    const list = new MemoryBanList(100, now);
    const byGuard = recordedBanList(list, ledger, 'abuse', now);
    const byOperator = recordedBanList(list, ledger, 'operator', now);
    byGuard.ban('203.0.113.7', 'invalid shares 30/50 (last: invalid-solution)', 600);
    clock += 1000;
    byOperator.ban('2001:db8:1:2::99', 'flooding', 3600);
    clock += 1000;
    assert.equal(byOperator.unban('2001:db8:1:2::/64'), true);
    assert.equal(byOperator.unban('198.51.100.1'), false, 'nothing to lift: nothing recorded');
    assert.ok(list.isBanned('203.0.113.7'), 'the ban is in force (recording does not replace it)');
    await ledger.flush();
    const t0 = 1_700_000_000_000;
    assert.deepEqual(await ledger.store.bans(), [
      { action: 'ban', key: '203.0.113.7', reason: 'invalid shares 30/50 (last: invalid-solution)', source: 'abuse', instanceId: 'gw1', at: t0, until: t0 + 600_000 },
      { action: 'ban', key: '2001:db8:1:2::/64', reason: 'flooding', source: 'operator', instanceId: 'gw1', at: t0 + 1000, until: t0 + 1000 + 3_600_000 },
      { action: 'unban', key: '2001:db8:1:2::/64', reason: '', source: 'operator', instanceId: 'gw1', at: t0 + 2000, until: null },
    ]);
    // The same entry again (a retry after a commit whose outcome was unknown) is not a second row.
    const again = (await ledger.store.bans())[0];
    assert.ok(again);
    await ledger.store.writeBatch({ shares: [], rejects: [], blocks: [], bans: [again] });
    assert.equal((await ledger.store.bans()).length, 3);
  });

  test(`${b.name}: bans in force — per key the latest entry, if a ban not yet expired; this instance only; longest-lasting first within the limit`, opts, async (t) => {
    const url = await b.url(t);
    const ledger = await open(t, url, {}, undefined, 'gw1');
    const t0 = 1_700_000_000_000;
    const now = t0 + 10_000;
    const ban = (key: string, at: number, until: number, instanceId = 'gw1'): BanEntry => ({ action: 'ban', key, reason: `r ${key}`, source: 'abuse', instanceId, at, until });
    const lift = (key: string, at: number, instanceId = 'gw1'): BanEntry => ({ action: 'unban', key, reason: '', source: 'operator', instanceId, at, until: null });
    const write = (bans: BanEntry[]): Promise<boolean[]> => ledger.store.writeBatch({ shares: [], rejects: [], blocks: [], bans });
    await write([
      ban('203.0.113.1', t0, t0 + 60_000), // in force
      ban('203.0.113.2', t0, t0 + 60_000), lift('203.0.113.2', t0 + 1000), // lifted
      ban('203.0.113.3', t0, t0 + 5000), // expired
      ban('2001:db8:1:2::/64', t0, t0 + 5000), ban('2001:db8:1:2::/64', t0 + 2000, t0 + 3_600_000), // banned again, longer
      lift('203.0.113.5', t0), ban('203.0.113.5', t0 + 3000, t0 + 120_000), // banned after a lift
      ban('203.0.113.6', t0 + 4000, t0 + 60_000), // lifted within the same millisecond (below): the later id decides
      ban('203.0.113.7', t0, now), // expires exactly now
      ban('198.51.100.9', t0, t0 + 60_000, 'gw2'), // another gateway's
      lift('203.0.113.1', t0 + 5000, 'gw2'), // another gateway's lift does not lift ours
    ]);
    await write([lift('203.0.113.6', t0 + 4000)]);
    const keys = async (instanceId: string, limit: number): Promise<string[]> => (await ledger.store.bansInForce(instanceId, now, limit)).map((e) => e.key);
    assert.deepEqual(await keys('gw1', 100), ['2001:db8:1:2::/64', '203.0.113.5', '203.0.113.1']);
    assert.deepEqual(await ledger.store.bansInForce('gw1', now, 1), [ban('2001:db8:1:2::/64', t0 + 2000, t0 + 3_600_000)], 'the entry as written');
    assert.deepEqual(await keys('gw1', 2), ['2001:db8:1:2::/64', '203.0.113.5'], 'the soonest to expire left out');
    assert.deepEqual(await keys('gw2', 100), ['198.51.100.9']);
    assert.deepEqual(await keys('gw3', 100), []);
    const later = await ledger.store.bansInForce('gw1', t0 + 60_000, 100);
    assert.deepEqual(later.map((e) => e.key), ['2001:db8:1:2::/64', '203.0.113.5'], 'a minute on, 203.0.113.1 has expired');
  });

  test(`${b.name}: reward report — PPLNS and PROP against a hand-computed case, exact and summing to the reward`, opts, async (t) => {
    const bus = new EventBus<GatewayEvents>();
    const url = await b.url(t);
    const ledger = await open(t, url, {}, bus);
    // Round of block 10: A d1 @1000, B d2 @2000, A d1 @3000 (A's share is the block). Round of 11: C d3, B d1, A d2.
    const at = (s: number): number => 1_700_000_000_000 + s * 1000;
    const rows: ShareRecord[] = [
      share({ miner: 'A', at: at(1), sharePacked: PACKED_D1 }),
      share({ miner: 'B', at: at(2), sharePacked: PACKED_D2 }),
      share({ miner: 'A', at: at(3), sharePacked: PACKED_D1, upstreamJobId: 'j10', nonce: '10'.repeat(8), isBlockCandidate: true }),
      share({ miner: 'C', at: at(4), sharePacked: PACKED_D3 }),
      share({ miner: 'B', at: at(5), sharePacked: PACKED_D1 }),
      share({ miner: 'A', at: at(6), sharePacked: PACKED_D2, upstreamJobId: 'j11', nonce: '11'.repeat(8), isBlockCandidate: true }),
      share({ miner: 'B', at: at(7), sharePacked: PACKED_D2 }), // after block 11: next round
    ];
    for (const r of rows) assert.equal(await ledger.record(r), 'recorded');
    const block = (height: number, job: string, nonce: string, s: number): void => {
      const base = { sessionId: 1, miner: 'A', worker: '', jobId: job, upstreamJobId: job, height, nonce };
      bus.emit('block', { ...base, status: 'submitted', at: at(s) - 1 });
      bus.emit('block', { ...base, status: 'accepted', blockHash: `${height}`.padStart(64, '0'), at: at(s) + 100 });
    };
    block(10, 'j10', '10'.repeat(8), 3);
    block(11, 'j11', '11'.repeat(8), 6);
    await ledger.flush();

    // PROP, block 11: C 3, B 1, A 2 of 6; 100 units → 50, 16 r4, 33 r2 → the leftover unit to B (largest remainder).
    const prop = await ledger.rewardReport({ height: 11, scheme: 'prop', reward: 100n });
    assert.deepEqual(prop.payouts, [
      { miner: 'A', difficulty: '2', amount: '33' },
      { miner: 'B', difficulty: '1', amount: '17' },
      { miner: 'C', difficulty: '3', amount: '50' },
    ]);
    assert.equal(prop.totalDifficulty, '6');
    // PPLNS window 5 before block 11: A 2, B 1, then 2 of C's 3. Reward 7: 2 r4, 1 r2, 2 r4 → A and C +1 (tie by name).
    const pplns = await ledger.rewardReport({ height: 11, scheme: 'pplns', reward: 7n, window: 5n });
    assert.deepEqual(pplns.payouts, [
      { miner: 'A', difficulty: '2', amount: '3' },
      { miner: 'B', difficulty: '1', amount: '1' },
      { miner: 'C', difficulty: '2', amount: '3' },
    ]);
    // PPLNS with a window larger than history, block 10: A 2, B 2; 7 → 3 r2 each → A gets the unit.
    const first = await ledger.rewardReport({ height: 10, scheme: 'pplns', reward: 7n, window: 100n });
    assert.deepEqual(first.payouts.map((p) => [p.miner, p.amount]), [['A', '4'], ['B', '3']]);
    // A partial share in the window keeps exact fractions: window 4 before block 11 takes 1 of C's 3.
    const frac = await ledger.rewardReport({ height: 11, scheme: 'pplns', reward: 10n ** 18n, window: 4n });
    assert.deepEqual(frac.payouts.map((p) => p.difficulty), ['2', '1', '1']);
    assert.equal(frac.payouts.reduce((a, p) => a + BigInt(p.amount), 0n), 10n ** 18n);
    await assert.rejects(ledger.rewardReport({ height: 12, scheme: 'prop', reward: 1n }), /no block at height 12/);

    // The same report through the CLI, as an operator runs it.
    await ledger.close();
    const out = await cli(['ledger', 'report', '--ledger-url', url, '--block', '11', '--scheme', 'prop', '--reward', '100', '--format', 'csv']);
    assert.equal(out.code, 0, out.text);
    assert.equal(out.text, 'miner,difficulty,amount\nA,2,33\nB,1,17\nC,3,50\n');
    const json = await cli(['ledger', 'report', '--ledger-url', url, '--block', '11', '--window', '5', '--reward', '7']);
    assert.equal(json.code, 0, json.text);
    assert.deepEqual((JSON.parse(json.text) as { payouts: unknown }).payouts, pplns.payouts);
    const missing = await cli(['ledger', 'report', '--ledger-url', url, '--block', '99', '--reward', '7']);
    assert.equal(missing.code, 1);
    assert.match(missing.text, /no block at height 99/);
  });

  test(`${b.name}: a rewritten batch (commit outcome unknown) is recognised by its token, not taken as a duplicate`, opts, async (t) => {
    const ledger = await open(t, await b.url(t));
    const row = { ...share(), instanceId: '', token: 'tok-1' };
    assert.deepEqual(await ledger.store.writeBatch({ shares: [row], rejects: [], blocks: [] }), [true]);
    assert.deepEqual(await ledger.store.writeBatch({ shares: [row], rejects: [], blocks: [] }), [true]);
    assert.deepEqual(await ledger.store.writeBatch({ shares: [{ ...row, token: 'tok-2' }], rejects: [], blocks: [] }), [false]);
    assert.equal((await ledger.store.shares()).length, 1);
  });

  test(`${b.name}: a broken store answers 'unavailable' within shareWaitMs, bounded, and reports it on the bus`, opts, async (t) => {
    const bus = new EventBus<GatewayEvents>();
    const states: string[] = [];
    bus.subscribe('ledger', 'test', (e) => states.push(e.state));
    const ledger = await open(t, await b.url(t), { shareWaitMs: 200, retryMinMs: 20, maxBufferedShares: 5 }, bus);
    assert.equal(await ledger.record(share()), 'recorded');
    await ledger.store.close(); // the database goes away under the ledger
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => ledger.record(share())));
    assert.deepEqual(outcomes.filter((o) => o === 'unavailable').length, 8);
    assert.equal(ledger.state, 'unavailable');
    assert.deepEqual(states, ['unavailable']);
    assert.equal(ledger.buffered, 0, 'expired shares leave the buffer: they can never be written later');
  });
}

async function runSql(url: string, sql: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    db.exec(sql);
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(sql);
  await c.end();
}

async function setSchemaVersion(url: string, version: number): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length));
    db.prepare("UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'").run(String(version));
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("UPDATE ledger_meta SET value = $1 WHERE key = 'schema_version'", [String(version)]);
  await c.end();
}

async function cli(args: string[]): Promise<{ code: number | null; text: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EQUIGATE_LEDGER_URL: undefined } });
  let text = '';
  child.stdout.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr.on('data', (c: Buffer) => (text += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, text };
}

test('sqlite: an idle ledger notices another connection holding the write lock by its probe, and its release, with no share written', async (t) => {
  const [sqlite] = ledgerBackends();
  assert.equal(sqlite?.name, 'sqlite');
  const url = await sqlite.url(t);
  const bus = new EventBus<GatewayEvents>();
  const states: string[] = [];
  bus.subscribe('ledger', 'test', (e) => states.push(e.state));
  const ledger = await open(t, url, { probeIntervalMs: 100, timeoutMs: 100 }, bus);
  await new Promise((r) => setTimeout(r, 300)); // probes that find the books writable change nothing
  assert.deepEqual(states, []);
  const other = new Database(url.slice('sqlite:'.length));
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // reads would still answer; a write could not
  await waitFor(() => ledger.state === 'unavailable', 'the probe finds the write lock taken', 10_000);
  other.exec('COMMIT');
  await waitFor(() => ledger.state === 'available', 'the probe finds the books writable again', 10_000);
  assert.deepEqual(states, ['unavailable', 'available']);
  assert.equal(ledger.buffered, 0);
  assert.equal((await ledger.store.shares()).length, 0, 'the probe wrote nothing');
});

test('postgres: an idle ledger notices PostgreSQL stopping and starting again by its probe, with no share written', { timeout: 180_000, skip: PG_SERVER === undefined ? PG_SKIP_REASON : false }, async (t) => {
  const cluster = await PrivateCluster.create();
  t.after(() => cluster.destroy());
  const bus = new EventBus<GatewayEvents>();
  const states: string[] = [];
  bus.subscribe('ledger', 'test', (e) => states.push(e.state));
  const ledger = await open(t, cluster.url, { probeIntervalMs: 100, timeoutMs: 1000 }, bus);
  cluster.stop();
  await waitFor(() => ledger.state === 'unavailable', 'the probe finds PostgreSQL gone', 30_000);
  cluster.start();
  await waitFor(() => ledger.state === 'available', 'the probe finds PostgreSQL back', 60_000);
  assert.deepEqual(states, ['unavailable', 'available']);
  assert.equal(await ledger.record(share()), 'recorded');
});

test('ledger.url: none opens no books; a bad URL and bad ranges are refused with the key named', async () => {
  assert.equal(await openLedger({ ...LEDGER_DEFAULTS, url: 'none' }, { instanceId: '', logger: silentLogger() }), undefined);
  await assert.rejects(openLedger({ ...LEDGER_DEFAULTS, url: 'mysql://x' }, { instanceId: '', logger: silentLogger() }), (e: unknown) => (e as { code?: string }).code === 'bad-url');
  assert.throws(() => loadConfig({ overrides: { ledger: { retentionHours: 1 } }, args: [], env: {} }), /retentionHours/);
  assert.throws(() => loadConfig({ overrides: { ledger: { sqliteSynchronous: 'off' } }, args: [], env: {} }), /sqliteSynchronous/);
  assert.equal(loadConfig({ overrides: { ledger: { retentionHours: 0 } }, args: [], env: {} }).ledger.retentionHours, 0);
});

test('splitExactly: parts sum to the total for awkward weights', () => {
  const weights = new Map([['x', 1n], ['y', 1n], ['z', 1n]]);
  const parts = splitExactly(100n, weights);
  assert.deepEqual([...parts.values()].reduce((a, b) => a + b, 0n), 100n);
  assert.deepEqual(parts.get('x'), 34n);
});

for (const backend of BACKENDS) ledgerSuite(backend);
