// Miner api keys, in the node's own file format. spec: docs/node-protocol.md — one key per line, lines shorter than
// 8 characters ignored, reloaded when the file's mtime changes (no restart).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, stat, statSync, type Stats } from 'node:fs';
import type { Logger } from '../config/logger.js';

export const MIN_API_KEY_LENGTH = 8;
const MISSING = 'missing';

/** What the login handler needs: a yes/no on a key, and whether access is open (no keys file). */
export interface ApiKeyChecker {
  readonly openAccess: boolean;
  isAllowed(apiKey: string): boolean;
}

export interface ApiKeysOptions {
  /** stratum.apiKeysFile; '' = open access. */
  readonly file: string;
  readonly logger: Logger;
  /** How often the file's mtime is checked. */
  readonly pollIntervalMs?: number;
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
  /** Identity of the file as last read: a change in any of these triggers a reload. */
  private loadedVersion = '';
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly options: ApiKeysOptions) {
    this.log = options.logger.child({ component: 'api-keys' });
    this.openAccess = options.file === '';
    if (this.openAccess) {
      this.log.warn('NO API KEYS FILE CONFIGURED (stratum.apiKeysFile): ANY MINER CAN LOG IN WITH ANY api_key');
      return;
    }
    // A configured but unreadable file at start-up fails closed: nobody logs in until it is readable.
    this.reload();
    // Own mtime check against the version actually read (fs.watchFile's baseline could miss a change made
    // between our read and its first stat).
    this.pollTimer = setInterval(() => this.checkForChange(), options.pollIntervalMs ?? 1000);
    this.pollTimer.unref();
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
    let version = MISSING;
    try {
      // Stat before reading: a write racing the read shows up as a newer version at the next check.
      version = fileVersion(statSync(this.options.file));
      text = readFileSync(this.options.file, 'utf8');
    } catch (err) {
      // Remember the failed version too, so the error is logged once per change, not once per check.
      this.loadedVersion = version;
      this.log.error({ err, file: this.options.file, keptKeys: this.digests.length }, 'api keys file unreadable');
      return;
    }
    this.loadedVersion = version;
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
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private checkForChange(): void {
    if (this.polling) return;
    this.polling = true;
    stat(this.options.file, (err, stats) => {
      this.polling = false;
      if (this.pollTimer === undefined) return;
      const version = err === null ? fileVersion(stats) : MISSING;
      if (version !== this.loadedVersion) this.reload();
    });
  }
}

function fileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}
