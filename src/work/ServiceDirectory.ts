// Services allowed to ask for work (docs/work-service.md "Services file"). One service per line:
//   user  sha256-hex-of-its-key  [public] [display=Text%20Here] [website=host] [rate=N] [burst=N] [payouts]
// Keys are never stored in clear; a key is checked by hashing it and comparing digests in constant time. The
// file is reloaded when it changes; an unreadable file keeps the services in force. No file = open access.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, stat, statSync, type Stats } from 'node:fs';
import type { Logger } from '../config/logger.js';

export interface ServiceEntry {
  readonly user: string;
  readonly keyDigest: Buffer;
  readonly public: boolean;
  readonly display: string;
  readonly website: string;
  /** Requests per second and burst; undefined = the configured defaults. */
  readonly rate: number | undefined;
  readonly burst: number | undefined;
  /** May call the payout hook actions (work_payout). */
  readonly payouts: boolean;
}

export interface ServiceParse {
  readonly services: ServiceEntry[];
  /** "line N: why" for each line skipped. */
  readonly problems: string[];
}

const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;

export function hashServiceKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function parseServices(text: string): ServiceParse {
  const services: ServiceEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [user = '', digest = '', ...options] = line.split(/\s+/);
    const where = `line ${index + 1}`;
    if (!USER_RE.test(user)) return problems.push(`${where}: user must be 1–64 of A-Z a-z 0-9 _ . -`);
    if (!DIGEST_RE.test(digest.toLowerCase())) return problems.push(`${where}: second field must be the key's SHA-256 (64 hex digits)`);
    if (seen.has(user)) return problems.push(`${where}: user ${user} listed twice`);
    let entry: ServiceEntry = { user, keyDigest: Buffer.from(digest, 'hex'), public: false, display: user, website: '', rate: undefined, burst: undefined, payouts: false };
    for (const option of options) {
      const [name = '', value] = option.split('=', 2);
      const number = Number(value);
      if (name === 'public' && value === undefined) entry = { ...entry, public: true };
      else if (name === 'payouts' && value === undefined) entry = { ...entry, payouts: true };
      else if (name === 'display' && value !== undefined) entry = { ...entry, display: safeDecode(value) };
      else if (name === 'website' && value !== undefined) entry = { ...entry, website: safeDecode(value) };
      else if (name === 'rate' && value !== undefined && number > 0 && Number.isFinite(number)) entry = { ...entry, rate: number };
      else if (name === 'burst' && value !== undefined && Number.isInteger(number) && number >= 1) entry = { ...entry, burst: number };
      else problems.push(`${where}: option "${option}" ignored`);
    }
    seen.add(user);
    services.push(entry);
  });
  return { services, problems };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface ServiceAuthenticator {
  readonly openAccess: boolean;
  /** The service if user and key match; undefined for an unknown user or a wrong key alike. */
  authenticate(user: string, key: string): ServiceEntry | undefined;
  list(): readonly ServiceEntry[];
}

export interface ServiceDirectoryOptions {
  /** work.servicesFile; '' = open access. */
  readonly file: string;
  readonly logger: Logger;
  readonly pollIntervalMs?: number;
}

const MISSING = 'missing';
const DUMMY_DIGEST = Buffer.alloc(32);

export class ServiceDirectory implements ServiceAuthenticator {
  readonly openAccess: boolean;
  private services = new Map<string, ServiceEntry>();
  private loadedVersion = '';
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly log: Logger;

  constructor(private readonly options: ServiceDirectoryOptions) {
    this.log = options.logger.child({ component: 'work-services' });
    this.openAccess = options.file === '';
    if (this.openAccess) {
      this.log.warn('NO SERVICES FILE CONFIGURED (work.servicesFile): ANY CLIENT CAN ASK FOR WORK AS ANY USER');
      return;
    }
    this.reload();
    this.pollTimer = setInterval(() => this.checkForChange(), options.pollIntervalMs ?? 1000);
    this.pollTimer.unref();
  }

  authenticate(user: string, key: string): ServiceEntry | undefined {
    if (this.openAccess) return openEntry(user);
    const entry = this.services.get(user);
    // Hash and compare even for an unknown user, so both failures take the same path.
    const candidate = createHash('sha256').update(key, 'utf8').digest();
    const match = timingSafeEqual(candidate, entry?.keyDigest ?? DUMMY_DIGEST);
    return entry !== undefined && match ? entry : undefined;
  }

  list(): readonly ServiceEntry[] {
    return [...this.services.values()];
  }

  reload(): void {
    if (this.openAccess) return;
    let text: string;
    let version = MISSING;
    try {
      version = fileVersion(statSync(this.options.file));
      text = readFileSync(this.options.file, 'utf8');
    } catch (err) {
      this.loadedVersion = version;
      this.log.error({ err, file: this.options.file, kept: this.services.size }, 'services file unreadable; keeping the services in force');
      return;
    }
    this.loadedVersion = version;
    const parsed = parseServices(text);
    for (const problem of parsed.problems) this.log.warn({ file: this.options.file }, `services file ${problem}`);
    this.services = new Map(parsed.services.map((s) => [s.user, s]));
    this.log.info({ file: this.options.file, services: this.services.size }, 'services loaded');
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

function openEntry(user: string): ServiceEntry {
  const name = USER_RE.test(user) ? user : 'anonymous';
  return { user: name, keyDigest: DUMMY_DIGEST, public: false, display: name, website: '', rate: undefined, burst: undefined, payouts: false };
}

function fileVersion(stats: Stats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}
