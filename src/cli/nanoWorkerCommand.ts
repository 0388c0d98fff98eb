// `equigate nano-worker --mqtt URL --address ADDR [--threads N] [--work ondemand|precache|any]`: the reference
// BoomPow worker (docs/work-service.md "Reference worker") until SIGINT/SIGTERM.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../config/logger.js';
import { NanoWorker, type WorkChoice } from '../sim/nanoworker/NanoWorker.js';
import { checkAccount } from '../work/account.js';
import { runUntilSignal } from './signals.js';

const USAGE = `usage: equigate nano-worker --mqtt URL --address ADDR [options]

  --mqtt URL           the work service's MQTT broker, e.g. mqtt://127.0.0.1:1883
  --address ADDR       payout address (ban_… or nano_…, checksum checked)
  --threads N          work threads (default: CPU count)
  --work TYPE          ondemand | precache | any (default any; on-demand always first)
  --username U         MQTT username (default client)
  --password P         MQTT password (default empty)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
`;

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        mqtt: { type: 'string' },
        address: { type: 'string' },
        threads: { type: 'string' },
        work: { type: 'string', default: 'any' },
        username: { type: 'string', default: 'client' },
        password: { type: 'string', default: '' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`equigate nano-worker: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const threads = values.threads === undefined ? os.availableParallelism() : Number(values.threads);
  const work = values.work as WorkChoice;
  const problems: string[] = [];
  if (values.mqtt === undefined || !/^(mqtts?|wss?|tcp):\/\//.test(values.mqtt)) problems.push('--mqtt URL (mqtt://HOST:PORT) is required');
  if (values.address === undefined || !checkAccount(values.address).ok) problems.push('--address must be a valid ban_… or nano_… address');
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) problems.push('--threads must be an integer in 1..256');
  if (!['ondemand', 'precache', 'any'].includes(work)) problems.push('--work must be ondemand, precache or any');
  if (problems.length > 0) {
    process.stderr.write(`equigate nano-worker: ${problems.join('; ')}\n${USAGE}`);
    return 2;
  }
  const logger = createLogger(values['log-level'] as 'info');
  const worker = await NanoWorker.start({
    url: values.mqtt as string,
    address: values.address as string,
    threads,
    work,
    username: values.username,
    password: values.password,
    logger,
  });
  logger.info({ url: values.mqtt, address: values.address, threads, work }, 'nano worker running');
  const stats = setInterval(() => logger.info({ published: worker.published.length, cancels: worker.cancels.length, hashes: worker.hashesTried }, 'nano worker'), 30_000);
  stats.unref();
  return runUntilSignal({
    logger,
    stop: async () => {
      clearInterval(stats);
      await worker.stop();
    },
    shutdownTimeoutMs: 5000,
  });
}
