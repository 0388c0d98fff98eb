// The work service under load (docs/work-service.md): the gateway (stratum off, embedded broker, HTTP RPC) and 4
// reference Nano workers (1 native thread each) in this process, services asking over real HTTP on 127.0.0.1.
//  1. Native work generation: nanoWorkGenerate on one thread against a plain single-threaded BLAKE2b loop (the
//     generic blake2b() of the addon called once per nonce from JavaScript), alternating, best of TRIALS.
//  2. Latency: requests one at a time; added latency = request round trip − the winning worker's raw solve time
//     (its first hash to its result), i.e. what HTTP, the service, MQTT both ways and the credit cost.
//  3. Throughput: BENCH_CONCURRENCY requests in flight until BENCH_REQUESTS are answered; completed requests/s.
// Both at Banano's base threshold (fffffe0000000000, ~2^23 nonces per request) and at a trivial one
// (ff00000000000000, ~256 nonces) where the service's own cost dominates.
// Knobs (environment): BENCH_LATENCY_REQUESTS (10), BENCH_REQUESTS (12), BENCH_CONCURRENCY (4) for the base
// threshold (×10, ×40 and ×2 for the trivial one), BENCH_TRIALS (5). A request not answered within 50 s is
// counted as failed, not retried.
import { randomBytes } from 'node:crypto';
import { native } from '../src/pow/native.js';
import type { NanoWorker } from '../src/sim/nanoworker/NanoWorker.js';
import { startWorkStack, type WorkStack } from '../test/support/work.js';
import { bounded, envInt, fmt, percentile } from './harness.js';

const U64_MAX = (1n << 64n) - 1n;

function nativeRate(iterations: number): number {
  const root = randomBytes(32);
  const t = performance.now();
  // An unreachable threshold: exactly `iterations` nonces are hashed.
  native.nanoWorkGenerate(root, U64_MAX, 0n, iterations);
  return iterations / ((performance.now() - t) / 1000);
}

function plainLoopRate(iterations: number): number {
  const message = Buffer.alloc(40);
  randomBytes(32).copy(message, 8);
  let best = 0n;
  const t = performance.now();
  for (let i = 0; i < iterations; i++) {
    message.writeUInt32LE(i, 0);
    const value = native.blake2b(message, 8).readBigUInt64LE(0);
    if (value > best) best = value;
  }
  const rate = iterations / ((performance.now() - t) / 1000);
  return best === 0n ? 0 : rate;
}

interface Series {
  readonly label: string;
  readonly added: number[];
  readonly solve: number[];
  readonly rtt: number[];
  readonly perSecond: number;
  readonly concurrency: number;
  readonly failed: number;
}

async function measure(stack: WorkStack, workers: NanoWorker[], label: string, difficulty: string, latencyRequests: number, requests: number, concurrency: number): Promise<Series> {
  const solveOf = (hash: string): number | undefined => {
    for (const w of workers) {
      const p = w.published.find((x) => x.hash === hash);
      if (p !== undefined) return p.at - p.startedAt;
    }
    return undefined;
  };
  let failed = 0;
  const ask = async (): Promise<{ hash: string; rtt: number } | undefined> => {
    const hash = randomBytes(32).toString('hex').toUpperCase();
    const t = performance.now();
    const answer = await stack.rpc({ action: 'work_generate', hash, difficulty, timeout: 50, user: 'bench' });
    if (answer.error !== undefined) {
      failed += 1;
      process.stderr.write(`nano-work: ${label}: ${String(answer.error)}\n`);
      return undefined;
    }
    return { hash, rtt: performance.now() - t };
  };
  // Warm-up (threads booted, JIT warm).
  for (let i = 0; i < 3; i++) await ask();
  const added: number[] = [];
  const solve: number[] = [];
  const rtt: number[] = [];
  for (let i = 0; i < latencyRequests; i++) {
    const r = await ask();
    if (r === undefined) continue;
    // Which result won is the one the service answered with; the worker recorded when it started and finished.
    const s = solveOf(r.hash);
    if (s === undefined) continue;
    added.push(r.rtt - s);
    solve.push(s);
    rtt.push(r.rtt);
  }
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next += 1;
        await ask();
      }
    }),
  );
  const perSecond = requests / ((performance.now() - t) / 1000);
  return { label, added: added.sort((a, b) => a - b), solve: solve.sort((a, b) => a - b), rtt: rtt.sort((a, b) => a - b), perSecond, concurrency, failed };
}

export async function run(): Promise<string> {
  const latencyRequests = envInt('BENCH_LATENCY_REQUESTS', 10);
  const requests = envInt('BENCH_REQUESTS', 12);
  const concurrency = envInt('BENCH_CONCURRENCY', 4);
  const trials = envInt('BENCH_TRIALS', 5);
  return bounded('nano-work', 600_000, async (cleanup) => {
    let bestNative = 0;
    let bestPlain = 0;
    for (let i = 0; i < trials; i++) {
      bestNative = Math.max(bestNative, nativeRate(4_000_000));
      bestPlain = Math.max(bestPlain, plainLoopRate(400_000));
    }
    const stack = await startWorkStack({ broker: 'embedded', base: 'ff00000000000000', work: { maxOpenJobs: 10_000, serviceRatePerS: 1e6, serviceBurst: 1_000_000 } }, cleanup);
    const workers = await Promise.all([1, 2, 3, 4].map(() => stack.worker({ threads: 1, work: 'ondemand' })));
    const series = [
      await measure(stack, workers, 'Banano base fffffe0000000000', 'fffffe0000000000', latencyRequests, requests, concurrency),
      await measure(stack, workers, 'trivial ff00000000000000', 'ff00000000000000', latencyRequests * 10, requests * 40, concurrency * 2),
    ];
    const lines = [
      `native work generation, one thread: ${fmt(bestNative)} nonces/s; plain single-threaded BLAKE2b loop (addon blake2b per nonce from JS): ${fmt(bestPlain)} nonces/s (${(bestNative / bestPlain).toFixed(1)}×), best of ${trials}`,
      '',
      '| difficulty | completed requests/s (4 workers; in flight) | median added latency over raw solve (p90) | median raw solve | median round trip | latency samples | failed |',
      '|---|---|---|---|---|---|---|',
      ...series.map(
        (s) =>
          `| ${s.label} | ${s.perSecond.toFixed(2)} (${s.concurrency}) | ${percentile(s.added, 50).toFixed(1)} ms (${percentile(s.added, 90).toFixed(1)} ms) | ${percentile(s.solve, 50).toFixed(1)} ms | ${percentile(s.rtt, 50).toFixed(1)} ms | ${s.added.length} | ${s.failed} |`,
      ),
    ];
    return lines.join('\n');
  });
}
