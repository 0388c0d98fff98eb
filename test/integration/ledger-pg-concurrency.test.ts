// Two PostgreSQL write transactions at once (two batches of one gateway, or two gateways on one ledger) upserting
// the same reject keys in opposite orders must not deadlock: every writer takes the keys in one order
// (docs/ledger.md "PostgreSQL"). Without the ordering, most of these writes failed with "deadlock detected".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { LEDGER_DEFAULTS, openLedgerStore } from '../../src/ledger/Ledger.js';
import type { RejectCount } from '../../src/ledger/types.js';
import { freshDatabase, pgServerUrl, PG_SKIP_REASON } from '../support/postgres.js';

const PG_SERVER = pgServerUrl();

test('reject upserts in opposite orders from two transactions never deadlock', { timeout: 120_000, skip: PG_SERVER === undefined ? PG_SKIP_REASON : false }, async (t) => {
  const db = await freshDatabase(PG_SERVER!);
  t.after(() => db.drop());
  const store = await openLedgerStore({ ...LEDGER_DEFAULTS, url: db.url }, silentLogger());
  t.after(() => store.close());
  const keys: RejectCount[] = Array.from({ length: 2000 }, (_, i) => ({ minute: 60_000, miner: `m${i}`, worker: '', code: -32009, count: 1 }));
  const failures: string[] = [];
  for (let round = 0; round < 5; round++) {
    const results = await Promise.allSettled([
      store.writeBatch({ shares: [], rejects: keys, blocks: [], bans: [] }),
      store.writeBatch({ shares: [], rejects: [...keys].reverse(), blocks: [], bans: [] }),
    ]);
    for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason).slice(0, 120));
  }
  assert.deepEqual(failures, []);
});
