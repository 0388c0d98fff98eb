// The fuzz suite of `npm test` (test/integration/fuzz.test.ts), run for longer: the same four fuzzers with many
// more runs and a printed seed, so a failure found here can be replayed (FUZZ_SEED) and turned into a test.
// Knobs (environment): FUZZ_SCALE (50: runs = 50 × the npm test runs), FUZZ_SEED (random).
// `npm run bench -- fuzz`
import { envInt, fmt } from './harness.js';
import { fuzzCodec, fuzzNodeLink, fuzzSessions, fuzzWebSocket } from '../test/support/fuzzers.js';

export async function run(): Promise<string> {
  const scale = envInt('FUZZ_SCALE', 50);
  const seed = envInt('FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
  let thrown: unknown;
  const onUncaught = (error: unknown): void => {
    thrown ??= error;
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  const rows: string[] = [];
  const timed = async (name: string, runs: number, body: () => Promise<void> | void): Promise<void> => {
    const started = performance.now();
    await body();
    rows.push(`${name.padEnd(10)} ${String(runs).padStart(7)} runs  ${fmt(performance.now() - started)} ms`);
  };
  try {
    await timed('codec', 3_000 * scale, () => fuzzCodec(3_000 * scale, seed));
    await timed('sessions', 400 * scale, () => fuzzSessions(400 * scale, seed));
    await timed('nodelink', 60 * scale, () => fuzzNodeLink(60 * scale, seed));
    await timed('websocket', 80 * scale, () => fuzzWebSocket(80 * scale, seed));
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
  if (thrown !== undefined) throw new Error(`the process threw while fuzzing (seed ${seed}): ${String(thrown)}`);
  return [`fuzz (seed ${seed}, scale ${scale}): no throw, every answer well-formed`, ...rows].join('\n');
}
