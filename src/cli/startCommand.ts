// `equigate start [--config FILE] [--<flag> value …]`: runs the gateway until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../config/logger.js';
import { Gateway } from '../Gateway.js';
import { TransportError } from '../transports/errors.js';
import { runUntilSignal } from './signals.js';

const USAGE = `usage: equigate start [--config FILE] [--chain NAME] [--upstream-host H] [--upstream-port P] …
Every config key can also come from the file or an EQUIGATE_* environment variable; see README "Configuration".
`;

export async function run(args: string[]): Promise<number> {
  let configFile: string | undefined;
  try {
    // Only --config is ours; every other flag is convict's (it reads them from the same argv).
    const parsed = parseArgs({ args, options: { config: { type: 'string' }, help: { type: 'boolean' } }, strict: false });
    if (parsed.values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    configFile = typeof parsed.values.config === 'string' ? parsed.values.config : undefined;
  } catch (err) {
    process.stderr.write(`equigate start: ${String(err)}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig({ file: configFile, args });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`equigate start: bad configuration: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.log.level, undefined, config.log.format);
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { logger });
  } catch (err) {
    // Start-up refusals (descriptor budget, certificate, port in use) are the operator's to fix: say so plainly.
    if (err instanceof TransportError) {
      process.stderr.write(`equigate start: ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return runUntilSignal({
    logger,
    stop: () => gateway.stop(),
    reload: () => gateway.reload(),
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
}
