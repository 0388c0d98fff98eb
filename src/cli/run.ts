// Process entry: `node dist/cli/run.js …` (what bin/equigate.js loads) or `node --import tsx src/cli/run.ts …` in tests.
import { main } from './main.js';

/** Our typed errors carry a string code and a message written for the operator: no stack trace needed. */
function isCodedError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isCodedError(err)) {
      process.stderr.write(`equigate: ${err.message} [${err.code}]\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`equigate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
