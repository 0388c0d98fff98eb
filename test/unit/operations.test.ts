// Units of the operations code: provisional statistics (hashrate windows, per worker and
// code), readiness probes, and the event API's request parsing and filters (docs/event-api.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProvisionalStatistics } from '../../src/operations/ProvisionalStatistics.js';
import { Readiness } from '../../src/operations/Readiness.js';
import { splitWorkerLabel } from '../../src/operations/StatisticsSource.js';
import { EventApiRequestError, filterFromOptions, parseRequest, passes, updatedFilter } from '../../src/eventapi/protocol.js';
import { textFrame } from '../../src/eventapi/frames.js';
import type { ShareEvent } from '../../src/events/topics.js';

function share(label: string, at: number, code = 1, difficulty = 10): ShareEvent {
  const { miner, worker } = splitWorkerLabel(label);
  return { sessionId: 1, miner, worker, profile: 'default', remote: 'r', jobId: '1', height: 1, nonce: '0', code, reason: '', shareDifficulty: difficulty, achievedDifficulty: difficulty, isBlockCandidate: false, at };
}

describe('ProvisionalStatistics', () => {
  it('hashrate = Σ accepted difficulty / window (or time since start when shorter); rejected by code; per miner and worker', () => {
    const start = 1_800_000_000_000;
    let now = start;
    const stats = new ProvisionalStatistics({ now: () => now });
    now = start + 100_000; // 100 s after start
    stats.recordShare(share('alice.rig1', now - 5000));
    stats.recordShare(share('alice.rig2', now - 4000));
    stats.recordShare(share('alice.rig2', now - 3000, -32009));
    stats.recordShare(share('bob', now - 2000, 1, 30));
    const pool = stats.pool();
    assert.equal(pool.accepted, 3);
    assert.deepEqual(pool.rejectedByCode, { '-32009': 1 });
    assert.equal(pool.hashrate10m, 50 / 100);
    assert.equal(pool.miners, 2);
    assert.equal(pool.workers, 3);
    const alice = stats.miner('alice');
    assert.ok(alice !== undefined);
    assert.equal(alice.hashrate10m, 20 / 100);
    assert.deepEqual(alice.workers.map((w) => w.worker).sort(), ['rig1', 'rig2']);
    assert.deepEqual(stats.miners().map((m) => m.miner), ['bob', 'alice'], 'most hashrate first');
    now = start + 2 * 3_600_000;
    assert.equal(stats.pool().hashrate10m, 0, 'old shares leave the window');
    assert.deepEqual(stats.miners(), [], 'miners unseen for an hour are not listed');
  });

  it('keeps at most maxWorkers workers, forgetting the least recently seen', () => {
    const stats = new ProvisionalStatistics({ maxWorkers: 2 });
    const t = Date.now();
    stats.recordShare(share('a', t));
    stats.recordShare(share('b', t));
    stats.recordShare(share('a', t));
    stats.recordShare(share('c', t));
    assert.deepEqual(stats.miners().map((m) => m.miner).sort(), ['a', 'c']);
    assert.equal(stats.miner('b'), undefined, 'a forgotten worker leaves its miner index too');
    assert.equal(stats.miner('a')?.accepted, 2);
  });

  it('splits MINER.WORKER at the first dot', () => {
    assert.deepEqual(splitWorkerLabel('w.x.y'), { miner: 'w', worker: 'x.y' });
    assert.deepEqual(splitWorkerLabel('key-abc'), { miner: 'key-abc', worker: '' });
  });
});

describe('Readiness', () => {
  it('ready only when every probe passes; a throwing probe is a failure with its message', () => {
    const readiness = new Readiness();
    let up = false;
    readiness.add('upstream', () => (up ? { ok: true } : { ok: false, reason: 'node link is connecting' }));
    assert.deepEqual(readiness.check(), { ready: false, probes: { upstream: { ok: false, reason: 'node link is connecting' } } });
    up = true;
    assert.equal(readiness.check().ready, true);
    readiness.add('ledger', () => {
      throw new Error('disk full');
    });
    assert.deepEqual(readiness.check().probes.ledger, { ok: false, reason: 'probe failed: disk full' });
    assert.throws(() => readiness.add('ledger', () => ({ ok: true })));
  });
});

describe('event API protocol', () => {
  it('parses actions; errors carry a code and the request id', () => {
    assert.deepEqual(parseRequest('{"action":"ping"}'), { action: 'ping', ack: false, id: undefined });
    assert.deepEqual(parseRequest('{"action":"subscribe","topic":"share","ack":"true","id":7}'), { action: 'subscribe', topic: 'share', options: undefined, ack: true, id: '7' });
    const code = (text: string): string => {
      try {
        parseRequest(text);
      } catch (err) {
        assert.ok(err instanceof EventApiRequestError);
        return err.code;
      }
      return 'none';
    };
    assert.equal(code('nope'), 'bad-json');
    assert.equal(code('null'), 'bad-message');
    assert.equal(code('{"action":"subscribe"}'), 'bad-message');
    assert.equal(code('{"action":"subscribe","topic":"vote"}'), 'unknown-topic');
    assert.equal(code('{"action":"subscribe","topic":"share","options":[]}'), 'bad-options');
  });

  it('filters: none passes all; miners or workers; update adds and removes; bounded', () => {
    assert.equal(passes(undefined, 'x', 'x.y'), true);
    const filter = filterFromOptions({ miners: ['alice'] }, undefined);
    assert.ok(filter !== undefined);
    assert.equal(passes(filter, 'alice', 'alice.r'), true);
    assert.equal(passes(filter, 'bob', 'bob.r'), false);
    const next = updatedFilter(filter, { miners_del: ['alice'], workers_add: ['bob.r'] }, undefined);
    assert.equal(passes(next, 'alice', 'alice.r'), false);
    assert.equal(passes(next, 'bob', 'bob.r'), true);
    assert.equal(passes(filter, 'alice', 'alice.r'), true, 'update works on a copy');
    assert.throws(() => filterFromOptions({ miners: Array.from({ length: 1001 }, (_, i) => `m${i}`) }, undefined), /at most 1000/);
  });

  it('text frames use the 7-bit, 16-bit and 64-bit length forms', () => {
    assert.deepEqual([...textFrame('hi').subarray(0, 2)], [0x81, 2]);
    const mid = textFrame('x'.repeat(300));
    assert.deepEqual([mid[1], mid.readUInt16BE(2), mid.length], [126, 300, 304]);
    const big = textFrame('x'.repeat(70_000));
    assert.deepEqual([big[1], Number(big.readBigUInt64BE(2)), big.length], [127, 70_000, 70_010]);
  });
});

describe('operations config', () => {
  it('refuses an admin token under 16 characters, equal HTTP and event API ports, out-of-range intervals', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config/load.js');
    const load = (overrides: Record<string, unknown>): unknown => loadConfig({ overrides, args: [], env: {} });
    assert.throws(() => load({ admin: { token: 'short' } }), (e: unknown) => e instanceof ConfigError && /admin.token/.test(e.message));
    assert.throws(() => load({ http: { port: 9000 }, events: { wsPort: 9000 } }), /must differ/);
    assert.throws(() => load({ events: { statisticsIntervalS: 1 } }), /statisticsIntervalS/);
    assert.throws(() => load({ events: { batchMs: 0 } }), /batchMs/);
    const ok = loadConfig({ overrides: { admin: { token: 'a-long-enough-token' } }, args: [], env: {} });
    assert.equal(ok.events.wsPort, 8081);
    assert.equal(ok.events.statisticsIntervalS, 300);
  });
});
