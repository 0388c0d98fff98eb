// Native addon: hash primitives against published vectors, BeamHash I/II/III against the test
// vectors (docs/pow.md), batch paths against verifyOne, devnet solve, and argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  native,
  NativeVariant,
  VerifyCode,
  RECORD_STRIDE,
  RECORD_VARIANT,
  RECORD_OUTPUT_LENGTH,
  RESULT_HASH,
  RESULT_CODE,
  packRecord,
  RESULT_STRIDE,
  type NativeVariantId,
} from '../../src/pow/native.js';

interface PowVector {
  name: string;
  variant: string;
  input: string;
  nonce: string;
  output: string;
  sha256_output?: string;
}
interface VectorFile {
  valid: PowVector[];
  invalid: PowVector[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = JSON.parse(
  readFileSync(path.resolve(repoRoot, 'test', 'vectors', 'beamhash.json'), 'utf8'),
) as VectorFile;

const BEAM_VARIANTS: readonly NativeVariantId[] = [
  NativeVariant.BeamHashI,
  NativeVariant.BeamHashII,
  NativeVariant.BeamHashIII,
];

function variantId(name: string): NativeVariantId {
  switch (name) {
    case 'BeamHashI':
      return NativeVariant.BeamHashI;
    case 'BeamHashII':
      return NativeVariant.BeamHashII;
    case 'BeamHashIII':
      return NativeVariant.BeamHashIII;
    default:
      throw new Error(`unknown variant ${name}`);
  }
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

interface Case {
  variant: number;
  input: Buffer;
  nonce: Buffer;
  output: Buffer;
}

function pack(cases: readonly Case[]): Buffer {
  const records = Buffer.alloc(cases.length * RECORD_STRIDE);
  cases.forEach((c, i) => packRecord(records, i * RECORD_STRIDE, c.variant, c.input, c.nonce, c.output));
  return records;
}

function flipBit(buf: Buffer, bit: number): Buffer {
  const out = Buffer.from(buf);
  out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
  return out;
}

// Every vector under every Beam variant, plus the length checks: one list for the batch tests.
const allCases: Case[] = [...vectors.valid, ...vectors.invalid].flatMap((v) =>
  [...BEAM_VARIANTS, NativeVariant.Devnet, 99].map((variant) => ({
    variant,
    input: hex(v.input),
    nonce: hex(v.nonce),
    output: hex(v.output),
  })),
);

test('BLAKE2b-512("abc") matches RFC 7693 Appendix A', () => {
  assert.equal(
    native.blake2b(Buffer.from('abc'), 64).toString('hex'),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' +
      '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
});

test('BLAKE2b parameter block: digest length, personalisation, key, multi-block', () => {
  // Expected values computed with Python's hashlib.blake2b(data, digest_size, key, person).
  const person = (n: number, k: number): Buffer => {
    const p = Buffer.alloc(16);
    p.write('Beam-PoW');
    p.writeUInt32LE(n, 8);
    p.writeUInt32LE(k, 12);
    return p;
  };
  const seq = (len: number): Buffer => Buffer.from(Array.from({ length: len }, (_, i) => i & 255));
  assert.equal(
    native.blake2b(Buffer.from('abc'), 57, person(150, 5)).toString('hex'),
    '091c4aef234d4f9ff779b7a702089aa078f9c025e9b0719cfb1572eb47b498f4' +
      'a4da88eae81e1d05163bcb7cce6af41de338a054f37e24d016',
  );
  assert.equal(
    native.blake2b(seq(44), 32, person(448, 5)).toString('hex'),
    '0cf85f0a62f451e4177b3c2e42fd6a2ecb35b6700c268621dd6961e8db382129',
  );
  assert.equal(
    native.blake2b(seq(300), 64, undefined, seq(64)).toString('hex'),
    '8bccf7db5f47aebfaa04cb64b217a91b2ca9437561abfb1c883f591048f1d541' +
      '2d4bd9062a6108566124d7c2f7d48d571c97b4300a85e646f40028c262fab0fb',
  );
  assert.equal(native.blake2b(Buffer.alloc(128), 20).toString('hex'), '8d26f158f564e3293b42f5e3d34263cb173aa9c9');
  assert.equal(native.blake2b(Buffer.alloc(256), 1, person(48, 5), Buffer.from('k')).toString('hex'), '5a');
  assert.equal(
    native.blake2b(Buffer.alloc(0), 64).toString('hex'),
    '786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419' +
      'd25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce',
  );
});

test('SHA-256 matches the FIPS 180-2 examples', () => {
  assert.equal(
    native.sha256(Buffer.from('abc')).toString('hex'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  assert.equal(
    native.sha256(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toString('hex'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  assert.equal(
    native.sha256(Buffer.alloc(1_000_000, 'a')).toString('hex'),
    'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
  );
  assert.equal(
    native.sha256(Buffer.alloc(0)).toString('hex'),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
});

test('SipHash-2-4 matches the paper (Appendix A) and reference vectors', () => {
  const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  const k0 = key.readBigUInt64LE(0);
  const k1 = key.readBigUInt64LE(8);
  const msg = (len: number): Buffer => Buffer.from(Array.from({ length: len }, (_, i) => i));
  assert.equal(native.siphash24(k0, k1, msg(15)), 0xa129ca6149be45e5n);
  assert.equal(native.siphash24(k0, k1, msg(0)), 0x726fdb47dd0e0e31n);
  // A bigint message is its 8 little-endian bytes.
  assert.equal(native.siphash24(k0, k1, msg(8).readBigUInt64LE(0)), native.siphash24(k0, k1, msg(8)));
});

test('every valid vector verifies under its own variant only', () => {
  for (const v of vectors.valid) {
    const own = variantId(v.variant);
    for (const variant of BEAM_VARIANTS) {
      const r = native.verifyOne(variant, hex(v.input), hex(v.nonce), hex(v.output));
      if (variant === own) {
        assert.equal(r.code, VerifyCode.Valid, `${v.name} under its own variant`);
        assert.equal(r.hash.toString('hex'), v.sha256_output, `${v.name} hash`);
      } else {
        assert.notEqual(r.code, VerifyCode.Valid, `${v.name} under variant ${variant}`);
      }
    }
  }
});

test('every invalid vector is rejected with a sensible code', () => {
  // First failure as Beam's verifier would meet it.
  const expected: Record<string, number> = {
    'vanteer-I-invalid-solution': VerifyCode.CollisionFailed,
    'vanteer-II-wrong-header': VerifyCode.CollisionFailed,
    'vanteer-III-first-byte-changed': VerifyCode.CollisionFailed,
    'vanteer-III-extra-nonce-changed': VerifyCode.CollisionFailed,
    'tricky-II-all-zero-output': VerifyCode.DuplicateIndex,
    'tricky-III-all-zero-output': VerifyCode.DuplicateIndex,
  };
  for (const v of vectors.invalid) {
    const variants = v.variant === 'any' ? BEAM_VARIANTS : [variantId(v.variant)];
    for (const variant of variants) {
      const out = hex(v.output);
      const r = native.verifyOne(variant, hex(v.input), hex(v.nonce), out);
      const want = expected[v.name] ?? (out.length === 104 ? undefined : VerifyCode.BadOutputLength);
      if (want === undefined) {
        assert.ok(r.code > VerifyCode.BadOutputLength && r.code < VerifyCode.UnknownVariant, v.name);
      } else {
        assert.equal(r.code, want, `${v.name} under variant ${variant}`);
      }
      if (out.length === 104) assert.equal(r.hash.toString('hex'), v.sha256_output, `${v.name} hash`);
    }
  }
});

test('length checks and unknown variants', () => {
  const v = vectors.valid[0];
  assert.ok(v);
  const input = hex(v.input);
  const nonce = hex(v.nonce);
  const output = hex(v.output);
  const variant = variantId(v.variant);
  assert.equal(native.verifyOne(variant, hex('00'), nonce, output).code, VerifyCode.BadInputLength);
  assert.equal(native.verifyOne(variant, input, nonce.subarray(0, 7), output).code, VerifyCode.BadNonceLength);
  assert.equal(native.verifyOne(variant, input, nonce, output.subarray(0, 103)).code, VerifyCode.BadOutputLength);
  assert.equal(native.verifyOne(variant, input, nonce, Buffer.concat([output, hex('00')])).code, VerifyCode.BadOutputLength);
  assert.equal(native.verifyOne(99, input, nonce, output).code, VerifyCode.UnknownVariant);
  assert.equal(native.verifyOne(0, input, nonce, output).code, VerifyCode.UnknownVariant);
  assert.equal(native.solutionBytes(NativeVariant.BeamHashI), 104);
  assert.equal(native.solutionBytes(NativeVariant.BeamHashII), 104);
  assert.equal(native.solutionBytes(NativeVariant.BeamHashIII), 104);
  assert.equal(native.solutionBytes(NativeVariant.Devnet), 36);
  assert.equal(native.solutionBytes(7), 0);
  assert.equal(native.solutionBytes(1.5), 0);
});

test('BeamHash II rejects indices >= 2^23 that BeamHash I accepts as in range', () => {
  const v = vectors.valid.find((x) => x.variant === 'BeamHashII');
  assert.ok(v);
  // Index 0 occupies the first 26 bits (big-endian); setting its top bit makes it >= 2^25.
  const out = flipBit(hex(v.output), 0);
  assert.equal(native.verifyOne(NativeVariant.BeamHashII, hex(v.input), hex(v.nonce), out).code, VerifyCode.IndexOutOfRange);
  assert.notEqual(native.verifyOne(NativeVariant.BeamHashI, hex(v.input), hex(v.nonce), out).code, VerifyCode.IndexOutOfRange);
});

test('swapping the halves of a valid solution is an index-order failure', () => {
  for (const v of vectors.valid) {
    const variant = variantId(v.variant);
    const out = hex(v.output);
    let swapped: Buffer;
    if (variant === NativeVariant.BeamHashIII) {
      // 25-bit little-endian indices: swap index 0 and 1 (bits 0..49) via a bigint view.
      const bits = BigInt('0x' + Buffer.from(out.subarray(0, 100)).reverse().toString('hex'));
      const mask = (1n << 25n) - 1n;
      const a = bits & mask;
      const b = (bits >> 25n) & mask;
      const rest = bits >> 50n;
      const packed = (rest << 50n) | (a << 25n) | b;
      const le = Buffer.from(packed.toString(16).padStart(200, '0'), 'hex').reverse();
      swapped = Buffer.concat([le, out.subarray(100)]);
    } else {
      // 26-bit big-endian indices: swap index 0 and 1 (bits 0..51).
      const bits = BigInt('0x' + out.toString('hex'));
      const total = 832n;
      const mask = (1n << 26n) - 1n;
      const a = (bits >> (total - 26n)) & mask;
      const b = (bits >> (total - 52n)) & mask;
      const rest = bits & ((1n << (total - 52n)) - 1n);
      const packed = (b << (total - 26n)) | (a << (total - 52n)) | rest;
      swapped = Buffer.from(packed.toString(16).padStart(208, '0'), 'hex');
    }
    assert.equal(native.verifyOne(variant, hex(v.input), hex(v.nonce), swapped).code, VerifyCode.IndexOrder, v.name);
  }
});

test('verifyBatchSync and verifyBatch agree with verifyOne on all vectors', async () => {
  const records = pack(allCases);
  const syncResults = Buffer.alloc(allCases.length * RESULT_STRIDE);
  native.verifyBatchSync(records, allCases.length, syncResults);
  const asyncResults = Buffer.alloc(allCases.length * RESULT_STRIDE);
  await new Promise<void>((resolve, reject) => {
    native.verifyBatch(records, allCases.length, asyncResults, (err) => (err ? reject(err) : resolve()));
  });
  allCases.forEach((c, i) => {
    const one = native.verifyOne(c.variant, c.input, c.nonce, c.output);
    const at = i * RESULT_STRIDE;
    for (const [label, results] of [['sync', syncResults], ['async', asyncResults]] as const) {
      assert.equal(results[at + RESULT_CODE], one.code, `${label} code, case ${i}`);
      assert.deepEqual(results.subarray(at + RESULT_HASH, at + RESULT_STRIDE), one.hash, `${label} hash, case ${i}`);
    }
  });
});

test('batch: an output length above 104 is a bad length, count 0 is a no-op', () => {
  const v = vectors.valid[0];
  assert.ok(v);
  const records = pack([{ variant: variantId(v.variant), input: hex(v.input), nonce: hex(v.nonce), output: hex(v.output) }]);
  records.writeUInt16LE(0xffff, 2);
  const results = Buffer.alloc(RESULT_STRIDE, 0xaa);
  native.verifyBatchSync(records, 1, results);
  assert.equal(results[0], VerifyCode.BadOutputLength);
  native.verifyBatchSync(Buffer.alloc(0), 0, Buffer.alloc(0));
});

test('devnet: solve() finds solutions that verify; tampering is rejected', () => {
  const input = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const nonce = Buffer.alloc(8);
  let found = 0;
  for (let n = 0; n < 20; n++) {
    nonce.writeUInt32LE(n, 0);
    for (const sol of native.solve(NativeVariant.Devnet, input, nonce)) {
      found++;
      assert.equal(sol.length, 36);
      assert.equal(native.verifyOne(NativeVariant.Devnet, input, nonce, sol).code, VerifyCode.Valid);
      const otherNonce = Buffer.from(nonce);
      otherNonce[7] = (otherNonce[7] ?? 0) ^ 1;
      assert.notEqual(native.verifyOne(NativeVariant.Devnet, input, otherNonce, sol).code, VerifyCode.Valid);
      for (const bit of [0, 8, 100, 287]) {
        assert.notEqual(native.verifyOne(NativeVariant.Devnet, input, nonce, flipBit(sol, bit)).code, VerifyCode.Valid);
      }
      assert.notEqual(native.verifyOne(NativeVariant.BeamHashI, input, nonce, sol).code, VerifyCode.Valid);
    }
  }
  assert.ok(found > 0, 'some devnet solution within 20 nonces');
});

test('solve() refuses large variants with a TypeError', () => {
  for (const variant of [...BEAM_VARIANTS, 99]) {
    assert.throws(() => native.solve(variant, Buffer.alloc(32), Buffer.alloc(8)), TypeError);
  }
  assert.throws(() => native.solve(NativeVariant.Devnet, Buffer.alloc(31), Buffer.alloc(8)), RangeError);
});

test('malformed arguments throw instead of crashing', () => {
  const b32 = Buffer.alloc(32);
  const b8 = Buffer.alloc(8);
  const call = (f: (...args: unknown[]) => unknown, ...args: unknown[]): unknown => f(...args);
  const n = native as unknown as Record<string, (...args: unknown[]) => unknown>;
  const fn = (name: string): ((...args: unknown[]) => unknown) => {
    const f = n[name];
    assert.ok(f);
    return f;
  };
  assert.throws(() => call(fn('verifyOne'), '1', b32, b8, b32), TypeError);
  assert.throws(() => call(fn('verifyOne'), 1, 'x', b8, b32), TypeError);
  assert.throws(() => call(fn('verifyOne'), 1, b32, [1, 2], b32), TypeError);
  assert.throws(() => call(fn('verifyOne'), 1, b32, b8), TypeError);
  assert.throws(() => call(fn('verifyOne'), -1, b32, b8, b32), RangeError);
  assert.throws(() => call(fn('verifyOne'), 1, new Uint16Array(16), b8, b32), TypeError);
  assert.throws(() => call(fn('blake2b'), b32, 0), RangeError);
  assert.throws(() => call(fn('blake2b'), b32, 65), RangeError);
  assert.throws(() => call(fn('blake2b'), b32, 1.5), RangeError);
  assert.throws(() => call(fn('blake2b'), b32, 32, Buffer.alloc(15)), RangeError);
  assert.throws(() => call(fn('blake2b'), b32, 32, undefined, Buffer.alloc(65)), RangeError);
  assert.throws(() => call(fn('blake2b'), 'abc', 32), TypeError);
  assert.throws(() => call(fn('sha256'), null), TypeError);
  assert.throws(() => call(fn('siphash24'), 1, 2n, 3n), TypeError);
  assert.throws(() => call(fn('siphash24'), -1n, 2n, 3n), RangeError);
  assert.throws(() => call(fn('siphash24'), 1n, 1n << 64n, 3n), RangeError);
  assert.throws(() => call(fn('siphash24'), 1n, 2n, 'x'), TypeError);
  const rec = Buffer.alloc(RECORD_STRIDE);
  const res = Buffer.alloc(RESULT_STRIDE);
  assert.throws(() => call(fn('verifyBatchSync'), rec, 2, Buffer.alloc(2 * RESULT_STRIDE)), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, 1, Buffer.alloc(RESULT_STRIDE - 1)), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, -1, res), RangeError);
  // A count whose count * stride would not fit is refused by division, never wrapped into a short length.
  assert.throws(() => call(fn('verifyBatchSync'), rec, 2 ** 30, res), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, 2 ** 31, res), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, Number.NaN, res), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, 0.5, res), RangeError);
  assert.throws(() => call(fn('verifyBatchSync'), rec, '1', res), TypeError);
  assert.throws(() => call(fn('verifyBatchSync'), {}, 1, res), TypeError);
  assert.throws(() => call(fn('verifyBatch'), rec, 1, res), TypeError);
  assert.throws(() => call(fn('verifyBatch'), rec, 2, res, () => undefined), RangeError);
  assert.throws(() => call(fn('loopBench'), rec, 2, 1), RangeError);
  assert.throws(() => call(fn('loopBench'), rec, 1, -1), RangeError);
  assert.throws(() => call(fn('solutionBytes'), 'x'), TypeError);
});

test('the AVX2 and scalar fallbacks give the same results as the default path', () => {
  const records = pack(allCases);
  const expected = Buffer.alloc(allCases.length * RESULT_STRIDE);
  native.verifyBatchSync(records, allCases.length, expected);
  // A child process, because the SIMD path is chosen once per process (EQUIGATE_NATIVE_SIMD caps it).
  const script = `
    const addon = require(process.argv[1]);
    const records = Buffer.from(process.argv[2], 'hex');
    const count = records.length / ${RECORD_STRIDE};
    const results = Buffer.alloc(count * ${RESULT_STRIDE});
    addon.verifyBatchSync(records, count, results);
    process.stdout.write(results.toString('hex'));`;
  const addonPath: string | undefined = ['Release', 'Debug']
    .map((dir) => path.join(repoRoot, 'build', dir, 'equigate_native.node'))
    .find((file) => existsSync(file));
  if (addonPath === undefined) throw new Error('addon not built');
  for (const simd of ['avx2', 'scalar']) {
    const out: string = execFileSync(process.execPath, ['-e', script, addonPath, records.toString('hex')], {
      env: { ...process.env, EQUIGATE_NATIVE_SIMD: simd },
      encoding: 'utf8',
    });
    assert.equal(out, expected.toString('hex'), `EQUIGATE_NATIVE_SIMD=${simd}`);
  }
});

test('random records never crash and yield a known code', () => {
  const count = 2000;
  const records = randomBytes(count * RECORD_STRIDE);
  const variants = [...BEAM_VARIANTS, NativeVariant.Devnet];
  for (let i = 0; i < count; i++) {
    const at = i * RECORD_STRIDE;
    // Mostly well-formed lengths so that the verifiers themselves see random solutions.
    if (i % 4 !== 0) {
      const variant = variants[i % variants.length] ?? NativeVariant.BeamHashIII;
      records[at + RECORD_VARIANT] = variant;
      records.writeUInt16LE(native.solutionBytes(variant), at + RECORD_OUTPUT_LENGTH);
    }
  }
  const results = Buffer.alloc(count * RESULT_STRIDE);
  native.verifyBatchSync(records, count, results);
  for (let i = 0; i < count; i++) {
    const code = results[i * RESULT_STRIDE + RESULT_CODE] ?? -1;
    assert.ok(code >= VerifyCode.BadOutputLength && code <= VerifyCode.UnknownVariant, `record ${i}: ${code}`);
  }
});
