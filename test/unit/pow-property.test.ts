// Property tests of the verification layer (fast-check, bounded run counts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { native } from '../../src/pow/native.js';
import { VARIANTS, type PowVariant } from '../../src/pow/variants.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { decodeHexSolution, resultFromVerdict, verifySolution, type HexSolution } from '../../src/pow/verifySolution.js';
import { STRUCTURAL_REASONS, beamVectors, variantsOf } from './pow-fixtures.js';

type Field = 'input' | 'nonce' | 'output';
const FIELDS: readonly Field[] = ['input', 'nonce', 'output'];

/** Each valid vector under its own variant. */
const validSolutions: readonly HexSolution[] = beamVectors.valid.map((vector) => {
  const [variant] = variantsOf(vector);
  assert.ok(variant);
  return { variant, input: vector.input, nonce: vector.nonce, output: vector.output };
});

function flipBit(hex: string, bit: number): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return bytes.toString('hex');
}

/** A valid solution with one bit of one field flipped. */
const flipped: fc.Arbitrary<HexSolution> = fc
  .tuple(fc.constantFrom(...validSolutions), fc.constantFrom(...FIELDS), fc.nat())
  .map(([solution, field, seed]) => ({ ...solution, [field]: flipBit(solution[field], seed % ((solution[field].length / 2) * 8)) }));

/** Bytes of exactly `exact` length half the time, of any length up to exact + 8 otherwise. */
function bytesAround(exact: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ minLength: exact, maxLength: exact }), fc.uint8Array({ maxLength: exact + 8 }));
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const anyVariant = fc.constantFrom(...Object.values(VARIANTS));
const difficulty = fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: null });

/** Random bytes of random lengths under a random variant. */
const randomSolution: fc.Arbitrary<HexSolution> = fc
  .tuple(anyVariant, bytesAround(32), bytesAround(8), fc.oneof(bytesAround(104), bytesAround(36)), difficulty)
  .map(([variant, input, nonce, output, packed]) => ({ variant, input: hex(input), nonce: hex(nonce), output: hex(output), difficulty: packed }));

describe('single bit flips', () => {
  test('any single bit flip of input, nonce or output of a valid vector is rejected', () => {
    // Examples: the first and last bit of every field of every vector.
    const edges = validSolutions.flatMap((solution) =>
      FIELDS.flatMap((field) => [0, (solution[field].length / 2) * 8 - 1].map((bit) => ({ ...solution, [field]: flipBit(solution[field], bit) }))),
    );
    fc.assert(
      fc.property(flipped, (solution) => {
        const result = verifySolution(solution);
        return !result.valid && !result.pow && STRUCTURAL_REASONS.has(result.reason ?? '');
      }),
      { numRuns: 1500, examples: edges.map((solution) => [solution]) },
    );
  });
});

describe('random input', () => {
  test('random bytes of random lengths never crash and always carry a reason', () => {
    fc.assert(
      fc.property(randomSolution, (solution) => {
        const result = verifySolution(solution);
        return !result.valid && !result.pow && result.reason !== null && result.variant === solution.variant.name;
      }),
      { numRuns: 1500 },
    );
  });

  test('random text in the hex fields never crashes', () => {
    fc.assert(
      fc.property(anyVariant, fc.string(), fc.string(), fc.string(), (variant, input, nonce, output) => {
        const result = verifySolution({ variant, input, nonce, output });
        return !result.valid && result.reason !== null;
      }),
      { numRuns: 500 },
    );
  });
});

describe('VerifierPool', () => {
  const mixed: fc.Arbitrary<HexSolution> = fc.oneof(
    fc.constantFrom(...validSolutions).chain((solution) => difficulty.map((packed) => ({ ...solution, difficulty: packed }))),
    flipped,
    randomSolution,
    // A valid vector under another variant.
    fc.tuple(fc.constantFrom(...validSolutions), anyVariant).map(([solution, variant]: [HexSolution, PowVariant]) => ({ ...solution, variant })),
  );

  test('gives the same results and hashes as verifySolution for random mixes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mixed, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 3 }),
        async (solutions, batchSize, concurrency) => {
          const pool = new VerifierPool({ batchSize, concurrency });
          const pooled = await Promise.all(
            solutions.map(async (solution) => {
              const decoded = decodeHexSolution(solution);
              assert.ok(typeof decoded !== 'string');
              const verdict = await pool.verify(decoded);
              assert.deepEqual(verdict.hash, native.sha256(decoded.output));
              return resultFromVerdict(solution.variant, verdict, solution.difficulty ?? null);
            }),
          );
          await pool.close();
          assert.deepEqual(pooled, solutions.map((solution) => verifySolution(solution)));
        },
      ),
      { numRuns: 40 },
    );
  });
});
