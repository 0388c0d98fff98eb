// The work service's credit in the books (docs/ledger.md "Work credit"): the same suite against both real backends
// (a SQLite file, a PostgreSQL database). PostgreSQL runs when EQUIGATE_TEST_PG_URL is set (.ci/postgres.sh);
// otherwise its half is skipped with the reason printed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/config/logger.js';
import { LEDGER_DEFAULTS, openLedger, type Ledger } from '../../src/ledger/Ledger.js';
import { LATEST_SCHEMA_VERSION } from '../../src/ledger/migrations.js';
import { LedgerClosedForCredit, type WorkCreditEntry } from '../../src/ledger/workCredits.js';
import { pgServerUrl, PG_SKIP_REASON, PrivateCluster, ledgerBackends } from '../support/postgres.js';
import { waitFor, within } from '../support/wait.js';


const PG_SERVER = pgServerUrl();
const BACKENDS = ledgerBackends();
if (PG_SERVER === undefined) process.stdout.write(`# ${PG_SKIP_REASON}\n`);

async function open(t: TestContext, url: string): Promise<Ledger> {
  const ledger = await openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: silentLogger() });
  assert.ok(ledger !== undefined);
  t.after(() => ledger.close());
  return ledger;
}

const ENTRY: WorkCreditEntry = { key: 'H1:ff', address: 'ban_a', hash: 'H1', workType: 'ondemand', difficulty: 'ff', microUnits: 1_000_000, at: 1 };

for (const b of BACKENDS) {
  const opts = { skip: b.skip };

  test(`${b.name}: a credit counts once per hash and difficulty; payouts once per reference; totals add up exactly`, opts, async (t) => {
    const book = (await open(t, await b.url(t))).workCredits;
    assert.equal((await book.credit(ENTRY)).credited, true);
    const again = await book.credit({ ...ENTRY, at: 2 });
    assert.equal(again.credited, false, 'the same key twice: not credited again');
    assert.deepEqual(again.totals, { precache: 0, ondemand: 1, microCredited: 1_000_000, microPaid: 0, lastHash: 'H1' });
    await book.credit({ ...ENTRY, key: 'H2:ff', hash: 'H2', workType: 'precache' });
    // The same hash at another difficulty is another credit (a harder request answered by the same work).
    const { totals } = await book.credit({ ...ENTRY, key: 'H1:fff0', difficulty: 'fff0', microUnits: 8_000_000 });
    assert.deepEqual(totals, { precache: 1, ondemand: 2, microCredited: 10_000_000, microPaid: 0, lastHash: 'H1' });
    assert.equal((await book.recordPayout({ reference: 'tx', address: 'ban_a', microAmount: 500_000, at: 3 })).recorded, true);
    const repeat = await book.recordPayout({ reference: 'tx', address: 'ban_a', microAmount: 500_000, at: 4 });
    assert.equal(repeat.recorded, false);
    assert.equal(repeat.totals.microPaid, 500_000);
    // A payout to an address never credited still counts (and creates its row).
    assert.equal((await book.recordPayout({ reference: 'tx2', address: 'ban_b', microAmount: 2, at: 5 })).totals.microPaid, 2);
    assert.equal((await book.totals('ban_a')).microPaid, 500_000);
    assert.equal(await book.totalPaid(), 500_002);
    assert.deepEqual(await book.totals('ban_none'), { precache: 0, ondemand: 0, microCredited: 0, microPaid: 0, lastHash: '' });
  });

  test(`${b.name}: credit survives a reopen of the books, and a replay after it is still not credited`, opts, async (t) => {
    const url = await b.url(t);
    const first = await openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: silentLogger() });
    assert.ok(first !== undefined);
    assert.equal((await first.workCredits.credit(ENTRY)).credited, true);
    await first.workCredits.recordPayout({ reference: 'tx', address: 'ban_a', microAmount: 7, at: 2 });
    await first.close();
    const book = (await open(t, url)).workCredits;
    assert.equal((await book.credit(ENTRY)).credited, false);
    assert.equal((await book.recordPayout({ reference: 'tx', address: 'ban_a', microAmount: 7, at: 3 })).recorded, false);
    assert.deepEqual(await book.totals('ban_a'), { precache: 0, ondemand: 1, microCredited: 1_000_000, microPaid: 7, lastHash: 'H1' });
  });

  test(`${b.name}: two gateways' books on one database racing the same results credit each exactly once`, opts, async (t) => {
    const url = await b.url(t);
    const one = (await open(t, url)).workCredits;
    const two = (await open(t, url)).workCredits;
    const entries = Array.from({ length: 20 }, (_, i) => ({ ...ENTRY, key: `R${i}:ff`, hash: `R${i}` }));
    const outcomes = await Promise.all(entries.flatMap((e) => [one.credit(e), two.credit(e)]));
    assert.equal(outcomes.filter((o) => o.credited).length, entries.length, 'one credit per key across both');
    const totals = await one.totals('ban_a');
    assert.equal(totals.ondemand, entries.length);
    assert.equal(totals.microCredited, entries.length * 1_000_000);
  });
}

test('sqlite: books holding the former work_* tables of the credit book are migrated with their credit kept', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-workcredit-t-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'books.sqlite');
  // A ledger at schema 1 into which the work service's own credit book (before the ledger took it over) wrote.
  const v1 = await openLedger({ ...LEDGER_DEFAULTS, url: `sqlite:${file}` }, { instanceId: '', logger: silentLogger() });
  assert.ok(v1 !== undefined);
  await v1.close();
  const db = new Database(file);
  // Back to schema 1: without the later tables (bans, work_*), then the former credit book's own work_* tables.
  db.exec(`DROP TABLE bans; DROP TABLE work_credits; DROP TABLE work_payouts; DROP TABLE work_workers;
    CREATE TABLE work_credits (key TEXT PRIMARY KEY, address TEXT NOT NULL, hash TEXT NOT NULL, work_type TEXT NOT NULL,
      difficulty TEXT NOT NULL, micro_units INTEGER NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX work_credits_address ON work_credits(address);
    CREATE TABLE work_payouts (reference TEXT PRIMARY KEY, address TEXT NOT NULL, micro_amount INTEGER NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE work_workers (address TEXT PRIMARY KEY, precache INTEGER NOT NULL DEFAULT 0, ondemand INTEGER NOT NULL DEFAULT 0,
      micro_credited INTEGER NOT NULL DEFAULT 0, micro_paid INTEGER NOT NULL DEFAULT 0, last_hash TEXT NOT NULL DEFAULT '');
    INSERT INTO work_credits VALUES ('H1:ff', 'ban_a', 'H1', 'ondemand', 'ff', 1000000, 1);
    INSERT INTO work_workers VALUES ('ban_a', 0, 1, 1000000, 0, 'H1');
    UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version';`);
  db.close();
  const book = (await open(t, `sqlite:${file}`)).workCredits;
  assert.deepEqual(await book.totals('ban_a'), { precache: 0, ondemand: 1, microCredited: 1_000_000, microPaid: 0, lastHash: 'H1' });
  assert.equal((await book.credit(ENTRY)).credited, false, 'a credit from before the migration is still known');
  const check = new Database(file, { readonly: true });
  t.after(() => check.close());
  assert.equal(check.prepare("SELECT value FROM ledger_meta WHERE key = 'schema_version'").pluck().get(), String(LATEST_SCHEMA_VERSION));
});

test('postgres: a credit made while PostgreSQL is down is retried and lands once when it is back; a closed ledger gives up naming the entry', { timeout: 180_000, skip: PG_SERVER === undefined ? PG_SKIP_REASON : false }, async (t) => {
  const cluster = await PrivateCluster.create();
  t.after(() => cluster.destroy());
  const ledger = await openLedger({ ...LEDGER_DEFAULTS, url: cluster.url, retryMinMs: 50, retryMaxMs: 200, timeoutMs: 1000 }, { instanceId: '', logger: silentLogger() });
  assert.ok(ledger !== undefined);
  t.after(() => ledger.close());
  const book = ledger.workCredits;
  assert.equal((await book.credit(ENTRY)).credited, true);

  cluster.stop();
  let settled = false;
  const during = book.credit({ ...ENTRY, key: 'H2:ff', hash: 'H2' }).finally(() => (settled = true));
  await waitFor(() => book.waiting === 1, 'the credit waits for the books', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(settled, false, 'not given up while the books are down');
  await assert.rejects(book.totals('ban_a'), 'reads fail at once while down (no retry)');
  cluster.start();
  const outcome = await within(during, 'the retried credit', 60_000);
  assert.equal(outcome.credited, true);
  assert.deepEqual(await book.totals('ban_a'), { precache: 0, ondemand: 2, microCredited: 2_000_000, microPaid: 0, lastHash: 'H2' });
  assert.equal(book.waiting, 0);

  // Down again, then the ledger closes (shutdown): the waiting credit fails with its entry, for the log.
  cluster.stop();
  const lost = book.credit({ ...ENTRY, key: 'H3:ff', hash: 'H3' });
  await waitFor(() => book.waiting === 1, 'the credit waits for the books', 30_000);
  await ledger.close(1000);
  await assert.rejects(lost, (err: unknown) => err instanceof LedgerClosedForCredit && err.entry.key === 'H3:ff');
  cluster.start();
});
