// One pino logger for the process; components take child loggers named after themselves.
// On a terminal the lines are human (pino-pretty, in process, synchronous); anywhere else (files, systemd, CI)
// they stay JSON, one object a line, for log collectors.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './schema.js';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

const OPTIONS = { base: { app: 'equigate' }, redact: ['apiKey', 'api_key', '*.apiKey', '*.api_key', 'token', '*.token'] };

/** `auto`: pretty when stderr is a TTY, JSON otherwise. A given destination always gets JSON. */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream, format: LogFormat = 'auto'): Logger {
  if (destination !== undefined) return pino({ level, ...OPTIONS }, destination);
  const human = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  if (human) {
    const stream = pretty({
      destination: 2,
      sync: true,
      colorize: true,
      singleLine: true,
      ignore: 'pid,hostname,app,component',
      messageFormat: '{if component}{component}: {end}{msg}',
      translateTime: 'HH:MM:ss.l',
    });
    return pino({ level, ...OPTIONS }, stream);
  }
  return pino({ level, ...OPTIONS }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
