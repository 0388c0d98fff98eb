// LedgerStatisticsSource's refresh discipline (docs/operations.md "Statistics"): refreshes never overlap, a failed
// one keeps the last snapshot and is logged once until one succeeds, the series keeps one hour, stop() waits for a
// refresh in flight. The numbers themselves are checked against real books in test/integration/ledger.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LedgerStatistics } from '../../src/ledger/statistics.js';
import { LedgerStatisticsSource } from '../../src/operations/LedgerStatisticsSource.js';
import { LogCapture } from '../support/scriptedNode.js';

function stats(accepted: number, hashrate10m: number): LedgerStatistics {
  const worker = { miner: 'alice', worker: 'rig1', hashrate10m, hashrate1h: hashrate10m, accepted, rejected: {}, lastShareAt: 1_000, blocksFound: 0 };
  return {
    at: 0,
    workers: [worker],
    miners: [{ ...worker, worker: '' }],
    pool: { hashrate10m, hashrate1h: hashrate10m, accepted, rejected: {}, lastShareAt: 1_000, blocks: {} },
    recentBlocks: [],
  };
}

test('refreshes never overlap; a failure keeps the last snapshot and is logged once; the series keeps an hour', async () => {
  const logs = new LogCapture();
  let clock = 1_000;
  let reads = 0;
  let release: (() => void) | undefined;
  let next: () => Promise<LedgerStatistics> = () => Promise.resolve(stats(1, 5));
  const source = new LedgerStatisticsSource({
    read: () => {
      reads += 1;
      return next();
    },
    intervalMs: 3_600_000,
    logger: logs.logger(),
    now: () => clock,
  });
  assert.equal(source.pool().accepted, 0, 'empty before the first snapshot');
  await source.start();
  assert.equal(source.pool().accepted, 1);
  assert.deepEqual(source.miners().map((m) => [m.miner, m.workers.map((w) => w.worker)]), [['alice', ['rig1']]]);

  // A slow read: a second refresh joins it instead of starting another.
  next = () => new Promise((resolve) => (release = () => resolve(stats(2, 7))));
  clock += 10_000;
  const first = source.refresh();
  const second = source.refresh();
  assert.equal(reads, 2);
  release?.();
  await Promise.all([first, second]);
  assert.equal(source.pool().accepted, 2);

  // Failures: the snapshot stays, one error line for the whole run of them, one line when it is back.
  next = () => Promise.reject(new Error('database away'));
  for (let i = 0; i < 3; i++) await source.refresh();
  assert.equal(source.pool().accepted, 2);
  assert.equal(logs.entries.filter((e) => e.level === 50).length, 1);
  next = () => Promise.resolve(stats(3, 9));
  clock += 3_600_001; // over an hour later: the older samples fall out of the series
  await source.refresh();
  assert.equal(source.pool().accepted, 3);
  assert.equal(logs.entries.filter((e) => /refreshed again/.test(String(e.msg))).length, 1);
  assert.deepEqual(source.poolSeries(), { t: [Math.floor(clock / 1000)], hashrate: [9] });

  // stop() waits for the refresh in flight and nothing runs after it.
  next = () => new Promise((resolve) => setTimeout(() => resolve(stats(4, 1)), 20));
  const inFlight = source.refresh();
  await source.stop();
  await inFlight;
  const readsAtStop = reads;
  await source.refresh();
  assert.equal(reads, readsAtStop, 'no read after stop');
});
