// Packed difficulty maths (src/pow/difficulty.ts); pure TypeScript, no addon. spec: docs/pow.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  PACKED_INFINITY,
  achievedDifficulty,
  comparePacked,
  difficultyToPacked,
  hashToBigInt,
  isValidPacked,
  maxPackedMet,
  meetsTarget,
  packedToDifficulty,
  parsePacked,
  unpack,
} from '../../src/pow/difficulty.js';

const TWO_24 = 2 ** 24;
const validPacked = fc.integer({ min: 0, max: PACKED_INFINITY });
/** Hashes of every magnitude: a random bit length, then random bits below it. */
const hashValue = fc
  .tuple(fc.integer({ min: 0, max: 256 }), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }))
  .map(([bits, random]) => (bits === 0 ? 0n : (1n << BigInt(bits - 1)) | (random & ((1n << BigInt(bits - 1)) - 1n))));

function hashBytes(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

describe('pack / unpack', () => {
  test('boundaries', () => {
    assert.deepEqual(unpack(0), { order: 0, mantissa: 0 });
    assert.deepEqual(unpack(TWO_24 - 1), { order: 0, mantissa: TWO_24 - 1 });
    assert.deepEqual(unpack(PACKED_INFINITY), { order: 232, mantissa: 0 });
    assert.deepEqual(unpack(0xffff_ffff), { order: 255, mantissa: TWO_24 - 1 });
    assert.equal(PACKED_INFINITY, 232 * TWO_24);
    assert.equal(packedToDifficulty(0), 1);
    assert.equal(packedToDifficulty(TWO_24), 2);
    assert.equal(packedToDifficulty(PACKED_INFINITY), 2 ** 232);
  });

  test('every valid packed value survives difficulty and back', () => {
    fc.assert(
      fc.property(validPacked, (packed) => difficultyToPacked(packedToDifficulty(packed)) === packed),
      { examples: [[0], [1], [TWO_24 - 1], [TWO_24], [409392556], [PACKED_INFINITY - 1], [PACKED_INFINITY]] },
    );
  });

  test('difficultyToPacked rounds down to the largest packed value not above the difficulty', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 2 ** 231, noNaN: true }), (difficulty) => {
        const packed = difficultyToPacked(difficulty);
        return packedToDifficulty(packed) <= difficulty && packedToDifficulty(packed + 1) > difficulty;
      }),
    );
  });

  test('difficultyToPacked edge inputs', () => {
    for (const below of [0, 0.5, 1, -5, -Infinity, Number.NaN]) assert.equal(difficultyToPacked(below), 0);
    assert.equal(difficultyToPacked(2), TWO_24);
    assert.equal(difficultyToPacked(2 - 2 ** -52), TWO_24 - 1);
    assert.equal(difficultyToPacked(2 ** 231), 231 * TWO_24);
    for (const huge of [2 ** 232, 2 ** 240, Number.MAX_VALUE, Infinity]) assert.equal(difficultyToPacked(huge), PACKED_INFINITY);
  });

  test('isValidPacked', () => {
    for (const ok of [0, 1, TWO_24, PACKED_INFINITY]) assert.ok(isValidPacked(ok), String(ok));
    for (const bad of [-1, PACKED_INFINITY + 1, 0xffff_ffff, 1.5, Number.NaN, Infinity]) assert.ok(!isValidPacked(bad), String(bad));
  });

  test('comparePacked orders like the difficulties', () => {
    fc.assert(
      fc.property(validPacked, validPacked, (a, b) => {
        return Math.sign(comparePacked(a, b)) === Math.sign(packedToDifficulty(a) - packedToDifficulty(b));
      }),
    );
  });
});

describe('parsePacked', () => {
  test('accepts u32 numbers, decimal and 0x-hex strings', () => {
    assert.equal(parsePacked(409392556), 409392556);
    assert.equal(parsePacked('409392556'), 409392556);
    assert.equal(parsePacked('0x1866d5ac'), 409392556);
    assert.equal(parsePacked('0X1866D5AC'), 409392556);
    assert.equal(parsePacked('0'), 0);
    assert.equal(parsePacked('4294967295'), 0xffff_ffff);
  });
  test('rejects anything else', () => {
    for (const bad of ['4294967296', '-1', '1.5', '', '0x', '0x123456789', '12a', ' 1', '1e3', -1, 1.5, 2 ** 32, Number.NaN, null, true, {}, []]) {
      assert.equal(parsePacked(bad), null, JSON.stringify(bad));
    }
  });
});

describe('meetsTarget', () => {
  test('packed 0 is met by every hash, even 2^256 − 1', () => {
    assert.ok(meetsTarget(Buffer.alloc(32, 0xff), 0));
  });
  test('the comparison is strict: H × (2^24 | m) = 2^(280 − order) fails', () => {
    const packed = 8 * TWO_24; // order 8, mantissa 0: passes iff H < 2^248
    assert.ok(meetsTarget((1n << 248n) - 1n, packed));
    assert.ok(!meetsTarget(1n << 248n, packed));
    // order 8, mantissa 2^23: passes iff H·3·2^23 < 2^272 ⇔ H ≤ ⌊2^249 / 3⌋ (2^249 / 3 is not an integer).
    const half = packed | (1 << 23);
    const limit = (1n << 249n) / 3n;
    assert.ok(meetsTarget(limit, half));
    assert.ok(!meetsTarget(limit + 1n, half));
  });
  test('s_Inf is met only by H < 2^24; above s_Inf nothing passes', () => {
    assert.ok(meetsTarget(0n, PACKED_INFINITY));
    assert.ok(meetsTarget(BigInt(TWO_24 - 1), PACKED_INFINITY));
    assert.ok(!meetsTarget(BigInt(TWO_24), PACKED_INFINITY));
    assert.ok(!meetsTarget(0n, PACKED_INFINITY + 1));
    assert.ok(!meetsTarget(0n, -1));
    assert.ok(!meetsTarget(0n, 0.5));
  });
  test('bytes and bigint give the same answer', () => {
    fc.assert(fc.property(hashValue, validPacked, (h, packed) => meetsTarget(hashBytes(h), packed) === meetsTarget(h, packed)));
  });
  test('hashToBigInt reads big-endian', () => {
    assert.equal(hashToBigInt(Buffer.from('0001', 'hex')), 1n);
    assert.equal(hashToBigInt(Buffer.alloc(0)), 0n);
    fc.assert(fc.property(hashValue, (h) => hashToBigInt(hashBytes(h)) === h));
  });
});

describe('maxPackedMet', () => {
  test('meetsTarget(H, P) holds exactly for P ≤ maxPackedMet(H)', () => {
    fc.assert(
      fc.property(hashValue, validPacked, (h, packed) => meetsTarget(h, packed) === packed <= maxPackedMet(h)),
      { numRuns: 2000 },
    );
  });
  test('the maximum is met and the next value is not', () => {
    fc.assert(
      fc.property(hashValue, (h) => {
        const max = maxPackedMet(h);
        return isValidPacked(max) && meetsTarget(h, max) && (max === PACKED_INFINITY || !meetsTarget(h, max + 1));
      }),
      { numRuns: 2000, examples: [[0n], [1n], [BigInt(TWO_24 - 1)], [BigInt(TWO_24)], [(1n << 256n) - 1n]] },
    );
  });
  test('edges', () => {
    assert.equal(maxPackedMet(0n), PACKED_INFINITY);
    assert.equal(maxPackedMet(BigInt(TWO_24 - 1)), PACKED_INFINITY);
    assert.equal(maxPackedMet((1n << 256n) - 1n), 0);
  });
});

describe('achievedDifficulty', () => {
  test('2^256 / H', () => {
    assert.equal(achievedDifficulty(0n), Infinity);
    assert.equal(achievedDifficulty(1n << 255n), 2);
    assert.equal(achievedDifficulty(hashBytes(1n << 200n)), 2 ** 56);
  });
});
