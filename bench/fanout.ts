// Job fan-out to 10,000 idle sessions next to its floor, in the same run (docs: README "Performance").
// Gateway: SimNode ← NodeLink ← Gateway in this process; per job, (last session's receipt) − (the moment before
// SimNode writes the job). Floor: a separate process with no gateway writes the same bytes (cancel + job with a
// per-session prefix, one write per socket) to the same number of sockets; per job, (last receipt) − (the moment
// before its first write). Sessions are raw TCP clients in two child processes (one per side, fd limits); jobs
// alternate between the sides (gateway first on even jobs, floor first on odd), so both see the same machine.
// Targets (the load generator shares the cores): gateway p50 ≤ 1.3 × floor p50, p99 ≤ 1.5 × floor p99.
// Knobs (environment): BENCH_SESSIONS (10000), BENCH_JOBS (200), BENCH_WARMUP (5), BENCH_GAP_MS (50 ms idle after
// each job).
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

interface Side {
  readonly last: number[];
  readonly median: number[];
}

const row = (name: string, values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `| ${name} | ${fmt(percentile(sorted, 50), 1)} | ${fmt(percentile(sorted, 99), 1)} | ${fmt(sorted[sorted.length - 1] ?? Number.NaN, 1)} |`;
};

export async function run(): Promise<string> {
  const sessions = envInt('BENCH_SESSIONS', 10_000);
  const jobs = envInt('BENCH_JOBS', 200);
  const warmup = envInt('BENCH_WARMUP', 5);
  const gapMs = envInt('BENCH_GAP_MS', 50);
  return bounded('fanout', 900_000, async (cleanup) => {
    const { node, gateway, stratumPort } = await startStack(
      // Block difficulty is irrelevant here (no solutions); tips come only from node.newTip().
      { difficulty: 1 },
      { maxConnections: sessions + 100, maxConnectionsPerIp: sessions + 100, loginTimeoutMs: 120_000 },
      cleanup,
    );
    const floor = Client.start('floor', cleanup);
    const floorListening = floor.next((m) => (m.type === 'floor-listening' ? m : undefined), 10_000, 'floor listening');
    floor.send({ type: 'floor-listen' });
    const floorPort = (await floorListening).port;
    await sleep(200);
    const before = memory();

    const open = async (client: Client, port: number): Promise<number> => {
      const ready = client.next((m) => (m.type === 'ready' ? m : undefined), 180_000, 'logins');
      client.send({ type: 'start-sessions', port, sessions, connectConcurrency: 128 });
      const r = await ready;
      if (r.failed > 0) throw new Error(`${r.failed} sessions failed to log in`);
      return r.loggedIn;
    };
    const gatewayClient = Client.start('sessions', cleanup);
    const floorClient = Client.start('sessions', cleanup);
    const loginStart = wallClockMs();
    const loggedIn = await open(gatewayClient, stratumPort);
    const loginMs = wallClockMs() - loginStart;
    if (gateway.hub.loggedInCount !== loggedIn) throw new Error(`gateway counts ${gateway.hub.loggedInCount} sessions, clients ${loggedIn}`);
    await sleep(1000);
    const idle = memory();
    await open(floorClient, floorPort);
    await sleep(1000);

    const gatewaySide: Side = { last: [], median: [] };
    const floorSide: Side = { last: [], median: [] };
    const measureGateway = async (record: boolean): Promise<void> => {
      const receipt = gatewayClient.next((m) => (m.type === 'job' ? m : undefined), 30_000, 'gateway job');
      const sentAt = wallClockMs();
      node.newTip();
      const got: JobReceipt = await receipt;
      if (!record) return;
      gatewaySide.last.push(got.lastMs - sentAt);
      gatewaySide.median.push(got.medianMs - sentAt);
    };
    const measureFloor = async (record: boolean): Promise<void> => {
      const receipt = floorClient.next((m) => (m.type === 'job' ? m : undefined), 30_000, 'floor job');
      const sent = floor.next((m) => (m.type === 'floor-sent' ? m : undefined), 30_000, 'floor sent');
      floor.send({ type: 'floor-job' });
      const [got, at] = await Promise.all([receipt, sent]);
      if (!record) return;
      floorSide.last.push(got.lastMs - at.sentAt);
      floorSide.median.push(got.medianMs - at.sentAt);
    };
    const started = wallClockMs();
    for (let j = 0; j < warmup + jobs; j++) {
      const record = j >= warmup;
      const order = j % 2 === 0 ? [measureGateway, measureFloor] : [measureFloor, measureGateway];
      for (const measure of order) {
        await measure(record);
        await sleep(gapMs);
      }
    }
    const seconds = (wallClockMs() - started) / 1000;
    const busy = memory();

    const p = (values: number[], q: number): number => percentile([...values].sort((a, b) => a - b), q);
    const ratio50 = p(gatewaySide.last, 50) / p(floorSide.last, 50);
    const ratio99 = p(gatewaySide.last, 99) / p(floorSide.last, 99);
    const n = loggedIn;
    const kib = (bytes: number): string => fmt(bytes / n / 1024, 2);
    return [
      `Fan-out: ${fmt(n)} logged-in TCP sessions on each side (node ${process.version}); gateway logins took ${fmt(loginMs)} ms; ` +
        `${jobs} jobs per side after ${warmup} warm-up, alternating, ${gapMs} ms apart (${fmt(seconds, 0)} s).`,
      `Per job: last (median) session's receipt − the moment before the job was written (gateway: before SimNode writes it, ` +
        `so the node link is included; floor: before its first socket.write). Clock: performance.timeOrigin + performance.now() in every process.`,
      '',
      '| per job | p50 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|',
      row(`gateway, last of ${fmt(n)}`, gatewaySide.last),
      row(`floor, last of ${fmt(n)}`, floorSide.last),
      row('gateway, median session', gatewaySide.median),
      row('floor, median session', floorSide.median),
      '',
      `Ratios (last session): p50 ${fmt(ratio50, 2)}× (target ≤ 1.3×: ${ratio50 <= 1.3 ? 'met' : 'NOT met'}), ` +
        `p99 ${fmt(ratio99, 2)}× (target ≤ 1.5×: ${ratio99 <= 1.5 ? 'met' : 'NOT met'}).`,
      '',
      `Gateway process memory after GC (SimNode included, constant): before clients RSS ${fmt(before.rss / 2 ** 20, 1)} MiB, ` +
        `heap ${fmt(before.heapUsed / 2 ** 20, 1)} MiB; ${fmt(n)} idle sessions RSS ${fmt(idle.rss / 2 ** 20, 1)} MiB, ` +
        `heap ${fmt(idle.heapUsed / 2 ** 20, 1)} MiB; after the jobs RSS ${fmt(busy.rss / 2 ** 20, 1)} MiB.`,
      `Per idle session: RSS ${kib(idle.rss - before.rss)} KiB, V8 heap ${kib(idle.heapUsed - before.heapUsed)} KiB, ` +
        `external ${kib(idle.external - before.external)} KiB.`,
    ].join('\n');
  });
}
