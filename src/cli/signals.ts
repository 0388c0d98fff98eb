// Process signal handling shared by the long-running commands: SIGINT/SIGTERM stop gracefully (a second
// signal, or the shutdown timeout, forces the exit), SIGHUP reloads.
import type { Logger } from '../config/logger.js';

export interface SignalOptions {
  readonly logger: Logger;
  readonly stop: () => Promise<void>;
  readonly reload?: () => void;
  readonly shutdownTimeoutMs: number;
}

/** Resolves with the exit code once a stop signal has been handled. */
export function runUntilSignal(options: SignalOptions): Promise<number> {
  const { logger } = options;
  return new Promise((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: exiting without waiting');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'stop signal: shutting down gracefully');
      const force = setTimeout(() => {
        logger.error({ timeoutMs: options.shutdownTimeoutMs }, 'graceful shutdown timed out: exiting');
        logger.flush();
        process.exit(1);
      }, options.shutdownTimeoutMs);
      force.unref();
      const settle = (code: number): void => {
        clearTimeout(force);
        process.off('SIGINT', onStop).off('SIGTERM', onStop).off('SIGHUP', onReload);
        logger.flush();
        resolve(code);
      };
      options.stop().then(
        () => settle(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          settle(1);
        },
      );
    };
    const onReload = (): void => {
      logger.info('SIGHUP: reloading');
      try {
        options.reload?.();
      } catch (err) {
        logger.error({ err }, 'reload failed; keeping the previous state');
      }
    };
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
    process.on('SIGHUP', onReload);
  });
}
