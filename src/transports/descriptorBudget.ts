// Miners must never hold every file descriptor: with the open-file limit spent, the node link cannot reconnect
// (EMFILE) and every miner idles. Start-up therefore refuses a stratum.maxConnections that does not leave a
// reserve below the process's soft open-file limit (docs/hostile-peers.md "Descriptors"). The ConnectionLimiter
// counts every miner socket from accept on (handshakes included), so the reserve stays free while running.
import { readFileSync } from 'node:fs';
import { TransportError } from './errors.js';

/** Descriptors kept for the node link, listeners, HTTP, logs, files and worker threads. */
export const DESCRIPTOR_RESERVE = 256;

/**
 * The soft "Max open files" limit from Linux's /proc/self/limits text (Infinity for "unlimited"), or undefined
 * when it cannot be read (another OS): then nothing can be checked.
 */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  if (line === undefined) return undefined;
  const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Infinity;
  const value = Number(soft);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

export function readOpenFileLimit(path = '/proc/self/limits'): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Throws TransportError('FD_LIMIT') when maxConnections + reserve exceeds the open-file limit; the message names
 * both numbers and the two ways out. An unknown limit (undefined) passes: the caller logs that it was not checked.
 */
export function checkDescriptorBudget(maxConnections: number, openFileLimit: number | undefined, reserve = DESCRIPTOR_RESERVE): void {
  if (openFileLimit === undefined || maxConnections + reserve <= openFileLimit) return;
  const fits = Math.max(0, openFileLimit - reserve);
  throw new TransportError(
    'FD_LIMIT',
    `stratum.maxConnections (${maxConnections}) does not fit the open-file limit (ulimit -n: ${openFileLimit}) with ` +
      `${reserve} descriptors reserved for the node link, listeners and files: lower stratum.maxConnections to at most ` +
      `${fits}, or raise the limit to at least ${maxConnections + reserve} (e.g. LimitNOFILE= in the systemd unit)`,
  );
}
