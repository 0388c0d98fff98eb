// The demo's work-service part (docs/work-service.md): one reference Nano worker on the embedded broker, and a
// work_generate sent to the gateway's HTTP RPC now and every 15 s, each answer printed.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { EventBus } from '../events/EventBus.js';
import type { Gateway } from '../Gateway.js';
import { NanoWorker } from '../sim/nanoworker/NanoWorker.js';

/** Demo payout address (a valid Banano account; the demo credits it in memory only). */
const DEMO_ADDRESS = 'ban_1boompow14irck1yauquqypt7afqrh8b6bbu5r93pc6hgbqs7z6o99frcuym';
const REQUEST_EVERY_MS = 15_000;

export interface DemoWork {
  answered(): number;
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startDemoWork(gateway: Gateway, bus: EventBus, say: (text: string) => void): Promise<DemoWork> {
  const side = gateway.work;
  if (side === undefined) throw new Error('the demo runs with work.enabled');
  const mqttUrl = `mqtt://127.0.0.1:${side.mqttPort ?? 0}`;
  const worker = await NanoWorker.start({ url: mqttUrl, address: DEMO_ADDRESS, threads: 1, work: 'any' });
  let answered = 0;
  const off = bus.subscribe('work', 'demo-printer', (event) => {
    if (event.success !== 'true') return;
    answered += 1;
    say(`work request answered in ${event.duration} ms: hash ${event.request.hash.slice(0, 16)}…, work ${event.result?.work ?? '?'} (multiplier ${Number(event.result?.multiplier).toFixed(2)}) by ${event.result?.source.slice(0, 16) ?? '?'}…`);
  });
  say(`work service: MQTT ${mqttUrl}, RPC http://127.0.0.1:${side.httpPort}/ (work_generate), 1 reference Nano worker`);
  say(`add a worker: equigate nano-worker --mqtt ${mqttUrl} --address ban_…`);
  let stopped = false;
  const ask = async (): Promise<void> => {
    const hash = randomBytes(32).toString('hex').toUpperCase();
    try {
      const res = await fetch(`http://127.0.0.1:${side.httpPort}/`, {
        method: 'POST',
        body: JSON.stringify({ action: 'work_generate', hash, user: 'demo-wallet', timeout: 30 }),
      });
      const body = (await res.json()) as { error?: string };
      if (body.error !== undefined && !stopped) say(`work request failed: ${body.error}`);
    } catch (err) {
      if (!stopped) say(`work request failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  void ask();
  const timer = setInterval(() => void ask(), REQUEST_EVERY_MS);
  timer.unref();
  return {
    answered: () => answered,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      off();
      await worker.stop();
    },
  };
}
