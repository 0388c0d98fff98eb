// Event API under load (docs/event-api.md): BENCH_SUBSCRIBERS (1000) WebSocket subscribers to `share` receiving
// every share while shares are announced on the bus at BENCH_RATE (5000/s) for BENCH_SECONDS (60) after
// BENCH_WARMUP_S (5). The event API runs here with its defaults (batchMs 20, maxQueueBytes 1 MiB); the
// subscribers are raw WebSocket clients in BENCH_PROCS (2) child processes: one in BENCH_PARSE_EVERY (10) parses
// every frame and times one in BENCH_SAMPLE_EVERY (20); the others count bytes, which the fixed frame size of
// these shares turns into frames. Shares are synthetic bus events (verification is bench/shares' business).
// Delivery latency = arrival in the client − the event's `time` (ms resolution, so up to 1 ms high).
// Floor, same run, same clients: a bare server that writes the same frames, batched the same way, straight to
// the same number of sockets (no bus, no JSON per event, no subscription logic): what the kernel and the
// clients cost on this machine. Memory: gateway-process RSS and heap each second over the window.
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventsConfig } from '../src/config/schema.js';
import { silentLogger } from '../src/config/logger.js';
import { EventBus } from '../src/events/EventBus.js';
import type { ShareEvent } from '../src/events/topics.js';
import { EventApiServer } from '../src/eventapi/EventApiServer.js';
import { textFrame } from '../src/eventapi/frames.js';
import { eventMessage } from '../src/eventapi/protocol.js';
import { ProvisionalStatistics } from '../src/operations/ProvisionalStatistics.js';
import { bounded, collectGarbage, envInt, fmt, sleep } from './harness.js';
import { BIN_MS, type SubscribersCommand, type SubscribersReply } from './clients/eventSubscribers.js';
import type { Teardown } from '../test/support/e2e.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Knobs {
  readonly subscribers: number;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupS: number;
  readonly procs: number;
  readonly sampleEvery: number;
  readonly parseEvery: number;
  readonly floorSeconds: number;
}

interface PhaseResult {
  readonly emitted: number;
  readonly delivered: number;
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly closed: number;
  readonly closeReasons: string[];
  readonly cpuCores: number;
  readonly rssMiB: number[];
  readonly heapMiB: number[];
}

class Procs {
  private constructor(private readonly children: ChildProcess[]) {}

  static start(count: number, cleanup: Teardown): Procs {
    const children = Array.from({ length: count }, () =>
      fork(path.join(here, 'clients', 'eventSubscribers.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    cleanup.defer(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    });
    return new Procs(children);
  }

  ask<T extends SubscribersReply['type']>(command: (i: number) => SubscribersCommand, type: T, timeoutMs: number): Promise<Array<Extract<SubscribersReply, { type: T }>>> {
    return Promise.all(
      this.children.map(
        (child, i) =>
          new Promise<Extract<SubscribersReply, { type: T }>>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`subscriber process: no ${type} within ${timeoutMs} ms`)), timeoutMs);
            const onMessage = (reply: SubscribersReply): void => {
              if (reply.type === 'error') {
                clearTimeout(timer);
                child.off('message', onMessage);
                reject(new Error(`subscriber process: ${reply.message}`));
              } else if (reply.type === type) {
                clearTimeout(timer);
                child.off('message', onMessage);
                resolve(reply as Extract<SubscribersReply, { type: T }>);
              }
            };
            child.on('message', onMessage);
            child.send(command(i));
          }),
      ),
    );
  }

  tell(command: SubscribersCommand): void {
    for (const child of this.children) child.send(command);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.send({ type: 'exit' } satisfies SubscribersCommand);
        await exited;
      }),
    );
  }
}

function share(seq: number, at: number): ShareEvent {
  return {
    sessionId: seq % 200,
    miner: `wallet${String(seq % 50).padStart(2, '0')}`, // fixed width: every frame one size
    worker: `rig${seq % 4}`,
    profile: 'default',
    remote: '127.0.0.1:40000',
    jobId: String(1000 + Math.floor(seq / 5000)),
    height: 123_456,
    nonce: seq.toString(16).padStart(16, '0'),
    code: 1,
    reason: 'share',
    shareDifficulty: 256,
    achievedDifficulty: 311.5,
    isBlockCandidate: false,
    at,
  };
}

/** Emits `rate` shares a second in 10 ms steps, catching up after a late timer; resolves with the count. */
async function emitFor(ms: number, rate: number, emit: (seq: number, at: number) => void, startSeq: number): Promise<number> {
  const start = Date.now();
  let sent = 0;
  while (Date.now() - start < ms) {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    const now = Date.now();
    while (sent < due) emit(startSeq + sent++, now);
    await sleep(10);
  }
  return sent;
}

function quantiles(reports: Array<{ bins: Record<number, number>; samples: number }>): { p50: number; p99: number; p999: number; max: number; samples: number } {
  const merged = new Map<number, number>();
  let samples = 0;
  for (const r of reports) {
    samples += r.samples;
    for (const [bin, n] of Object.entries(r.bins)) merged.set(Number(bin), (merged.get(Number(bin)) ?? 0) + n);
  }
  const sorted = [...merged.entries()].sort((a, b) => a[0] - b[0]);
  const at = (q: number): number => {
    const rank = Math.ceil(q * samples);
    let seen = 0;
    for (const [bin, n] of sorted) {
      seen += n;
      if (seen >= rank) return (bin + 1) * BIN_MS;
    }
    return Number.NaN;
  };
  const last = sorted.at(-1);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: last === undefined ? Number.NaN : (last[0] + 1) * BIN_MS, samples };
}

async function phase(
  name: string,
  knobs: Knobs,
  seconds: number,
  port: number,
  emit: (seq: number, at: number) => void,
  connectedCount: () => number,
  cleanup: Teardown,
): Promise<PhaseResult> {
  const procs = Procs.start(knobs.procs, cleanup);
  const per = (i: number): number => Math.floor(knobs.subscribers / knobs.procs) + (i < knobs.subscribers % knobs.procs ? 1 : 0);
  await procs.ask((i) => ({ type: 'start', port, count: per(i), sampleEvery: knobs.sampleEvery, parseEvery: knobs.parseEvery, topic: 'share' }), 'ready', 120_000);
  const deadline = Date.now() + 10_000;
  while (connectedCount() < knobs.subscribers && Date.now() < deadline) await sleep(20);
  await sleep(300); // every subscribe frame read
  let seq = await emitFor(knobs.warmupS * 1000, knobs.rate, emit, 0);
  await sleep(200);
  procs.tell({ type: 'reset' });
  await sleep(50);
  collectGarbage();
  const rssMiB: number[] = [];
  const heapMiB: number[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssMiB.push(m.rss / 2 ** 20);
    heapMiB.push(m.heapUsed / 2 ** 20);
  }, 1000);
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const emitted = await emitFor(seconds * 1000, knobs.rate, emit, seq);
  seq += emitted;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
  clearInterval(sampler);
  await sleep(2000); // the tail of the window arrives
  const reports = await procs.ask(() => ({ type: 'report' }), 'report', 30_000);
  await procs.stop();
  const q = quantiles(reports);
  const frameMin = Math.min(...reports.map((r) => r.frameMin));
  const frameMax = Math.max(...reports.map((r) => r.frameMax));
  if (frameMin !== frameMax) throw new Error(`share frames of ${frameMin}–${frameMax} bytes: byte counting needs one size`);
  process.stderr.write(`${name}: done (${frameMin}-byte frames)\n`);
  return {
    emitted,
    delivered: Math.round(reports.reduce((n, r) => n + r.frames + r.countedBytes / frameMin, 0)),
    samples: q.samples,
    p50: q.p50,
    p99: q.p99,
    p999: q.p999,
    max: q.max,
    closed: reports.reduce((n, r) => n + r.closed, 0),
    closeReasons: reports.flatMap((r) => r.closeReasons),
    cpuCores,
    rssMiB,
    heapMiB,
  };
}

/** The floor: upgrade by hand, then write the same batched frames straight to every socket. */
async function floorServer(batchMs: number, cleanup: Teardown): Promise<{ port: number; emit: (seq: number, at: number) => void; count: () => number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.resume(); // later frames (the subscribe) are read and ignored
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let batch: Buffer[] = [];
  const timer = setInterval(() => {
    if (batch.length === 0) return;
    const bytes = Buffer.concat(batch);
    batch = [];
    for (const socket of sockets) socket.write(bytes);
  }, batchMs);
  cleanup.defer(async () => {
    clearInterval(timer);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  // The same message the event API sends for a share, built the cheap way.
  const template = (at: number): string =>
    eventMessage('share', at, {
      outcome: 'accepted', code: 1, reason: 'share', miner: 'wallet07', worker: 'rig3', difficulty: 256, achieved_difficulty: 311.5, height: 123_456, job_id: '1000', block_candidate: false,
    });
  return { port, emit: (_seq, at) => batch.push(textFrame(template(at))), count: () => sockets.size };
}

const mib = (values: number[]): string => {
  if (values.length === 0) return 'n/a';
  const first = values[0] ?? 0;
  const last = values.at(-1) ?? 0;
  return `${fmt(first, 1)} → ${fmt(last, 1)} MiB (max ${fmt(Math.max(...values), 1)})`;
};

export async function run(): Promise<string> {
  const knobs: Knobs = {
    subscribers: envInt('BENCH_SUBSCRIBERS', 1000),
    rate: envInt('BENCH_RATE', 5000),
    seconds: envInt('BENCH_SECONDS', 60),
    warmupS: envInt('BENCH_WARMUP_S', 5),
    procs: envInt('BENCH_PROCS', 2),
    sampleEvery: envInt('BENCH_SAMPLE_EVERY', 20),
    parseEvery: envInt('BENCH_PARSE_EVERY', 10),
    floorSeconds: envInt('BENCH_FLOOR_SECONDS', 20),
  };
  return bounded('events', (knobs.seconds + knobs.floorSeconds + 2 * knobs.warmupS + 240) * 1000, async (cleanup) => {
    const config: EventsConfig = {
      host: '127.0.0.1',
      wsPort: 0,
      token: '',
      statisticsIntervalS: 300,
      heartbeatIntervalMs: 1000,
      maxClients: knobs.subscribers + 100,
      // Every subscriber comes from 127.0.0.1, standing for services on many addresses.
      maxClientsPerIp: knobs.subscribers + 100,
      maxQueueBytes: 2 ** 20,
      maxFrameBytes: 16_384,
      batchMs: 20,
      pingIntervalMs: 0, // the byte-counting subscribers answer no ping; pings are tested in test/integration/eventapi.test.ts
    };
    const bus = new EventBus();
    const statistics = new ProvisionalStatistics();
    cleanup.defer(statistics.attach(bus));
    const server = new EventApiServer({
      config,
      bus,
      statistics,
      chain: 'devnet',
      shareDifficulty: 256,
      logger: silentLogger(),
      telemetry: () => ({ sessions: { tcp: 0, tls: 0, ws: 0 }, hashrate: 0, upstream: 'logged-in', uptime: 0, version: 'bench' }),
    });
    const port = await server.listen();
    cleanup.defer(() => server.close());
    const api = await phase('event API', knobs, knobs.seconds, port, (seq, at) => bus.emit('share', share(seq, at)), () => server.stats().clients, cleanup);
    const dropped = server.stats().dropped;
    await server.close();

    const floor = await floorServer(config.batchMs, cleanup);
    const bare = await phase('floor', knobs, knobs.floorSeconds, floor.port, floor.emit, floor.count, cleanup);

    const line = (name: string, r: PhaseResult, seconds: number): string =>
      `| ${name} | ${fmt(r.emitted / seconds)} | ${fmt(r.delivered)} / ${fmt(r.emitted * knobs.subscribers)} (${fmt((100 * r.delivered) / Math.max(1, r.emitted * knobs.subscribers), 2)} %) | ` +
      `${fmt(r.p50, 1)} / ${fmt(r.p99, 1)} / ${fmt(r.p999, 1)} / ${fmt(r.max, 1)} ms (${fmt(r.samples)} samples) | ${fmt(r.cpuCores, 2)} | ${mib(r.rssMiB)} | ${mib(r.heapMiB)} |`;
    return [
      `events: ${knobs.subscribers} subscribers to share, ${knobs.rate} shares/s target, ${knobs.seconds} s window (floor ${knobs.floorSeconds} s) after ${knobs.warmupS} s warm-up; ${knobs.procs} client processes; 1 subscriber in ${knobs.parseEvery} parses every frame and times 1 in ${knobs.sampleEvery}, the others count bytes`,
      '| server | shares/s emitted | frames delivered / expected | delivery p50 / p99 / p99.9 / max | server cores | server RSS first → last s | server heap first → last s |',
      '|---|---|---|---|---|---|---|',
      line('event API (bus → frames → batched writes)', api, knobs.seconds),
      line('floor: same frames written straight to sockets', bare, knobs.floorSeconds),
      `event API clients dropped: ${JSON.stringify(dropped)}; connections closed during the window: ${api.closed}${api.closeReasons.length > 0 ? ` (${api.closeReasons.join('; ')})` : ''}`,
    ].join('\n');
  });
}
