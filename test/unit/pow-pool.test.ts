// VerifierPool mechanics: batching, bounded queue, close, buffer reuse and failure paths.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { native, type NativeAddon } from '../../src/pow/native.js';
import type { SolutionInput } from '../../src/pow/types.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { decodeHexSolution } from '../../src/pow/verifySolution.js';
import { beamVectors, rejectsWith, variantsOf } from './pow-fixtures.js';

const solutions: readonly SolutionInput[] = beamVectors.valid.map((vector) => {
  const [variant] = variantsOf(vector);
  assert.ok(variant);
  const decoded = decodeHexSolution({ variant, input: vector.input, nonce: vector.nonce, output: vector.output });
  assert.ok(typeof decoded !== 'string');
  return decoded;
});
const solutionAt = (i: number): SolutionInput => solutions[i % solutions.length] as SolutionInput;

/** The real addon with verifyBatch replaced; records every batch size it is called with. */
function addonWith(verifyBatch: NativeAddon['verifyBatch']): NativeAddon & { readonly batches: number[] } {
  const batches: number[] = [];
  return Object.assign(Object.create(native) as NativeAddon, {
    batches,
    verifyBatch: (records: Buffer, count: number, results: Buffer, done: (err: Error | null) => void) => {
      batches.push(count);
      verifyBatch(records, count, results, done);
    },
  });
}

describe('VerifierPool', () => {
  test('packs concurrent calls into batches no larger than batchSize, all verified', async () => {
    const addon = addonWith((records, count, results, done) => native.verifyBatch(records, count, results, done));
    const pool = new VerifierPool({ addon, batchSize: 16, concurrency: 2 });
    const verdicts = await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.verify(solutionAt(i))));
    await pool.close();
    assert.ok(verdicts.every((v) => v.powValid && v.reason === null));
    assert.equal(addon.batches.reduce((a, b) => a + b, 0), 1000);
    assert.ok(addon.batches.every((count) => count >= 1 && count <= 16));
    assert.ok(addon.batches.length < 1000, 'calls were batched');
  });

  test('hashes stay intact after their buffers are reused by later batches', async () => {
    const pool = new VerifierPool({ batchSize: 3, concurrency: 1 });
    const kept = [];
    for (let wave = 0; wave < 20; wave += 1) {
      kept.push(...(await Promise.all(Array.from({ length: 7 }, (_, i) => pool.verify(solutionAt(wave + i))))));
    }
    await pool.close();
    kept.forEach((verdict, n) => {
      const i = Math.floor(n / 7) + (n % 7);
      assert.deepEqual(verdict.hash, native.sha256(solutionAt(i).output));
    });
  });

  test('over the queue bound, verify() rejects with code queue-full; accepted ones still complete', async () => {
    // Never completes a batch until released, so nothing leaves the queue meanwhile.
    const held: Array<() => void> = [];
    const addon = addonWith((records, count, results, done) => held.push(() => native.verifyBatch(records, count, results, done)));
    const pool = new VerifierPool({ addon, batchSize: 2, concurrency: 1, maxQueued: 4 });
    const accepted = Array.from({ length: 6 }, (_, i) => pool.verify(solutionAt(i))); // 2 in flight, 4 queued
    assert.equal(pool.queueLength, 4);
    await assert.rejects(pool.verify(solutionAt(0)), rejectsWith('queue-full'));
    while (held.length > 0 || pool.queueLength > 0) {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok((await Promise.all(accepted)).every((v) => v.powValid));
    await pool.close();
  });

  test('close() drains accepted work; verify() after close rejects with code closed', async () => {
    const pool = new VerifierPool({ batchSize: 8, concurrency: 1 });
    let settled = 0;
    const pending = Array.from({ length: 50 }, (_, i) => pool.verify(solutionAt(i)).then(() => (settled += 1)));
    await pool.close();
    await Promise.all(pending);
    assert.equal(settled, 50);
    await assert.rejects(pool.verify(solutionAt(0)), rejectsWith('closed'));
    await pool.close(); // idempotent
  });

  test('wrong lengths are answered without the addon', async () => {
    const addon = addonWith((records, count, results, done) => native.verifyBatch(records, count, results, done));
    const pool = new VerifierPool({ addon });
    const base = solutionAt(0);
    const verdicts = await Promise.all([
      pool.verify({ ...base, input: base.input.subarray(1) }),
      pool.verify({ ...base, nonce: new Uint8Array(9) }),
      pool.verify({ ...base, output: base.output.subarray(0, 100) }),
    ]);
    await pool.close();
    assert.deepEqual(verdicts.map((v) => v.reason), ['bad-input-length', 'bad-nonce-length', 'bad-output-length']);
    assert.ok(verdicts.every((v) => !v.powValid));
    assert.deepEqual(addon.batches, []);
  });

  test('a failing batch rejects its solutions with code native-failed', async () => {
    const addon = addonWith((_records, _count, _results, done) => done(new Error('worker failed')));
    const pool = new VerifierPool({ addon });
    await assert.rejects(pool.verify(solutionAt(0)), rejectsWith('native-failed'));
    await pool.close();
  });

  test('a throwing verifyBatch rejects with code native-failed', async () => {
    const addon = addonWith(() => {
      throw new TypeError('bad arguments');
    });
    const pool = new VerifierPool({ addon });
    await assert.rejects(pool.verify(solutionAt(0)), rejectsWith('native-failed'));
    await pool.close();
  });

  test('an unknown result code rejects with code native-contract', async () => {
    const addon = addonWith((records, count, results, done) =>
      native.verifyBatch(records, count, results, (err) => {
        results[0] = 99;
        done(err);
      }),
    );
    const pool = new VerifierPool({ addon });
    await assert.rejects(pool.verify(solutionAt(0)), rejectsWith('native-contract'));
    await pool.close();
  });

  test('bad options are rejected with code bad-option', () => {
    for (const options of [{ concurrency: 0 }, { batchSize: 1.5 }, { maxQueued: -1 }]) {
      assert.throws(() => new VerifierPool(options), rejectsWith('bad-option'), JSON.stringify(options));
    }
  });
});
