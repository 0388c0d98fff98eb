// Files the gateway reads while running (api keys, TLS certificate and key, CA bundle): only regular files, read
// without ever blocking the event loop, with a size cap. A FIFO, device or directory put in a file's place would
// otherwise hang a synchronous read (a FIFO's open() waits for a writer) and with it every miner.
// Opening with O_NONBLOCK returns at once even for a FIFO; fstat on the opened descriptor then decides (no race
// between a check and the read). Regular files ignore O_NONBLOCK. See docs/hostile-peers.md "Files".
import { closeSync, constants, fstatSync, openSync, readSync, stat, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from './logger.js';

export type WatchedFileErrorCode = 'NOT_REGULAR' | 'TOO_BIG' | 'UNREADABLE';

export class WatchedFileError extends Error {
  constructor(
    readonly code: WatchedFileErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WatchedFileError';
  }
}

export interface FileContents {
  readonly data: Buffer;
  /** Identity of what was read (inode, size, mtime): a change in any of them means "read again". */
  readonly version: string;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
const READ_CHUNK = 64 * 1024;
export const MISSING_VERSION = 'missing';

function statVersionSync(path: string): string {
  try {
    return fileVersion(statSync(path));
  } catch {
    return MISSING_VERSION;
  }
}

export function fileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkStats(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new WatchedFileError('NOT_REGULAR', path, `${path} is ${kindOf(stats)}, not a regular file`);
  if (stats.size > maxBytes) throw new WatchedFileError('TOO_BIG', path, `${path} is ${stats.size} bytes, over the ${maxBytes}-byte cap`);
}

function tooBig(path: string, maxBytes: number): WatchedFileError {
  return new WatchedFileError('TOO_BIG', path, `${path} grew over the ${maxBytes}-byte cap while being read`);
}

function unreadable(path: string, error: unknown): WatchedFileError {
  if (error instanceof WatchedFileError) return error;
  const code = (error as { code?: string }).code;
  return new WatchedFileError('UNREADABLE', path, `cannot read ${path}: ${code ?? (error as Error).message}`, { cause: error });
}

/** Reads a regular file of at most `maxBytes`, asynchronously; anything else rejects with WatchedFileError. */
export async function readRegularFile(path: string, maxBytes: number): Promise<FileContents> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = await handle.stat();
    checkStats(path, stats, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooBig(path, maxBytes);
    }
    return { data: Buffer.concat(chunks, total), version: fileVersion(stats) };
  } catch (error) {
    throw unreadable(path, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The same for start-up, before anything is served: never blocks on a FIFO either. */
export function readRegularFileSync(path: string, maxBytes: number): FileContents {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = fstatSync(fd);
    checkStats(path, stats, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, maxBytes + 1 - total));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooBig(path, maxBytes);
    }
    return { data: Buffer.concat(chunks, total), version: fileVersion(stats) };
  } catch (error) {
    throw unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

export interface WatchedFileOptions {
  readonly path: string;
  readonly maxBytes: number;
  readonly logger: Logger;
  /** What the file is, for log lines ("api keys file"). */
  readonly label: string;
  /** How often the file's identity is checked (async stat). Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Called with every good read; what it throws is logged and the contents count as bad. */
  readonly onContents: (data: Buffer) => void;
  /**
   * Called, instead of logging an error, when the file does not exist. For files whose absence means something
   * (the node's api keys file: no file, no check); without it a missing file is a bad read like any other.
   */
  readonly onMissing?: () => void;
}

/**
 * Watches one file by polling its identity and re-reads it on change. A bad read (not a regular file, too big,
 * unreadable) is logged once per version of the file and changes nothing: the last good contents stay in force.
 */
export class WatchedFile {
  private attemptedVersion = '';
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly options: WatchedFileOptions) {}

  /** Start-up read, synchronous (nothing is served yet). Returns whether good contents were loaded. */
  loadSync(): boolean {
    if (this.reportedMissing(statVersionSync(this.options.path))) return false;
    try {
      const contents = readRegularFileSync(this.options.path, this.options.maxBytes);
      this.attemptedVersion = contents.version;
      return this.deliver(contents.data);
    } catch (error) {
      this.attemptedVersion = MISSING_VERSION;
      this.logFailure(error);
      return false;
    }
  }

  /** Starts polling for changes. */
  watch(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.check(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Re-reads if the file's identity changed since the last attempt (or always, with `force`). Never rejects. */
  async check(force = false): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const version = await new Promise<string>((resolve) => {
        stat(this.options.path, (err, stats) => resolve(err === null ? fileVersion(stats) : MISSING_VERSION));
      });
      if (!force && version === this.attemptedVersion) return;
      if (this.reportedMissing(version)) return;
      try {
        const contents = await readRegularFile(this.options.path, this.options.maxBytes);
        this.attemptedVersion = contents.version;
        this.deliver(contents.data);
      } catch (error) {
        // Remember the failed version too, so the error is logged once per change, not once per poll.
        this.attemptedVersion = version;
        this.logFailure(error);
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Re-reads now, synchronously, if the file's identity changed. Only for callers that must see the file as it is
   * at this instant and may block briefly (the simulated node re-reads its keys on every login, like the node);
   * it never blocks on a FIFO (readRegularFileSync).
   */
  checkSync(): void {
    const version = statVersionSync(this.options.path);
    if (version === this.attemptedVersion || this.reportedMissing(version)) return;
    try {
      const contents = readRegularFileSync(this.options.path, this.options.maxBytes);
      this.attemptedVersion = contents.version;
      this.deliver(contents.data);
    } catch (error) {
      this.attemptedVersion = version;
      this.logFailure(error);
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private reportedMissing(version: string): boolean {
    if (version !== MISSING_VERSION || this.options.onMissing === undefined) return false;
    this.attemptedVersion = MISSING_VERSION;
    this.options.onMissing();
    return true;
  }

  private deliver(data: Buffer): boolean {
    try {
      this.options.onContents(data);
      return true;
    } catch (error) {
      this.logFailure(error);
      return false;
    }
  }

  private logFailure(error: unknown): void {
    const code = error instanceof WatchedFileError ? error.code : 'UNREADABLE';
    this.options.logger.error(
      { file: this.options.path, code, problem: (error as Error).message },
      `${this.options.label} not loaded; keeping the last good contents`,
    );
  }
}
