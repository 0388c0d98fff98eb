// One pino logger for the process; components take child loggers named after themselves.
import pino, { type Logger } from 'pino';
import type { LogLevel } from './schema.js';

export type { Logger };

export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { app: 'equigate' }, redact: ['apiKey', 'api_key', '*.apiKey', '*.api_key'] },
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
