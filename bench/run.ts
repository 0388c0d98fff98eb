// Benchmark runner: `node --import tsx bench/run.ts <name>` imports ./<name>.ts and prints run().
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  run: () => Promise<string>;
}

function isBenchModule(m: unknown): m is BenchModule {
  return typeof m === 'object' && m !== null && typeof (m as { run?: unknown }).run === 'function';
}

const name = process.argv[2];
if (!name || !/^[\w-]+$/.test(name)) {
  process.stderr.write('usage: node --import tsx bench/run.ts <name>   (runs bench/<name>.ts: fanout, shares, socketwrite, verify, nano-work)\n');
  process.exit(2);
}
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `${name}.ts`);
const mod: unknown = await import(pathToFileURL(file).href);
if (!isBenchModule(mod)) {
  process.stderr.write(`bench/${name}.ts does not export run(): Promise<string>\n`);
  process.exit(2);
}
process.stdout.write(`${await mod.run()}\n`);
