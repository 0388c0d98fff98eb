// vectors/nano-pow.json through src/pow/nano.ts. spec: docs/pow.md "Nano/Banano work".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { native } from '../../src/pow/native.js';
import {
  NANO_THRESHOLDS,
  boompowDifficulty,
  difficultyFromMultiplier,
  formatU64Hex,
  multiplierFromDifficulty,
  nanoWorkValue,
  parseU64Hex,
  validateNanoWork,
} from '../../src/pow/nano.js';
import { nanoVectors, rejectsWith } from './pow-fixtures.js';

function threshold(name: string): bigint {
  const hex = nanoVectors.thresholds[name];
  assert.ok(hex !== undefined, `threshold ${name} in nano-pow.json`);
  return parseU64Hex(hex);
}

test('named thresholds match nano-pow.json', () => {
  assert.equal(NANO_THRESHOLDS.banano, threshold('banano_all_blocks (banano node V20 config.hpp publish_full_threshold)'));
  assert.equal(NANO_THRESHOLDS.nanoEpoch2Receive, threshold('banano_base / nano_epoch2_receive'));
  assert.equal(NANO_THRESHOLDS.nanoEpoch2SendChange, threshold('nano_epoch2_send_change'));
  assert.equal(NANO_THRESHOLDS.nanoEpoch1, threshold('nano_epoch1 (pre-V21 send+receive)'));
});

describe('valid work', () => {
  for (const vector of nanoVectors.valid) {
    test(vector.name, () => {
      const value = nanoWorkValue(vector.work, vector.root);
      assert.equal(formatU64Hex(value), vector.value);
      if (vector.stated_value !== undefined) assert.equal(formatU64Hex(value), vector.stated_value);
      // The RPC docs print an illustrative value that recomputation does not reproduce.
      if (vector.docs_printed_value !== undefined) assert.notEqual(formatU64Hex(value), vector.docs_printed_value);
      for (const [name, expected] of Object.entries(vector.valid_at)) {
        assert.deepEqual(validateNanoWork(vector.work, vector.root, threshold(name)), { valid: expected, value }, name);
      }
      // The same check with the work as a u64 and the threshold as hex text.
      assert.equal(validateNanoWork(parseU64Hex(vector.work), Buffer.from(vector.root, 'hex'), formatU64Hex(NANO_THRESHOLDS.banano)).valid, true);
    });
  }
});

describe('invalid work', () => {
  for (const vector of nanoVectors.invalid) {
    test(vector.name, () => {
      const check = validateNanoWork(vector.work, vector.root, vector.threshold);
      if (vector.wrong_byte_order === true) {
        // The vector's value is what a hasher feeding the work big-endian gets; that one is below the
        // threshold, while the correct (little-endian) value is a different, valid one.
        const wrongOrder = Buffer.concat([Buffer.from(vector.work, 'hex'), Buffer.from(vector.root, 'hex')]);
        const wrongValue = native.blake2b(wrongOrder, 8).readBigUInt64LE(0);
        assert.equal(formatU64Hex(wrongValue), vector.value);
        assert.ok(wrongValue < parseU64Hex(vector.threshold));
        assert.notEqual(check.value, wrongValue);
        return;
      }
      assert.deepEqual(check, { valid: false, value: parseU64Hex(vector.value) });
    });
  }
});

describe('multipliers', () => {
  for (const vector of nanoVectors.multiplier_vectors) {
    const base = parseU64Hex(vector.base);
    const difficulty = parseU64Hex(vector.difficulty);
    const fromBoompow = vector.source.includes('BoomPow');
    test(`${vector.difficulty} = ${vector.multiplier} × ${vector.base} (${fromBoompow ? 'BoomPow' : 'nano-node'})`, () => {
      if (fromBoompow) {
        assert.equal(formatU64Hex(boompowDifficulty(vector.multiplier, base)), vector.difficulty);
        // The two formulas agree for m ∈ {1, 8, 64} (nano-pow.json "algorithm").
        if ([1, 8, 64].includes(vector.multiplier)) {
          assert.equal(formatU64Hex(difficultyFromMultiplier(vector.multiplier, base)), vector.difficulty);
          assert.equal(multiplierFromDifficulty(difficulty, base), vector.multiplier);
        } else {
          assert.ok(Math.abs(multiplierFromDifficulty(difficulty, base) - vector.multiplier) < 1e-6);
        }
        return;
      }
      assert.equal(multiplierFromDifficulty(difficulty, base), vector.multiplier);
      assert.equal(formatU64Hex(difficultyFromMultiplier(vector.multiplier, base)), vector.difficulty);
    });
  }
  test('multiplier 1 is the base itself', () => {
    assert.equal(difficultyFromMultiplier(1, NANO_THRESHOLDS.banano), NANO_THRESHOLDS.banano);
    assert.equal(boompowDifficulty(1, NANO_THRESHOLDS.banano), NANO_THRESHOLDS.banano);
    assert.equal(multiplierFromDifficulty(NANO_THRESHOLDS.banano, NANO_THRESHOLDS.banano), 1);
  });
  test('results clamp to the u64 range', () => {
    assert.equal(difficultyFromMultiplier(2 ** 70, NANO_THRESHOLDS.banano), 0xffff_ffff_ffff_ffffn);
    assert.equal(difficultyFromMultiplier(2 ** -70, NANO_THRESHOLDS.banano), 0n);
  });
});

describe('typed errors', () => {
  const root = nanoVectors.valid[0]?.root ?? '';
  test('malformed work and root', () => {
    for (const work of ['', '62f05417dd3fb69', '62f05417dd3fb6911', 'zzf05417dd3fb691']) {
      assert.throws(() => nanoWorkValue(work, root), rejectsWith('bad-work'), work);
    }
    assert.throws(() => nanoWorkValue(-1n, root), rejectsWith('bad-work'));
    assert.throws(() => nanoWorkValue(1n << 64n, root), rejectsWith('bad-work'));
    for (const badRoot of ['', root.slice(2), `${root}00`, `${root.slice(0, -1)}x`]) {
      assert.throws(() => nanoWorkValue('0000000000000000', badRoot), rejectsWith('bad-root'), badRoot);
    }
    assert.throws(() => nanoWorkValue('0000000000000000', new Uint8Array(31)), rejectsWith('bad-root'));
  });
  test('malformed thresholds, difficulties and multipliers', () => {
    assert.throws(() => validateNanoWork('0000000000000000', root, 'fffffe'), rejectsWith('bad-threshold'));
    assert.throws(() => validateNanoWork('0000000000000000', root, 1n << 64n), rejectsWith('bad-threshold'));
    assert.throws(() => multiplierFromDifficulty(1n << 64n, NANO_THRESHOLDS.banano), rejectsWith('bad-difficulty'));
    assert.throws(() => parseU64Hex('xyz'), rejectsWith('bad-difficulty'));
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => difficultyFromMultiplier(bad, NANO_THRESHOLDS.banano), rejectsWith('bad-multiplier'), String(bad));
    }
    for (const bad of [0, 1.5, -8, Number.NaN]) {
      assert.throws(() => boompowDifficulty(bad, NANO_THRESHOLDS.banano), rejectsWith('bad-multiplier'), String(bad));
    }
  });
});
