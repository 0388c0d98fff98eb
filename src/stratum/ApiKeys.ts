// Miner api keys, in the node's own file format. spec: docs/node-protocol.md — one key per line, lines shorter than
// 8 characters ignored, reloaded when the file's mtime changes (no restart).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../config/logger.js';
import { WatchedFile } from '../config/watchedFile.js';

export const MIN_API_KEY_LENGTH = 8;
/** Largest keys file read (about 100,000 keys); a bigger one is refused and the last good keys stay. */
export const MAX_API_KEYS_FILE_BYTES = 4 * 1024 * 1024;

/** What the login handler needs: a yes/no on a key, and whether access is open (no keys file). */
export interface ApiKeyChecker {
  readonly openAccess: boolean;
  isAllowed(apiKey: string): boolean;
}

export interface ApiKeysOptions {
  /** stratum.apiKeysFile; '' = open access. */
  readonly file: string;
  readonly logger: Logger;
  /** How often the file's identity (inode, size, mtime) is checked. */
  readonly pollIntervalMs?: number;
  /**
   * The node's own rule (docs/node-protocol.md "Transport and keys"): a configured file that does not exist means
   * no check. Off for the gateway, whose missing file fails closed; on for the simulated node.
   */
  readonly missingFileAllowsAll?: boolean;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Parses the file's text: trimmed lines of at least 8 characters (docs/node-protocol.md). */
export function parseApiKeys(text: string): string[] {
  const keys: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.length >= MIN_API_KEY_LENGTH) keys.push(line);
  }
  return keys;
}

export class ApiKeys implements ApiKeyChecker {
  readonly openAccess: boolean;
  private readonly log: Logger;
  private digests: Buffer[] = [];
  private readonly watched: WatchedFile | undefined;
  private fileMissing = false;

  constructor(private readonly options: ApiKeysOptions) {
    this.log = options.logger.child({ component: 'api-keys' });
    this.openAccess = options.file === '';
    if (this.openAccess) {
      this.log.warn('NO API KEYS FILE CONFIGURED (stratum.apiKeysFile): ANY MINER CAN LOG IN WITH ANY api_key');
      return;
    }
    // Only a regular file is read, never blocking (a FIFO or device in its place is refused and logged once),
    // with a size cap; a bad read keeps the last good keys (docs/hostile-peers.md "Files").
    this.watched = new WatchedFile({
      path: options.file,
      maxBytes: MAX_API_KEYS_FILE_BYTES,
      logger: this.log,
      label: 'api keys file',
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      ...(options.missingFileAllowsAll === true ? { onMissing: () => this.markMissing() } : {}),
      onContents: (data) => {
        this.fileMissing = false;
        this.digests = parseApiKeys(data.toString('utf8')).map(digest);
        this.log.info({ file: options.file, keys: this.digests.length }, 'api keys loaded');
      },
    });
    // A configured but unreadable file at start-up fails closed: nobody logs in until it is readable.
    this.watched.loadSync();
    this.watched.watch();
  }

  get size(): number {
    return this.digests.length;
  }

  /** Re-reads the file now (asynchronously). On any failure the previous keys stay in force and it is logged. */
  reload(): Promise<void> {
    return this.watched?.check(true) ?? Promise.resolve();
  }

  /** Re-reads now if the file changed, synchronously (the simulated node does this on every login, as the node). */
  refreshSync(): void {
    this.watched?.checkSync();
  }

  /** Constant-time per key: both sides hashed to 32 bytes and compared with timingSafeEqual, no early exit. */
  isAllowed(apiKey: string): boolean {
    if (this.openAccess || this.fileMissing) return true;
    const candidate = digest(apiKey);
    let found = false;
    for (const known of this.digests) {
      if (timingSafeEqual(candidate, known)) found = true;
    }
    return found;
  }

  close(): void {
    this.watched?.close();
  }

  private markMissing(): void {
    if (!this.fileMissing) this.log.warn({ file: this.options.file }, 'api keys file missing: any key is allowed (the node rule)');
    this.fileMissing = true;
    this.digests = [];
  }
}
