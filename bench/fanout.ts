// Job fan-out to 10,000 idle sessions, and what an idle session costs (targets: p99 < 100 ms, < 20 KiB/session).
// SimNode ← NodeLink ← Gateway run here; the sessions are raw TCP clients in child processes. Per job:
// (last session's receipt) − (the moment before SimNode writes the job), on wallClockMs in both processes.
// Knobs (environment): BENCH_SESSIONS (10000), BENCH_CLIENTS (1 process), BENCH_JOBS (30), BENCH_WARMUP (3),
// BENCH_GAP_MS (200 ms idle between jobs).
import { bounded, Client, collectGarbage, envInt, fmt, percentile, sleep, startStack, wallClockMs } from './harness.js';
import type { JobReceipt } from './clients/protocol.js';

interface Mem {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

function memory(): Mem {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

export async function run(): Promise<string> {
  const sessions = envInt('BENCH_SESSIONS', 10_000);
  const clientCount = envInt('BENCH_CLIENTS', 1);
  const jobs = envInt('BENCH_JOBS', 30);
  const warmup = envInt('BENCH_WARMUP', 3);
  const gapMs = envInt('BENCH_GAP_MS', 200);
  return bounded('fanout', 300_000, async (cleanup) => {
    const { node, gateway, stratumPort } = await startStack(
      // Block difficulty is irrelevant here (no solutions); tips come only from node.newTip().
      { difficulty: 1 },
      { maxConnections: sessions + 100, maxConnectionsPerIp: sessions + 100, loginTimeoutMs: 120_000 },
      cleanup,
    );
    await sleep(200);
    const before = memory();

    const clients = Array.from({ length: clientCount }, () => Client.start('sessions', cleanup));
    const share = (i: number): number => Math.floor(sessions / clientCount) + (i < sessions % clientCount ? 1 : 0);
    const loginStart = wallClockMs();
    const ready = await Promise.all(
      clients.map((client, i) => {
        const answer = client.next((m) => (m.type === 'ready' ? m : undefined), 120_000, 'logins');
        client.send({ type: 'start-sessions', port: stratumPort, sessions: share(i), connectConcurrency: 128 });
        return answer;
      }),
    );
    const loginMs = wallClockMs() - loginStart;
    const loggedIn = ready.reduce((n, r) => n + r.loggedIn, 0);
    const failed = ready.reduce((n, r) => n + r.failed, 0);
    if (gateway.hub.loggedInCount !== loggedIn) throw new Error(`gateway counts ${gateway.hub.loggedInCount} sessions, clients ${loggedIn}`);
    await sleep(1000);
    const idle = memory();

    // The bus announces a job right after the fan-out has it; this nextTick runs after the transports' flush of
    // that tick, i.e. once the gateway has handed the job to the kernel for every session.
    let writtenAt = Number.NaN;
    cleanup.defer(
      gateway.bus.subscribe('job', 'bench-fanout', () => {
        process.nextTick(() => {
          writtenAt = wallClockMs();
        });
      }),
    );
    const last: number[] = [];
    const median: number[] = [];
    const written: number[] = [];
    for (let j = 0; j < warmup + jobs; j++) {
      const receipts = clients.map((client) => client.next((m) => (m.type === 'job' ? m : undefined), 20_000, `job ${j + 1}`));
      const sentAt = wallClockMs();
      node.newTip();
      const got: JobReceipt[] = await Promise.all(receipts);
      if (j >= warmup) {
        last.push(Math.max(...got.map((r) => r.lastMs)) - sentAt);
        median.push(Math.max(...got.map((r) => r.medianMs)) - sentAt);
        written.push(writtenAt - sentAt);
      }
      await sleep(gapMs);
    }
    const busy = memory();

    last.sort((a, b) => a - b);
    median.sort((a, b) => a - b);
    written.sort((a, b) => a - b);
    const n = loggedIn;
    const kib = (bytes: number): string => fmt(bytes / n / 1024, 2);
    return [
      `Fan-out: ${fmt(n)} logged-in TCP sessions (${failed} failed to log in) in ${clientCount} client process(es), ` +
        `SimNode ← NodeLink ← Gateway in this process (node ${process.version}); logins took ${fmt(loginMs)} ms.`,
      `Per job: last session's receipt − the moment before SimNode wrote the job (new tip: cancel + job lines), ` +
        `${jobs} jobs after ${warmup} warm-up, ${gapMs} ms apart; clock: performance.timeOrigin + performance.now() in both processes.`,
      '',
      '| per job | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|',
      `| last of ${fmt(n)} sessions | ${fmt(percentile(last, 50), 1)} | ${fmt(percentile(last, 99), 1)} | ${fmt(last[last.length - 1] ?? Number.NaN, 1)} |`,
      `| median session | ${fmt(percentile(median, 50), 1)} | ${fmt(percentile(median, 99), 1)} | ${fmt(median[median.length - 1] ?? Number.NaN, 1)} |`,
      `| gateway done writing to all (in-process) | ${fmt(percentile(written, 50), 1)} | ${fmt(percentile(written, 99), 1)} | ${fmt(written[written.length - 1] ?? Number.NaN, 1)} |`,
      '',
      `Gateway process memory after GC (SimNode included, constant): before clients RSS ${fmt(before.rss / 2 ** 20, 1)} MiB, ` +
        `heap ${fmt(before.heapUsed / 2 ** 20, 1)} MiB; ${fmt(n)} idle sessions RSS ${fmt(idle.rss / 2 ** 20, 1)} MiB, ` +
        `heap ${fmt(idle.heapUsed / 2 ** 20, 1)} MiB; after the jobs RSS ${fmt(busy.rss / 2 ** 20, 1)} MiB.`,
      `Per idle session: RSS ${kib(idle.rss - before.rss)} KiB, V8 heap ${kib(idle.heapUsed - before.heapUsed)} KiB, ` +
        `external ${kib(idle.external - before.external)} KiB.`,
    ].join('\n');
  });
}
