import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../src/config/logger.js';
import { ApiKeys, parseApiKeys } from '../../src/stratum/ApiKeys.js';
import { waitFor } from '../support/gatewayDoubles.js';

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'stratum.api.keys');
}

test('parse: one key per line, trimmed, lines shorter than 8 characters ignored', () => {
  assert.deepEqual(parseApiKeys('12345678\r\nshort\n  spaced-key  \n\n1234567\nabcdefghij'), ['12345678', 'spaced-key', 'abcdefghij']);
});

test('keys from the file are allowed, anything else is not', (t) => {
  const file = tempFile(t);
  writeFileSync(file, 'miner-key-one\nminer-key-two\nshort\n');
  const keys = new ApiKeys({ file, logger: silentLogger() });
  t.after(() => keys.close());
  assert.equal(keys.openAccess, false);
  assert.equal(keys.size, 2);
  assert.equal(keys.isAllowed('miner-key-one'), true);
  assert.equal(keys.isAllowed('miner-key-two'), true);
  assert.equal(keys.isAllowed('short'), false, 'ignored lines are not keys');
  assert.equal(keys.isAllowed('miner-key-on'), false);
  assert.equal(keys.isAllowed(''), false);
});

test('the file is reloaded when it changes, without a restart', async (t) => {
  const file = tempFile(t);
  writeFileSync(file, 'first-key-000\n');
  const keys = new ApiKeys({ file, logger: silentLogger(), pollIntervalMs: 10 });
  t.after(() => keys.close());
  assert.equal(keys.isAllowed('first-key-000'), true);
  writeFileSync(file, 'second-key-0000000\n');
  await waitFor(() => keys.isAllowed('second-key-0000000'), 'the reload');
  assert.equal(keys.isAllowed('first-key-000'), false, 'removed keys stop working');
});

test('missing at start: nobody logs in (fail closed) until the file appears', async (t) => {
  const file = tempFile(t);
  const keys = new ApiKeys({ file, logger: silentLogger(), pollIntervalMs: 10 });
  t.after(() => keys.close());
  assert.equal(keys.isAllowed('anything-at-all'), false);
  writeFileSync(file, 'late-key-12345\n');
  await waitFor(() => keys.isAllowed('late-key-12345'), 'the file to be picked up');
});

test('unreadable later: the previous keys stay in force', async (t) => {
  const file = tempFile(t);
  writeFileSync(file, 'kept-key-1234\n');
  const keys = new ApiKeys({ file, logger: silentLogger() });
  t.after(() => keys.close());
  unlinkSync(file);
  await keys.reload();
  assert.equal(keys.isAllowed('kept-key-1234'), true);
});

test('no file configured: open access, with a loud warning', () => {
  const logged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  const keys = new ApiKeys({ file: '', logger: createLogger('info', sink) });
  assert.equal(keys.openAccess, true);
  assert.equal(keys.isAllowed('whatever'), true);
  assert.equal(keys.isAllowed(''), true);
  const warning = logged.map((line) => JSON.parse(line) as { level: number; msg: string }).find((entry) => entry.level === 40);
  assert.ok(warning?.msg.includes('ANY MINER CAN LOG IN'));
  keys.close();
});

test("the node's rule (missingFileAllowsAll): a missing file allows any key, a present one is checked; refreshSync sees changes at once", (t) => {
  const file = tempFile(t);
  const keys = new ApiKeys({ file, logger: silentLogger(), missingFileAllowsAll: true, pollIntervalMs: 60_000 });
  t.after(() => keys.close());
  assert.equal(keys.isAllowed('anything-at-all'), true, 'no file, no check');
  writeFileSync(file, 'only-this-key\n');
  keys.refreshSync();
  assert.equal(keys.isAllowed('only-this-key'), true);
  assert.equal(keys.isAllowed('anything-at-all'), false);
  unlinkSync(file);
  keys.refreshSync();
  assert.equal(keys.isAllowed('anything-at-all'), true);
});

test('without missingFileAllowsAll a missing file fails closed', (t) => {
  const file = tempFile(t);
  const keys = new ApiKeys({ file, logger: silentLogger(), pollIntervalMs: 60_000 });
  t.after(() => keys.close());
  keys.refreshSync();
  assert.equal(keys.isAllowed('anything-at-all'), false);
});
