// `equigate miner --url URL --key KEY [--miners N] [--rate R] …`: reference miners until SIGINT/SIGTERM or --duration.
import { parseArgs } from 'node:util';
import { createLogger } from '../config/logger.js';
import type { LogLevel } from '../config/schema.js';
import { isChainName } from '../pow/variants.js';
import { loadReplayFile, MinerConfigError, startMiners, type MinerOptions } from '../sim/refminer/ReferenceMiner.js';
import { MinerLinkError } from '../sim/refminer/minerLink.js';

const USAGE = `usage: equigate miner --url URL --key KEY [options]

  --url URL            stratum+tcp://HOST:PORT | stratum+ssl://HOST:PORT | ws://HOST:PORT | wss://HOST:PORT
  --key KEY            api key sent in login
  --miners N           connections in this process (default 1)
  --rate R             most solutions submitted per second per connection (default: no cap)
  --ignore-nonceprefix pick random 64-bit nonces, ignoring nonceprefix (like miners without prefix support)
  --nonces-per-second N  most nonces tried per second per connection: a simulated hashrate (default: no cap)
  --chain NAME         devnet (solved for real, default) | beam-mainnet | beam-testnet | beam-masternet | hds
  --replay FILE        known solutions (JSON array of {input,nonce,output} or a vectors file) for jobs whose input matches
  --workers N          solver threads shared by all connections (default 1)
  --tls-verify         verify the server certificate (stratum+ssl, wss); off by default
  --duration S         stop after S seconds (default: run until SIGINT/SIGTERM)
  --stats-interval MS  periodic stats log line (default 10000; 0 = off)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
`;

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function num(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new MinerConfigError(`--${name} must be a non-negative number`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  let opts: MinerOptions;
  let durationS: number;
  let level: LogLevel;
  try {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        miners: { type: 'string' },
        rate: { type: 'string' },
        'ignore-nonceprefix': { type: 'boolean' },
        'nonces-per-second': { type: 'string' },
        chain: { type: 'string' },
        replay: { type: 'string' },
        workers: { type: 'string' },
        'tls-verify': { type: 'boolean' },
        duration: { type: 'string' },
        'stats-interval': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!values.url || values.key === undefined) throw new MinerConfigError('--url and --key are required');
    const chain = values.chain ?? 'devnet';
    if (!isChainName(chain)) throw new MinerConfigError(`unknown chain ${chain}`);
    const lvl = values['log-level'] ?? 'info';
    if (!(LEVELS as readonly string[]).includes(lvl)) throw new MinerConfigError(`unknown log level ${lvl}`);
    level = lvl as LogLevel;
    durationS = num(values.duration, 'duration', 0);
    opts = {
      url: values.url,
      key: values.key,
      miners: num(values.miners, 'miners', 1),
      rate: num(values.rate, 'rate', 0),
      ignoreNoncePrefix: values['ignore-nonceprefix'] ?? false,
      noncesPerSecond: num(values['nonces-per-second'], 'nonces-per-second', 0),
      chain,
      workers: Math.max(1, num(values.workers, 'workers', 1)),
      tlsVerify: values['tls-verify'] ?? false,
      statsIntervalMs: num(values['stats-interval'], 'stats-interval', 10000),
      ...(values.replay ? { replay: loadReplayFile(values.replay) } : {}),
    };
  } catch (err) {
    if (err instanceof MinerConfigError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`equigate miner: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(level).child({ component: 'miner' });
  let group;
  try {
    group = startMiners({ ...opts, logger });
  } catch (err) {
    if (err instanceof MinerConfigError || err instanceof MinerLinkError) {
      process.stderr.write(`equigate miner: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  logger.info({ url: opts.url, miners: opts.miners, rate: opts.rate, chain: opts.chain }, 'miners started');
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (durationS > 0) setTimeout(done, durationS * 1000).unref();
  });
  await group.stop();
  const s = group.stats();
  const line = `miner: submitted=${s.submitted} accepted=${s.accepted} rejected=${s.rejected} results=${JSON.stringify(s.results)} blocks=${s.blockHashes.length} reconnects=${s.reconnects}\n`;
  process.stdout.write(line);
  logger.info({ submitted: s.submitted, results: s.results, accepted: s.accepted, rejected: s.rejected }, 'miner stats (exit)');
  return 0;
}
