// The floor under bench/fanout: what one Node thread pays per socket.write of a job-sized line on loopback TCP,
// with no gateway at all. BENCH_PAIRS (5000) connected pairs in this process (two fds each), ten rounds.
import net from 'node:net';
import { bounded, envInt, fmt, percentile, sleep } from './harness.js';

export async function run(): Promise<string> {
  const pairs = envInt('BENCH_PAIRS', 5000);
  const rounds = 10;
  return bounded('socketwrite', 120_000, async (cleanup) => {
    const server = net.createServer();
    const accepted: net.Socket[] = [];
    const dialled: net.Socket[] = [];
    cleanup.defer(() => {
      for (const s of [...accepted, ...dialled]) s.destroy();
      server.close();
    });
    server.on('connection', (s) => {
      s.setNoDelay(true);
      accepted.push(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening');
    for (let i = 0; i < pairs; i += 100) {
      const batch = Array.from({ length: Math.min(100, pairs - i) }, () =>
        new Promise<void>((resolve, reject) => {
          const c = net.connect(address.port, '127.0.0.1', resolve);
          c.on('error', reject);
          c.on('data', () => {});
          dialled.push(c);
        }));
      await Promise.all(batch);
    }
    while (accepted.length < pairs) await sleep(10);
    // As long as a job line with a 4-digit prefix (and its cancel would add ~50 bytes).
    const line = `{"method":"job","id":"12","input":"${'ab'.repeat(32)}","height":12,"difficulty":16777216,"nonceprefix":"00ab","jsonrpc":"2.0"}\n`;
    const perWrite: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (const s of accepted) s.write(line);
      perWrite.push(((performance.now() - t) * 1000) / pairs);
      await sleep(200);
    }
    perWrite.sort((a, b) => a - b);
    const p50 = percentile(perWrite, 50);
    return [
      `Loopback socket.write floor: ${fmt(pairs)} connected pairs in one process, a ${line.length}-byte line to each, ` +
        `${rounds} rounds (node ${process.version}).`,
      `Per write: p50 ${fmt(p50, 2)} µs, best ${fmt(perWrite[0] ?? Number.NaN, 2)} µs, worst ${fmt(perWrite[perWrite.length - 1] ?? Number.NaN, 2)} µs ` +
        `⇒ ${fmt((p50 * 10_000) / 1000, 1)} ms to write once to 10,000 sockets from one thread.`,
    ].join('\n');
  });
}
