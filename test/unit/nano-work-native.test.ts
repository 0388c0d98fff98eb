// native nanoWorkGenerate (native/nano_work.cc) against the BLAKE2b path of src/pow/nano.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { native } from '../../src/pow/native.js';
import { nanoWorkValue } from '../../src/pow/nano.js';

test('every nonce it returns meets the threshold, with the value the generic BLAKE2b computes', () => {
  for (let i = 0; i < 20; i++) {
    const root = randomBytes(32);
    const found = native.nanoWorkGenerate(root, 0xffc0000000000000n, randomBytes(8).readBigUInt64LE(0), 1_000_000);
    assert.ok(found !== null);
    assert.equal(nanoWorkValue(found.work, root), found.value);
    assert.ok(found.value >= 0xffc0000000000000n);
  }
});

test('it returns the first qualifying nonce of the range, wrapping at 2^64', () => {
  const root = randomBytes(32);
  const start = (1n << 64n) - 100n;
  const found = native.nanoWorkGenerate(root, 0xfc00000000000000n, start, 100_000);
  assert.ok(found !== null);
  let expected: bigint | undefined;
  for (let i = 0n; expected === undefined; i++) {
    const nonce = (start + i) & ((1n << 64n) - 1n);
    if (nanoWorkValue(nonce, root) >= 0xfc00000000000000n) expected = nonce;
  }
  assert.equal(found.work, expected);
});

test('an unreachable threshold within the range gives null; bad arguments throw', () => {
  assert.equal(native.nanoWorkGenerate(randomBytes(32), (1n << 64n) - 1n, 0n, 1000), null);
  assert.throws(() => native.nanoWorkGenerate(randomBytes(31), 0n, 0n, 1), RangeError);
  assert.throws(() => native.nanoWorkGenerate(randomBytes(32), 1n << 64n, 0n, 1), RangeError);
  assert.throws(() => native.nanoWorkGenerate(randomBytes(32), 0n, 0n, -1), RangeError);
  assert.throws(() => native.nanoWorkGenerate(randomBytes(32), 0 as unknown as bigint, 0n, 1), TypeError);
});
