// `equigate <command>`: dispatches to one module per command, loaded on demand so `pow verify` stays fast.
export const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }>> = {
  start: { summary: 'run the gateway (--config FILE)', load: () => import('./startCommand.js') },
  demo: { summary: 'sim node + gateway + reference miners on devnet (what npm start runs)', load: () => import('./demoCommand.js') },
  'sim-node': { summary: 'run the simulated Beam/Hds node (--config FILE)', load: () => import('./simNodeCommand.js') },
  miner: { summary: 'reference miner (--url … --key KEY [--miners N] [--rate R])', load: () => import('./minerCommand.js') },
  'nano-worker': { summary: 'reference Nano/Banano work worker (--mqtt URL --address ADDR [--threads N] [--work T])', load: () => import('./nanoWorkerCommand.js') },
  ledger: { summary: 'ledger report --block H --reward UNITS [--scheme pplns|prop] : reward split from the books', load: () => import('./ledgerCommand.js') },
  pow: { summary: 'pow verify … : verify solutions (see equigate pow verify --help)', load: () => import('./powCommand.js') },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: equigate <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`equigate: unknown command "${command}"\n${usage()}`);
    return 2;
  }
  const mod = await entry.load();
  return mod.run(rest);
}
