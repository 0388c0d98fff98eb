// A real pino logger (src/config/logger.ts) writing JSON lines into an array, for tests that assert what was logged.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/config/logger.js';

export function capturedLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}
