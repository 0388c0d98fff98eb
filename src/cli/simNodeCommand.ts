// `equigate sim-node [--config FILE] [--port N] [--tls false] …`: runs the simulated node until SIGINT/SIGTERM.
import { createLogger } from '../config/logger.js';
import { SimNode, type SimJob } from '../sim/SimNode.js';
import { loadScriptFile, loadSimNodeConfig, simNodeSchema, SimNodeConfigError } from '../sim/simNodeConfig.js';

function help(): string {
  const flags = Object.entries(simNodeSchema)
    .map(([key, spec]) => {
      const s = spec as { arg?: string; doc?: string; default?: unknown };
      return s.arg ? `  --${s.arg.padEnd(18)} ${s.doc ?? ''} (default ${JSON.stringify(s.default)})\n` : `  (file only) ${key}: ${s.doc ?? ''}\n`;
    })
    .join('');
  return `usage: equigate sim-node [--config FILE.json] [flags]\n\nJSON file keys are the option names (e.g. {"port":10000,"tls":false}); flags override the file.\n\n${flags}`;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(help());
    return 0;
  }
  const rest = [...args];
  let file: string | undefined;
  const at = rest.indexOf('--config');
  if (at !== -1) {
    file = rest[at + 1];
    if (file === undefined) {
      process.stderr.write('equigate sim-node: --config needs a FILE\n');
      return 2;
    }
    rest.splice(at, 2);
  }
  let cfg;
  try {
    cfg = loadSimNodeConfig({ ...(file ? { file } : {}), args: rest });
  } catch (err) {
    if (err instanceof SimNodeConfigError) {
      process.stderr.write(`equigate sim-node: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(cfg.logLevel).child({ component: 'sim-node' });
  const node = await SimNode.start({
    ...cfg,
    ...(cfg.scriptFile ? { script: loadScriptFile(cfg.scriptFile) } : {}),
    ...(cfg.tlsCertFile ? { tlsCertFile: cfg.tlsCertFile, tlsKeyFile: cfg.tlsKeyFile } : {}),
    logger,
  });
  const logJob = (job: SimJob): void => logger.info({ id: job.id, height: job.height, newTip: job.newTip, fees: job.fees }, 'job');
  logJob(node.currentJob);
  node.on('job', logJob);
  const scheme = node.tls ? 'stratum+ssl' : 'stratum+tcp';
  process.stdout.write(`sim node: ${scheme}://${node.host}:${node.port} chain=${cfg.chain}\n`);
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  const s = node.stats();
  logger.info({ blocks: s.blocks.length, solutions: s.solutionsByCode, jobsCreated: s.jobsCreated }, 'sim node stopping');
  await node.stop();
  return 0;
}
