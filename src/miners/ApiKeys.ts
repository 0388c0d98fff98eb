// Miner api keys, in the node's own file format. spec: design.md §2 — one key per line, lines shorter than
// 8 characters ignored, reloaded when the file's mtime changes (no restart).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../config/logger.js';

export const MIN_API_KEY_LENGTH = 8;

/** What the login handler needs: a yes/no on a key, and whether access is open (no keys file). */
export interface ApiKeyChecker {
  readonly openAccess: boolean;
  isAllowed(apiKey: string): boolean;
}

export interface ApiKeysOptions {
  /** stratum.apiKeysFile; '' = open access. */
  readonly file: string;
  readonly logger: Logger;
  /** How often the file's mtime is polled (fs.watchFile interval). */
  readonly pollIntervalMs?: number;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Parses the file's text: trimmed lines of at least 8 characters (design.md §2). */
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
  private watching = false;
  private readonly onFileChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.reload();
  };

  constructor(private readonly options: ApiKeysOptions) {
    this.log = options.logger.child({ component: 'api-keys' });
    this.openAccess = options.file === '';
    if (this.openAccess) {
      this.log.warn('NO API KEYS FILE CONFIGURED (stratum.apiKeysFile): ANY MINER CAN LOG IN WITH ANY api_key');
      return;
    }
    // A configured but unreadable file at start-up fails closed: nobody logs in until it is readable.
    this.reload();
    watchFile(options.file, { interval: options.pollIntervalMs ?? 1000, persistent: false }, this.onFileChange);
    this.watching = true;
  }

  get size(): number {
    return this.digests.length;
  }

  /**
   * Re-reads the file. On a read error the previous keys stay in force (an editor's save must not lock every
   * miner out), and the error is logged.
   */
  reload(): void {
    if (this.openAccess) return;
    let text: string;
    try {
      text = readFileSync(this.options.file, 'utf8');
    } catch (err) {
      this.log.error({ err, file: this.options.file, keptKeys: this.digests.length }, 'api keys file unreadable');
      return;
    }
    this.digests = parseApiKeys(text).map(digest);
    this.log.info({ file: this.options.file, keys: this.digests.length }, 'api keys loaded');
  }

  /** Constant-time per key: both sides hashed to 32 bytes and compared with timingSafeEqual, no early exit. */
  isAllowed(apiKey: string): boolean {
    if (this.openAccess) return true;
    const candidate = digest(apiKey);
    let found = false;
    for (const known of this.digests) {
      if (timingSafeEqual(candidate, known)) found = true;
    }
    return found;
  }

  close(): void {
    if (!this.watching) return;
    this.watching = false;
    unwatchFile(this.options.file, this.onFileChange);
  }
}
