// Native verifier throughput per variant (docs/pow.md: beat Beam's ~107 µs III / ~70 µs I,II).
// All figures are single-threaded (one core); the async column runs one batch at a time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native, NativeVariant, VerifyCode, packRecord, RECORD_STRIDE, RESULT_CODE, RESULT_STRIDE } from '../src/pow/native.js';

interface Sample {
  input: Buffer;
  nonce: Buffer;
  output: Buffer;
}

interface VectorFile {
  valid: { variant: string; input: string; nonce: string; output: string }[];
}

const BATCH = 256;
const MIN_MS = 150;
// The machine is shared: each figure is the best of TRIALS short runs, and the sync-batch and
// pure-loop runs alternate so that background load hits both alike.
const TRIALS = 5;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function loadSamples(): Map<number, Sample[]> {
  const file = path.resolve(repoRoot, 'test', 'vectors', 'beamhash.json');
  const vectors = JSON.parse(readFileSync(file, 'utf8')) as VectorFile;
  const ids: Record<string, number> = {
    BeamHashI: NativeVariant.BeamHashI,
    BeamHashII: NativeVariant.BeamHashII,
    BeamHashIII: NativeVariant.BeamHashIII,
  };
  const byVariant = new Map<number, Sample[]>();
  for (const v of vectors.valid) {
    const id = ids[v.variant];
    if (id === undefined) continue;
    const list = byVariant.get(id) ?? [];
    list.push({ input: Buffer.from(v.input, 'hex'), nonce: Buffer.from(v.nonce, 'hex'), output: Buffer.from(v.output, 'hex') });
    byVariant.set(id, list);
  }
  byVariant.set(NativeVariant.Devnet, devnetSamples());
  return byVariant;
}

function devnetSamples(): Sample[] {
  const input = Buffer.alloc(32, 0x5a);
  const samples: Sample[] = [];
  for (let n = 0; samples.length < 4 && n < 1000; n++) {
    const nonce = Buffer.alloc(8);
    nonce.writeUInt32LE(n, 0);
    for (const output of native.solve(NativeVariant.Devnet, input, nonce)) samples.push({ input, nonce, output });
  }
  return samples;
}

function pack(variant: number, samples: readonly Sample[], count: number): Buffer {
  const records = Buffer.alloc(count * RECORD_STRIDE);
  for (let i = 0; i < count; i++) {
    const s = samples[i % samples.length];
    if (!s) throw new Error('no samples');
    packRecord(records, i * RECORD_STRIDE, variant, s.input, s.nonce, s.output);
  }
  return records;
}

// Repeats `step` (which verifies `per` solutions) for at least MIN_MS; returns verifications/s.
function rate(per: number, step: () => void): number {
  step();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(MIN_MS) * 1_000_000n) {
    for (let i = 0; i < 16; i++) step();
    n += 16;
    elapsed = process.hrtime.bigint() - start;
  }
  return (n * per * 1e9) / Number(elapsed);
}

async function asyncRate(records: Buffer, results: Buffer): Promise<number> {
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => native.verifyBatch(records, BATCH, results, (e) => (e ? reject(e) : resolve())));
  await once();
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(MIN_MS) * 1_000_000n) {
    await once();
    n++;
    elapsed = process.hrtime.bigint() - start;
  }
  return (n * BATCH * 1e9) / Number(elapsed);
}

function loopRate(records: Buffer): number {
  native.loopBench(records, BATCH, 1);
  let iterations = 4;
  for (;;) {
    const ns = native.loopBench(records, BATCH, iterations);
    if (ns >= MIN_MS * 1e6) return (iterations * BATCH * 1e9) / ns;
    iterations *= 2;
  }
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

export async function run(): Promise<string> {
  const names: Record<number, string> = {
    [NativeVariant.BeamHashI]: 'BeamHash I',
    [NativeVariant.BeamHashII]: 'BeamHash II',
    [NativeVariant.BeamHashIII]: 'BeamHash III',
    [NativeVariant.Devnet]: 'Devnet (48,5)',
  };
  const rows: string[] = [
    `| variant | verifyOne/s | verifyBatchSync/s | verifyBatch (async)/s | loopBench (pure C++)/s | µs/verification (loop) | N-API overhead (sync batch vs loop) |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
  ];
  for (const [variant, samples] of loadSamples()) {
    if (samples.length === 0) continue;
    const records = pack(variant, samples, BATCH);
    const results = Buffer.alloc(BATCH * RESULT_STRIDE);
    native.verifyBatchSync(records, BATCH, results);
    for (let i = 0; i < BATCH; i++) {
      if (results[i * RESULT_STRIDE + RESULT_CODE] !== VerifyCode.Valid) throw new Error(`${names[variant]}: sample ${i} does not verify`);
    }
    let k = 0;
    const best = { one: 0, sync: 0, async: 0, loop: 0 };
    for (let t = 0; t < TRIALS; t++) {
      best.one = Math.max(best.one, rate(1, () => {
        const s = samples[k++ % samples.length];
        if (s) native.verifyOne(variant, s.input, s.nonce, s.output);
      }));
      best.sync = Math.max(best.sync, rate(BATCH, () => native.verifyBatchSync(records, BATCH, results)));
      best.loop = Math.max(best.loop, loopRate(records));
      best.async = Math.max(best.async, await asyncRate(records, results));
    }
    const { one, sync, loop } = best;
    const asyncR = best.async;
    const overhead = (loop / sync - 1) * 100;
    rows.push(
      `| ${names[variant] ?? variant} | ${fmt(one)} | ${fmt(sync)} | ${fmt(asyncR)} | ${fmt(loop)} | ${(1e6 / loop).toFixed(2)} | ${overhead.toFixed(1)} % |`,
    );
  }
  return [
    `Native verifier, one thread, batches of ${BATCH} valid solutions (node ${process.version}).`,
    '',
    ...rows,
  ].join('\n');
}
