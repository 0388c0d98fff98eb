// `equigate demo` (what `npm start` runs): a simulated devnet node, the gateway in front of it and a few
// reference miners, all in this process on loopback, so a newcomer sees jobs, shares and blocks at once.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../config/logger.js';
import { EventBus } from '../events/EventBus.js';
import { Gateway } from '../Gateway.js';
import { TransportError } from '../transports/errors.js';
import { startMiners } from '../sim/refminer/ReferenceMiner.js';
import { SimNode } from '../sim/SimNode.js';
import { runUntilSignal } from './signals.js';
import { startDemoWork, freeLoopbackPort } from './demoWork.js';

const USAGE = `usage: equigate demo [--stratum-port P] [--http-port P] [--events-port P] [--mqtt-port P] [--miners N] [--block-difficulty D] [--rate SHARES_PER_S_PER_MINER] [--duration SECONDS] [--log-level L]
Starts a simulated devnet node, the gateway (stratum on 127.0.0.1) and N reference miners, and the work service
(MQTT on 127.0.0.1, a free port unless given) with one reference Nano worker; Ctrl-C stops.
The dashboard is on http://127.0.0.1:HTTP_PORT/ (default 8080; the work RPC is POST / there), the event API on
ws://127.0.0.1:EVENTS_PORT (8081); 0 = off.
`;

interface Tally {
  jobs: number;
  tips: number;
  sharesAccepted: number;
  sharesRejected: number;
  blocksSubmitted: number;
  blocksAccepted: number;
}

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        'stratum-port': { type: 'string', default: '3333' },
        'http-port': { type: 'string', default: '8080' },
        'events-port': { type: 'string', default: '8081' },
        miners: { type: 'string', default: '4' },
        'block-difficulty': { type: 'string', default: '50' },
        rate: { type: 'string', default: '5' },
        duration: { type: 'string', default: '0' },
        'log-level': { type: 'string', default: 'warn' },
        'mqtt-port': { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`equigate demo: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = Number(values['stratum-port']);
  const miners = Number(values.miners);
  const blockDifficulty = Number(values['block-difficulty']);
  const durationS = Number(values.duration);
  const rate = Number(values.rate);
  const httpPort = Number(values['http-port']);
  const eventsPort = Number(values['events-port']);
  if (
    ![port, miners, blockDifficulty, durationS, rate, httpPort, eventsPort].every(Number.isFinite) ||
    port < 1 ||
    miners < 1 ||
    blockDifficulty < 1 ||
    httpPort < 0 ||
    eventsPort < 0
  ) {
    process.stderr.write(`equigate demo: numeric options expected (port 1–65535, miners and block difficulty ≥ 1)\n${USAGE}`);
    return 2;
  }

  const config = loadConfig({
    args: [],
    overrides: {
      chain: 'devnet',
      log: { level: values['log-level'] },
      stratum: { host: '127.0.0.1', port, shareDifficulty: 1, minerJobLatencyMs: 1000 },
      http: { host: '127.0.0.1', port: httpPort },
      events: { host: '127.0.0.1', wsPort: eventsPort },
      // The work service beside stratum (docs/work-service.md): embedded broker, RPC on the HTTP listener.
      mqtt: { host: '127.0.0.1', port: Number(values['mqtt-port']) || (await freeLoopbackPort()) },
      work: { enabled: true },
      // Books: a fresh SQLite file under ./data/ per run (docs/ledger.md "The demo's books"), unless the env names one.
      ...(process.env.EQUIGATE_LEDGER_URL === undefined ? { ledger: { url: `sqlite:./data/demo-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.sqlite` } } : {}),
    },
  });
  const logger = createLogger(config.log.level, undefined, config.log.format);
  const node = await SimNode.start({
    chain: 'devnet',
    tls: true,
    difficulty: blockDifficulty,
    blockIntervalMs: 20_000,
    txIntervalMs: 3_000,
    minerJobLatencyMs: 1000,
    logger: logger.child({ component: 'sim-node' }),
  });
  const bus = new EventBus();
  const tally: Tally = { jobs: 0, tips: 0, sharesAccepted: 0, sharesRejected: 0, blocksSubmitted: 0, blocksAccepted: 0 };
  bus.subscribe('job', 'demo-printer', (job) => {
    tally.jobs += 1;
    if (job.newTip) tally.tips += 1;
  });
  bus.subscribe('share', 'demo-printer', (share) => {
    if (share.code === 1) tally.sharesAccepted += 1;
    else tally.sharesRejected += 1;
  });
  bus.subscribe('block', 'demo-printer', (block) => {
    if (block.status === 'submitted') tally.blocksSubmitted += 1;
    if (block.status === 'accepted') {
      tally.blocksAccepted += 1;
      say(`block found: height ${block.height} by ${block.miner}, accepted by the node, hash ${block.blockHash ?? '?'}`);
    } else if (block.status !== 'submitted') {
      say(`block at height ${block.height} by ${block.miner}: ${block.status}`);
    }
  });

  let gateway: Gateway;
  try {
    gateway = await Gateway.start(
      { ...config, upstream: { ...config.upstream, host: '127.0.0.1', port: node.port, tls: true, apiKey: 'demo-gateway-key' } },
      { logger, bus },
    );
  } catch (err) {
    await node.stop();
    if (err instanceof TransportError && err.code === 'LISTEN_FAILED') {
      process.stderr.write(`equigate demo: port ${port} is taken; choose another: npm start -- --stratum-port N\n`);
    } else if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`equigate demo: the HTTP or event API port is taken; choose others: npm start -- --http-port N --events-port M (0 = off)\n`);
    }
    throw err;
  }
  const stratumPort = gateway.ports.tcp ?? port;
  const group = startMiners({
    url: `stratum+tcp://127.0.0.1:${stratumPort}`,
    key: 'demo-miner-key',
    miners,
    // A devnet solution takes about a millisecond; the cap keeps the demo readable (and the tips few).
    rate,
    chain: 'devnet',
    statsIntervalMs: 0,
    logger: logger.child({ component: 'demo-miners' }),
  });
  say(`simulated devnet node on 127.0.0.1:${node.port} (TLS), block difficulty ${blockDifficulty}`);
  say(`gateway stratum on stratum+tcp://127.0.0.1:${stratumPort}; ${miners} reference miners connected to it`);
  if (gateway.operations.httpPort !== undefined) {
    say(`dashboard: http://127.0.0.1:${gateway.operations.httpPort}/  (metrics: /metrics, readiness: /ready)`);
  }
  if (gateway.operations.eventsPort !== undefined) say(`event API: ws://127.0.0.1:${gateway.operations.eventsPort} (docs/event-api.md)`);
  say(`add your own: equigate miner --url stratum+tcp://127.0.0.1:${stratumPort} --key any-key-8chars`);
  const work = await startDemoWork(gateway, bus, say);
  say(`books: ${config.ledger.url} (reward split of a block: npx equigate ledger report --ledger-url ${config.ledger.url} --block HEIGHT --reward 8000000000)`);
  say('Ctrl-C stops everything gracefully.');

  const report = (): void =>
    say(
      `jobs ${tally.jobs} (tips ${tally.tips}) | shares accepted ${tally.sharesAccepted}, rejected ${tally.sharesRejected} | ` +
        `blocks submitted ${tally.blocksSubmitted}, accepted ${tally.blocksAccepted} | sessions ${gateway.hub.loggedInCount}`,
    );
  const ticker = setInterval(report, 5000);
  ticker.unref();
  const stopAll = async (): Promise<void> => {
    clearInterval(ticker);
    await work.stop();
    await group.stop();
    await gateway.stop();
    await node.stop();
    report();
    say(`demo summary: blocks found ${tally.blocksAccepted}, shares accepted ${tally.sharesAccepted}, work requests answered ${work.answered()}`);
  };
  if (durationS > 0) {
    setTimeout(() => process.kill(process.pid, 'SIGINT'), durationS * 1000).unref();
  }
  return runUntilSignal({ logger, stop: stopAll, shutdownTimeoutMs: config.shutdownTimeoutMs });
}

function say(text: string): void {
  process.stdout.write(`[demo ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}
