// Process entry: `node dist/cli/run.js …` (what bin/equigate.js loads) or `node --import tsx src/cli/run.ts …` in tests.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`equigate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
