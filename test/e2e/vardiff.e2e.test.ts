// Vardiff end to end on the devnet (docs/gateway.md "Vardiff"): SimNode ← Gateway (one port with vardiff: 1 s per
// share, a look every 2 s) ← two reference miners throttled to 1 and 50 nonces a second (hashrates 50× apart).
// Proves: the fast miner's difficulty climbs in maxStep steps through re-issued job ids while the slow one stays low,
// every share either sends is accepted (in-flight shares at an old difficulty are not refused as low), and share
// events carry the difficulty of the job each share answered. The convergence to ±30 % of the target is shown on a
// simulated clock in test/unit/vardiff.test.ts (wall-clock share rates would take minutes here).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

describe('vardiff end to end: miners 50× apart in hashrate on one port', { timeout: 90_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let slow: MinerGroup;
  let fast: MinerGroup;

  before(async () => {
    const port = await freePort();
    stack = await startStack(
      teardown,
      { tls: true, chain: 'devnet', noncePrefix: '', difficulty: 1e7, blockIntervalMs: 0, minerJobLatencyMs: 0 },
      {
        stratum: {
          listeners: [
            {
              name: 'vardiff',
              transport: 'tcp',
              host: '127.0.0.1',
              port,
              shareDifficulty: 1,
              vardiff: { enabled: true, targetSeconds: 1, retargetSeconds: 2, minDifficulty: 1, maxDifficulty: 1e6, maxStep: 4, variancePercent: 30 },
            },
          ],
        },
      },
    );
    const url = `stratum+tcp://127.0.0.1:${port}`;
    slow = miners(teardown, { url, key: 'wallet.slow', miners: 1, workers: 1, noncesPerSecond: 1, chain: 'devnet' });
    fast = miners(teardown, { url, key: 'wallet.fast', miners: 1, workers: 1, noncesPerSecond: 50, chain: 'devnet' });
  });
  after(() => teardown.run());

  it('the fast miner climbs through re-issued jobs, the slow one stays low, every share is accepted at its job\'s difficulty', async () => {
    const { events } = stack;
    const of = (worker: string) => events.shares.filter((s) => s.worker === worker);
    // ≈ 38 difficulty-1 solutions a second against a target of one share a second: at least three steps of 4×.
    await waitFor(() => of('fast').some((s) => s.shareDifficulty >= 16), 'the fast miner at difficulty ≥ 16', 60_000, 50);
    const fastShares = of('fast');
    const slowShares = of('slow');
    for (const s of [...fastShares, ...slowShares]) {
      assert.ok(s.code === ResultCode.Accepted || s.code === ResultCode.StaleJob, `share refused: ${s.code} ${s.reason} at ${s.shareDifficulty}`);
    }
    assert.equal(fast.stats().rejected - (fast.stats().results[String(ResultCode.StaleJob)] ?? 0), 0);
    // Difficulties went up in steps of at most 4× (maxStep), through jobs the miner got with new ids.
    const levels = [...new Set(fastShares.map((s) => s.shareDifficulty))].sort((a, b) => a - b);
    for (let i = 1; i < levels.length; i++) assert.ok((levels[i] ?? 0) / (levels[i - 1] ?? 1) <= 4.01, `step ${levels[i - 1]} → ${levels[i]}`);
    assert.ok(fast.stats().jobs >= levels.length, 'one re-issued job per change');
    const slowMax = Math.max(...slowShares.map((s) => s.shareDifficulty), 1);
    assert.ok(slowMax <= 4, `the slow miner stays low (${slowMax})`);
    // Shares answering an older job id carry that job's difficulty, even after the change.
    const jobIds = new Map<string, Set<number>>();
    for (const s of fastShares) jobIds.set(s.jobId, (jobIds.get(s.jobId) ?? new Set()).add(s.shareDifficulty));
    for (const [id, set] of jobIds) assert.equal(set.size, 1, `job ${id}: one difficulty for this session`);
  });
});
