// `equigate pow verify` as a process: exit codes, JSON output, --batch order, malformed lines, streaming.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { native } from '../../src/pow/native.js';
import { VARIANTS } from '../../src/pow/variants.js';
import { REPO_ROOT, beamVectors, variantsOf, type BeamVector } from '../unit/pow-fixtures.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const POW_VERIFY = ['pow', 'verify'];

const ownVariant = (v: BeamVector): string => variantsOf(v)[0]?.name ?? '';

function vector(name: string): BeamVector {
  const found = [...beamVectors.valid, ...beamVectors.invalid].find((v) => v.name === name);
  assert.ok(found, name);
  return found;
}
const block = vector('beam-mainnet-block-903720');
const vanteerI = vector('vanteer-I-a');
const invalidII = vector('vanteer-II-wrong-header');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], stdin = '', command: readonly string[] = POW_VERIFY): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...command, ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function flags(v: BeamVector): string[] {
  return ['--input', v.input, '--nonce', v.nonce, '--output', v.output];
}

function lines(stdout: string): unknown[] {
  return stdout.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as unknown);
}

/** A real devnet solution, found with the addon's small-N solver. */
function devnetSolution(): { input: string; nonce: string; output: string } {
  const input = Buffer.alloc(32, 7);
  for (let n = 0; n < 1000; n += 1) {
    const nonce = Buffer.alloc(8);
    nonce.writeUInt32LE(n);
    const [output] = native.solve(VARIANTS.devnet.nativeId, input, nonce);
    if (output) return { input: input.toString('hex'), nonce: nonce.toString('hex'), output: output.toString('hex') };
  }
  throw new Error('no devnet solution in 1000 nonces');
}

describe('pow verify', () => {
  test('valid solution by chain and height, with the block target: exit 0', async () => {
    const run = await runCli([...flags(block), '--chain', 'beam-mainnet', '--height', '903720', '--difficulty', '409392556']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(lines(run.stdout), [{ valid: true, pow: true, target: true, variant: 'beamhash3', reason: null }]);
  });

  test('valid solution by variant, 0x-hex difficulty: exit 0', async () => {
    const run = await runCli([...flags(vanteerI), '--variant', 'beamhash1', '--difficulty', '0x08000000']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(lines(run.stdout), [{ valid: true, pow: true, target: true, variant: 'beamhash1', reason: null }]);
  });

  test('above target: exit 1', async () => {
    const run = await runCli([...flags(block), '--variant', 'beamhash3', '--difficulty', '423556031']);
    assert.equal(run.code, 1);
    assert.deepEqual(lines(run.stdout), [{ valid: false, pow: true, target: false, variant: 'beamhash3', reason: 'above-target' }]);
  });

  test('invalid solution and bad hex: exit 1 with a reason', async () => {
    const invalid = await runCli([...flags(invalidII), '--variant', 'beamhash2']);
    assert.equal(invalid.code, 1);
    const [result] = lines(invalid.stdout) as { valid: boolean; pow: boolean; reason: string }[];
    assert.equal(result?.valid, false);
    assert.equal(result?.pow, false);
    assert.ok(result?.reason);
    const badHex = await runCli(['--input', 'xyz', '--nonce', block.nonce, '--output', block.output, '--variant', 'beamhash3']);
    assert.equal(badHex.code, 1);
    assert.deepEqual(lines(badHex.stdout), [{ valid: false, pow: false, target: null, variant: 'beamhash3', reason: 'bad-hex' }]);
  });

  test('devnet: variant and chain', async () => {
    const solution = devnetSolution();
    const args = ['--input', solution.input, '--nonce', solution.nonce, '--output', solution.output];
    for (const select of [['--variant', 'devnet'], ['--chain', 'devnet', '--height', '12345']]) {
      const run = await runCli([...args, ...select]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(lines(run.stdout), [{ valid: true, pow: true, target: null, variant: 'devnet', reason: null }]);
    }
  });

  test('bad usage: exit 2 with usage on stderr and nothing on stdout', async () => {
    const cases: string[][] = [
      [],
      ['--output', block.output, '--nonce', block.nonce, '--variant', 'beamhash3'],
      [...flags(block)],
      [...flags(block), '--variant', 'beamhash9'],
      [...flags(block), '--variant', 'beamhash3', '--chain', 'beam-mainnet', '--height', '1'],
      [...flags(block), '--chain', 'beam-mainnet'],
      [...flags(block), '--chain', 'nochain', '--height', '1'],
      [...flags(block), '--chain', 'beam-mainnet', '--height', '-5'],
      [...flags(block), '--variant', 'beamhash3', '--difficulty', '4294967296'],
      [...flags(block), '--variant', 'beamhash3', '--difficulty', 'lots'],
      [...flags(block), '--variant', 'beamhash3', '--bogus'],
      ['--batch', '--variant', 'beamhash3'],
    ];
    const runs = await Promise.all(cases.map((args) => runCli(args)));
    runs.forEach((run, i) => {
      assert.equal(run.code, 2, cases[i]?.join(' '));
      assert.match(run.stderr, /usage: equigate pow verify/);
      assert.equal(run.stdout, '');
    });
    const notVerify = await runCli([], '', ['pow', 'check']);
    assert.equal(notVerify.code, 2);
    assert.match(notVerify.stderr, /usage: equigate pow verify/);
  });

  test('--help: exit 0 with usage on stdout', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /usage: equigate pow verify/);
  });
});

describe('pow verify --batch', () => {
  const line = (v: BeamVector, extra: Record<string, unknown>): string =>
    JSON.stringify({ input: v.input, nonce: v.nonce, output: v.output, ...extra });

  test('one result per line, in order; malformed lines get a reason; exit 1 when any is invalid', async () => {
    const input = [
      line(block, { chain: 'beam-mainnet', height: 903720, difficulty: 409392556 }),
      'not json',
      '',
      '[1,2]',
      line(block, { variant: 'beamhash3', difficulty: 423556031 }),
      JSON.stringify({ variant: 'beamhash3', input: block.input }),
      line(block, { variant: 'beamhash7' }),
      line(block, { chain: 'beam-mainnet' }),
      line(block, { variant: 'beamhash3', chain: 'beam-mainnet', height: 903720 }),
      line(block, { variant: 'beamhash3', difficulty: 'hard' }),
      line({ ...block, nonce: 'abc' }, { variant: 'beamhash3' }),
      line({ ...block, output: block.output.slice(2) }, { variant: 'beamhash3' }),
      `${line(vanteerI, { variant: 'beamhash1', difficulty: '0x08000000' })}\r`,
      line(invalidII, { chain: 'beam-mainnet', height: '400000' }),
      line(vanteerI, { variant: 'beamhash1' }), // last line without a newline
    ].join('\n');
    const run = await runCli(['--batch'], input);
    assert.equal(run.code, 1, run.stderr);
    const results = lines(run.stdout) as { valid: boolean; pow: boolean; target: boolean | null; variant: string | null; reason: string | null }[];
    const malformed = { valid: false, pow: false, target: null, variant: null, reason: 'malformed-request' };
    assert.deepEqual(results.slice(0, 13), [
      { valid: true, pow: true, target: true, variant: 'beamhash3', reason: null },
      malformed,
      malformed,
      malformed,
      { valid: false, pow: true, target: false, variant: 'beamhash3', reason: 'above-target' },
      { ...malformed, variant: 'beamhash3' },
      { ...malformed, reason: 'unknown-variant' },
      malformed,
      malformed,
      { ...malformed, variant: 'beamhash3' },
      { valid: false, pow: false, target: null, variant: 'beamhash3', reason: 'bad-hex' },
      { valid: false, pow: false, target: null, variant: 'beamhash3', reason: 'bad-output-length' },
      { valid: true, pow: true, target: true, variant: 'beamhash1', reason: null },
    ]);
    assert.equal(results[13]?.valid, false);
    assert.equal(results[13]?.variant, 'beamhash2');
    assert.deepEqual(results[14], { valid: true, pow: true, target: null, variant: 'beamhash1', reason: null });
    assert.equal(results.length, 15);
  });

  test('a large mixed batch keeps input order; all valid gives exit 0', async () => {
    const variants = ['beamhash1', 'beamhash2', 'beamhash3'];
    const count = 5000;
    // Line i: a vector and a mode drawn from a fixed pseudo-random sequence, so every line's result is
    // known in advance and a reordering shows up as a mismatch.
    const plan = Array.from({ length: count }, (_, i) => {
      const mix = Math.imul(i + 1, 2654435761) >>> 0;
      const v = beamVectors.valid[mix % beamVectors.valid.length];
      assert.ok(v?.max_packed_difficulty_met !== undefined);
      const own = ownVariant(v);
      const mode = (mix >>> 8) % 3;
      if (mode === 0) return { text: line(v, { variant: own }), expect: { valid: true, variant: own, reason: null } };
      if (mode === 1) {
        const text = line(v, { variant: own, difficulty: v.max_packed_difficulty_met + 1 });
        return { text, expect: { valid: false, variant: own, reason: 'above-target' } };
      }
      const other = variants[(variants.indexOf(own) + 1) % 3] ?? '';
      return { text: line(v, { variant: other }), expect: { valid: false, variant: other, reason: 'pow' } };
    });
    const run = await runCli(['--batch'], `${plan.map((p) => p.text).join('\n')}\n`);
    assert.equal(run.code, 1, run.stderr);
    const results = lines(run.stdout) as { valid: boolean; pow: boolean; variant: string; reason: string | null }[];
    assert.equal(results.length, count);
    results.forEach((result, i) => {
      const reason = result.reason === null || result.reason === 'above-target' ? result.reason : 'pow';
      assert.deepEqual({ valid: result.valid, variant: result.variant, reason }, plan[i]?.expect, `line ${i}`);
    });

    const allValid = plan.filter((p) => p.expect.valid).map((p) => p.text);
    const validRun = await runCli(['--batch'], `${allValid.join('\n')}\n`);
    assert.equal(validRun.code, 0, validRun.stderr);
    assert.equal(lines(validRun.stdout).length, allValid.length);
  });

  test('streams: a result is written before stdin ends', async () => {
    const child = spawn(process.execPath, [...CLI, ...POW_VERIFY, '--batch'], { cwd: REPO_ROOT });
    child.stdout.setEncoding('utf8');
    child.stdin.write(`${line(block, { variant: 'beamhash3' })}\n`);
    const [first] = (await once(child.stdout, 'data')) as [string];
    assert.deepEqual(JSON.parse(first.trim()), { valid: true, pow: true, target: null, variant: 'beamhash3', reason: null });
    child.stdin.end();
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0);
  });
});
