// The ledger's one entry point: `openLedger(config)` picks the backend from `ledger.url` and returns a Ledger
// (docs/ledger.md). The share path only sees its ShareRecorder side.
import type { BanHistory, BanRecorder } from '../bans/BanRecorder.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../config/logger.js';
import type { EventBus } from '../events/EventBus.js';
import { BookKeeper, type BookKeeperOptions, type CommitListener, type LedgerState } from './BookKeeper.js';
import { PostgresStore } from './PostgresStore.js';
import { rewardReport, type RewardReport, type RewardRequest } from './rewards.js';
import type { LedgerConfig } from '../config/schema.js';
import { SqliteStore } from './SqliteStore.js';
import { SqliteThreadStore } from './SqliteThreadStore.js';
import { ledgerStatistics, type LedgerStatistics } from './statistics.js';
import { LedgerError, type LedgerStore, type ShareRecorder } from './types.js';
import type { VariantName } from '../pow/variants.js';
import { LedgerWorkCredits, type WorkCreditBook } from './workCredits.js';

export type { LedgerConfig };

/** The schema's defaults (src/config/schema.ts), for tools and tests that open books without a config file. */
export const LEDGER_DEFAULTS: LedgerConfig = loadConfig({ args: [], env: {} }).ledger;

export interface Ledger extends ShareRecorder, BanRecorder, BanHistory {
  readonly backend: 'sqlite' | 'postgres';
  readonly state: LedgerState;
  /** Shares waiting to be written (not counting a batch in flight). */
  readonly buffered: number;
  /** Direct access to the stored rows (reports, tests, tooling). */
  readonly store: LedgerStore;
  /** Observes every commit (duration, shares); returns the function that stops observing. */
  onCommit(listener: CommitListener): () => void;
  /** Writes everything queued (bounded wait). */
  flush(deadlineMs?: number): Promise<void>;
  /** Flushes, then closes; shares still unwritten are answered 'unavailable'. */
  close(deadlineMs?: number): Promise<void>;
  statistics(now?: number, variant?: VariantName): Promise<LedgerStatistics>;
  rewardReport(request: RewardRequest): Promise<RewardReport>;
  /** Rolls shares older than ledger.retentionHours into hourly aggregates now (also runs every 10 minutes). */
  rollUp(): Promise<number>;
  /** The work service's worker credit and payouts, in these books (docs/ledger.md "Work credit"); `waiting`:
   *  credits being retried while the books are unavailable. */
  readonly workCredits: WorkCreditBook & { readonly waiting: number };
}

export type LedgerLocation = { kind: 'none' } | { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export function parseLedgerUrl(url: string): LedgerLocation {
  if (url === 'none') return { kind: 'none' };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new LedgerError('bad-url', 'ledger.url sqlite: needs a file path, e.g. sqlite:./data/equigate.sqlite');
    return { kind: 'sqlite', file };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { kind: 'postgres', url };
  throw new LedgerError('bad-url', `ledger.url must be sqlite:PATH, postgres://… or none (got "${url}")`);
}

export interface OpenLedgerDeps {
  readonly instanceId: string;
  readonly logger: Logger;
  /** Rejected-share counts and block lifecycle are read from this bus; the ledger's state is reported on it. */
  readonly bus?: EventBus;
  readonly now?: () => number;
}

class OpenLedger extends BookKeeper implements Ledger {
  get backend(): 'sqlite' | 'postgres' {
    return this.store.kind;
  }

  statistics(now = Date.now(), variant?: VariantName): Promise<LedgerStatistics> {
    return ledgerStatistics(this.store, now, variant);
  }

  rewardReport(request: RewardRequest): Promise<RewardReport> {
    return rewardReport(this.store, request);
  }

  // Straight to the store, one transaction a write (a credit is rare next to shares: no group commit), retried
  // with the ledger's backoff while the books are unavailable.
  readonly workCredits: LedgerWorkCredits;

  constructor(options: BookKeeperOptions) {
    super(options);
    this.workCredits = new LedgerWorkCredits(this.store, {
      retryMinMs: options.retryMinMs,
      retryMaxMs: options.retryMaxMs,
      maxPending: options.maxBufferedShares,
      logger: options.logger,
    });
  }

  override async close(deadlineMs?: number): Promise<void> {
    this.workCredits.close();
    await super.close(deadlineMs);
  }
}

/** Opens the books at `config.url` (migrating them), or undefined for `none`. Throws LedgerError. */
export async function openLedger(config: LedgerConfig, deps: OpenLedgerDeps): Promise<Ledger | undefined> {
  const location = parseLedgerUrl(config.url);
  if (location.kind === 'none') return undefined;
  const store: LedgerStore =
    location.kind === 'sqlite'
      ? await SqliteThreadStore.open({
          file: location.file,
          synchronous: config.sqliteSynchronous,
          // A lock held elsewhere fails a write cleanly after timeoutMs; a thread silent for twice that and a second
          // more is taken as stuck (docs/ledger.md "SQLite on its own thread").
          busyTimeoutMs: config.timeoutMs,
          answerDeadlineMs: 2 * config.timeoutMs + 1000,
          logger: deps.logger,
        })
      : await PostgresStore.open({ url: location.url, logger: deps.logger, timeoutMs: config.timeoutMs });
  return new OpenLedger({ ...config, store, instanceId: deps.instanceId, logger: deps.logger, bus: deps.bus, now: deps.now });
}

/** Opens a store only (no group commit, no bus): for reports and tools reading the books (SQLite on the caller's
 *  thread: a tool has no event loop to keep free). */
export async function openLedgerStore(config: Pick<LedgerConfig, 'url' | 'sqliteSynchronous' | 'timeoutMs'>, logger: Logger): Promise<LedgerStore> {
  const location = parseLedgerUrl(config.url);
  if (location.kind === 'none') throw new LedgerError('bad-url', 'ledger.url is none: there are no books to read');
  if (location.kind === 'sqlite') return new SqliteStore({ file: location.file, synchronous: config.sqliteSynchronous });
  return PostgresStore.open({ url: location.url, logger, timeoutMs: config.timeoutMs });
}

export type { CommitListener, LedgerState } from './BookKeeper.js';
export type { RecordOutcome, ShareRecord, ShareRecorder, LedgerStore } from './types.js';
export type { WorkCreditBook, WorkCreditEntry, WorkerTotals, WorkPayoutEntry } from './workCredits.js';
