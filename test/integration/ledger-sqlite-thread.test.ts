// The SQLite books on their own thread (docs/ledger.md "SQLite on its own thread"): what happens when that thread
// is stuck behind a lock past ledger.timeoutMs, when it dies, and when the books close. Real threads, a real file,
// a real second connection holding the lock.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { EventBus, type GatewayEvents } from '../../src/events/EventBus.js';
import { LEDGER_DEFAULTS, openLedger, type Ledger, type LedgerConfig } from '../../src/ledger/Ledger.js';
import { BookKeeper } from '../../src/ledger/BookKeeper.js';
import { SqliteThreadStore } from '../../src/ledger/SqliteThreadStore.js';
import type { LedgerError } from '../../src/ledger/types.js';
import { REPO_ROOT } from '../support/e2e.js';
import { ledgerShare as share } from '../support/ledger.js';
import { ledgerBackends } from '../support/postgres.js';
import { LogCapture } from '../support/scriptedNode.js';

const SQLITE = ledgerBackends().find((b) => b.name === 'sqlite');
if (SQLITE === undefined) throw new Error('no sqlite backend in test/support/postgres.ts');
const sqliteUrl = SQLITE.url;

async function open(t: TestContext, url: string, over: Partial<LedgerConfig>, logs: LogCapture, bus?: EventBus): Promise<Ledger> {
  const ledger = await openLedger({ ...LEDGER_DEFAULTS, url, ...over }, { instanceId: '', logger: logs.logger(), bus });
  assert.ok(ledger !== undefined);
  t.after(() => ledger.close());
  return ledger;
}

/**
 * Runs `lines` as a module in a process of its own, after `ledger` is opened on `url` with `over`; answers its exit
 * and everything it printed. `onStdout` sees the output so far as it comes.
 */
async function ledgerProcess(url: string, over: string, lines: string[], onStdout: (out: string) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const script = [
    "import { openLedger, LEDGER_DEFAULTS } from './src/ledger/Ledger.ts';",
    "import { silentLogger } from './src/config/logger.ts';",
    `const ledger = await openLedger({ ...LEDGER_DEFAULTS, url: ${JSON.stringify(url)}${over} }, { instanceId: '', logger: silentLogger() });`,
    ...lines,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    onStdout(out);
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, out };
}

/** The store's current thread (a real worker thread; the test ends it as a crash would). */
function threadOf(ledger: Ledger): Worker {
  const thread = (ledger.store as unknown as { thread: Worker | undefined }).thread;
  assert.ok(thread !== undefined, 'the SQLite store runs a thread');
  return thread;
}

test('another connection holding the write lock past ledger.timeoutMs: the write fails cleanly, is retried, and the share lands exactly once after the lock', async (t) => {
  const url = await sqliteUrl(t);
  const logs = new LogCapture();
  const bus = new EventBus<GatewayEvents>();
  const states: string[] = [];
  bus.subscribe('ledger', 'test', (e) => states.push(e.state));
  const ledger = await open(t, url, { timeoutMs: 200, retryMinMs: 20, retryMaxMs: 100, shareWaitMs: 30_000 }, logs, bus);
  assert.equal(await ledger.record(share()), 'recorded');

  const other = new Database(url.slice('sqlite:'.length));
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // the write lock, held by someone else (an operator's sqlite3 shell, a backup)
  const held = share();
  const outcome = ledger.record(held);
  await logs.waitFor((e) => e.msg === 'ledger unavailable: shares are buffered, then answered as not credited' && JSON.stringify(e.err ?? '').includes('locked'));
  assert.deepEqual(states, ['unavailable']);
  assert.equal(ledger.buffered, 1, 'the share waits in the buffer while the retries fail');
  other.exec('COMMIT');

  assert.equal(await outcome, 'recorded');
  const stored = await ledger.store.shares();
  assert.equal(stored.filter((s) => s.nonce === held.nonce).length, 1);
  assert.equal(stored.length, 2);
  assert.deepEqual(states, ['unavailable', 'available']);
});

test('a share that outwaits a held lock is answered unavailable and is never written afterwards', async (t) => {
  const url = await sqliteUrl(t);
  const logs = new LogCapture();
  const ledger = await open(t, url, { timeoutMs: 100, retryMinMs: 20, retryMaxMs: 50, shareWaitMs: 300 }, logs);
  const other = new Database(url.slice('sqlite:'.length));
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const late = share();
  assert.equal(await ledger.record(late), 'unavailable');
  other.exec('COMMIT');
  assert.equal(await ledger.record(share()), 'recorded');
  await ledger.flush();
  const stored = await ledger.store.shares();
  assert.equal(stored.length, 1);
  assert.equal(stored.filter((s) => s.nonce === late.nonce).length, 0);
});

test('a thread past its answer deadline: that request fails as possibly committed, new ones are refused unposted until it answers, and its late commit is recognised by token', async (t) => {
  const url = await sqliteUrl(t);
  const logs = new LogCapture();
  // A deadline no real batch of 20,000 rows can meet.
  const store = await SqliteThreadStore.open({ file: url.slice('sqlite:'.length), synchronous: 'normal', answerDeadlineMs: 1, logger: logs.logger() });
  t.after(() => store.close());
  const rows = Array.from({ length: 20_000 }, (_, i) => ({ ...share(), instanceId: '', token: `big-${i}` }));
  await assert.rejects(store.writeBatch({ shares: rows, rejects: [], blocks: [] }), (err: LedgerError) => err.code === 'write-failed' && err.ambiguous);
  await assert.rejects(store.shares(), (err: LedgerError) => err.code === 'write-failed' && !err.ambiguous && /still busy/.test(err.message));
  await logs.waitFor((e) => typeof e.msg === 'string' && e.msg.includes('answered its late request'));
  // Taking requests again (a small read still has to beat a 1 ms deadline, so only its refusal reason is checked).
  const again = await store.rollups().then(
    () => 'answered',
    (err: LedgerError) => (/still busy/.test(err.message) ? 'refused' : 'timed out'),
  );
  assert.notEqual(again, 'refused');
  // The late batch did commit although its caller was told 'maybe'; written again (the group commit's retry),
  // every row is recognised as ours by its token and nothing is added.
  const reader = new Database(url.slice('sqlite:'.length), { readonly: true });
  t.after(() => reader.close());
  assert.equal(reader.prepare('SELECT COUNT(*) FROM shares').pluck().get(), rows.length);
  const retry = await SqliteThreadStore.open({ file: url.slice('sqlite:'.length), synchronous: 'normal', answerDeadlineMs: 60_000, logger: logs.logger() });
  t.after(() => retry.close());
  const held = await retry.writeBatch({ shares: rows, rejects: [], blocks: [] });
  assert.equal(held.length, rows.length);
  assert.ok(held.every((h) => h));
  assert.equal(reader.prepare('SELECT COUNT(*) FROM shares').pluck().get(), rows.length);
  // The same keys under other tokens are someone else's: not ours, not added.
  const others = await retry.writeBatch({ shares: rows.slice(0, 3).map((r) => ({ ...r, token: `other-${r.token}` })), rejects: [], blocks: [] });
  assert.deepEqual(others, [false, false, false]);
});

test('books closed while a write is past its deadline: its shares are answered unconfirmed, never unavailable, and every share in the books was told recorded or unconfirmed', async (t) => {
  const url = await sqliteUrl(t);
  const logs = new LogCapture();
  // A deadline no group of 20,000 shares can meet stands for a wedged disk.
  const store = await SqliteThreadStore.open({ file: url.slice('sqlite:'.length), synchronous: 'normal', answerDeadlineMs: 1, logger: logs.logger() });
  const books = new BookKeeper({ ...LEDGER_DEFAULTS, store, instanceId: '', logger: logs.logger(), maxBatch: 20_000, maxBufferedShares: 40_000, commitDelayMs: 0 });
  t.after(() => books.close(0));
  const sent = Array.from({ length: 20_000 }, () => share());
  const outcomes = sent.map((s) => books.record(s));
  await logs.waitFor((e) => typeof e.msg === 'string' && e.msg.includes('gave no answer within'));
  const thread = (store as unknown as { thread: Worker }).thread;
  const ended = once(thread, 'exit');
  await books.close(0); // closes the store too: its close runs on the thread after the late write
  const told = await Promise.all(outcomes);
  thread.ref(); // the close let it go unreferenced; the test waits for it all the same
  await ended; // the late write is done (committed) before the thread ends
  const reader = new Database(url.slice('sqlite:'.length), { readonly: true });
  t.after(() => reader.close());
  const inBooks = new Set(reader.prepare('SELECT nonce FROM shares').pluck().all() as string[]);
  sent.forEach((s, i) => {
    if (told[i] === 'unavailable') assert.ok(!inBooks.has(s.nonce), 'a share told unavailable is never in the books');
    if (inBooks.has(s.nonce)) assert.ok(told[i] === 'recorded' || told[i] === 'unconfirmed', `in the books but told ${told[i]}`);
  });
  assert.equal(inBooks.size, sent.length, 'the late write did commit');
  assert.ok(told.includes('unconfirmed'), `the closed-over write was answered: ${[...new Set(told)].join(', ')}`);
});

test('a request that cannot be copied to the thread fails at once as not written, and the store keeps working', async (t) => {
  const url = await sqliteUrl(t);
  const store = await SqliteThreadStore.open({ file: url.slice('sqlite:'.length), synchronous: 'normal', answerDeadlineMs: 5_000, logger: new LogCapture().logger() });
  t.after(() => store.close());
  const uncopyable = { ...share(), instanceId: '', token: 't1', extra: () => undefined };
  await assert.rejects(store.writeBatch({ shares: [uncopyable], rejects: [], blocks: [] }), (err: LedgerError) => err.name === 'LedgerError' && err.code === 'write-failed' && !err.ambiguous);
  assert.deepEqual(await store.writeBatch({ shares: [{ ...share(), instanceId: '', token: 't2' }], rejects: [], blocks: [] }), [true]);
});

test('a forced exit while the thread waits on another connection\'s lock exits with its own code (lock waits are not inside SQLite)', async (t) => {
  const url = await sqliteUrl(t);
  const first = await openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: new LogCapture().logger() });
  await first?.close(); // the file exists, migrated
  const other = new Database(url.slice('sqlite:'.length));
  t.after(() => other.close());
  const { code, signal, out } = await ledgerProcess(
    url,
    ', timeoutMs: 60000',
    [
      "console.log('open');",
      // The parent takes the lock on 'open'; well inside the 60 s lock wait that follows, the process is told to go.
      "setTimeout(() => void ledger.record({ miner: 'a', worker: '', sessionId: 1, transport: 'tcp', jobId: '1', upstreamJobId: '1', height: 1, nonce: '00000000000000bb', outputHash: 'd'.repeat(64), sharePacked: 0, achievedDifficulty: 1, isBlockCandidate: false, at: Date.now() }), 300);",
      'setTimeout(() => process.exit(3), 1000);',
    ],
    (soFar) => {
      if (soFar.includes('open') && !other.inTransaction) other.exec('BEGIN IMMEDIATE');
    },
  );
  assert.ok(other.inTransaction, 'the lock was held while the child waited on it');
  assert.equal(signal, null, out);
  assert.equal(code, 3, out);
  other.exec('ROLLBACK');
});

test('a thread that has ended (here: ended while idle) is replaced by the next request; the books are intact', async (t) => {
  const url = await sqliteUrl(t);
  const logs = new LogCapture();
  const ledger = await open(t, url, { retryMinMs: 20, retryMaxMs: 100 }, logs);
  assert.equal(await ledger.record(share()), 'recorded');
  const first = threadOf(ledger);
  // Idle (its last answer is in), so ending it from here is safe; in the gateway a thread only ends by itself.
  await first.terminate();
  await logs.waitFor((e) => typeof e.msg === 'string' && e.msg.includes('a new one starts with the next request'));
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => ledger.record(share())));
  assert.deepEqual(new Set(outcomes), new Set(['recorded']));
  assert.notEqual(threadOf(ledger), first);
  assert.equal((await ledger.store.shares()).length, 51);
});

test('books the thread cannot open are refused at open with the backend\'s own error code', async (t) => {
  const url = await sqliteUrl(t);
  const file = url.slice('sqlite:'.length);
  const db = new Database(file);
  db.exec("CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO ledger_meta VALUES ('schema_version', '999')");
  db.close();
  const logs = new LogCapture();
  await assert.rejects(openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: '', logger: logs.logger() }), (err: Error & { code?: string }) => {
    assert.equal(err.name, 'LedgerError');
    assert.equal(err.code, 'newer-schema');
    return true;
  });
});

test('closing the books ends their thread: a process that opens, writes and closes them exits by itself', async (t) => {
  const url = await sqliteUrl(t);
  const { code, out } = await ledgerProcess(url, '', [
    "const outcome = await ledger.record({ miner: 'a', worker: '', sessionId: 1, transport: 'tcp', jobId: '1', upstreamJobId: '1', height: 1, nonce: '00000000000000aa', outputHash: 'c'.repeat(64), sharePacked: 0, achievedDifficulty: 1, isBlockCandidate: false, at: Date.now() });",
    'await ledger.close();',
    'console.log(outcome);',
  ]);
  assert.equal(code, 0, out);
  assert.equal(out.trim(), 'recorded');
  const db = new Database(url.slice('sqlite:'.length), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT COUNT(*) FROM shares').pluck().get(), 1);
});
