// The ledger's vocabulary: what is recorded, what a write answers, and the one interface both backends share.
// docs/ledger.md explains every table and the durability of each backend.
import type { WorkCreditEntry, WorkerTotals, WorkPayoutEntry } from './workCredits.js';

/** One accepted share, as the share path hands it to the ledger (before the miner is answered). */
export interface ShareRecord {
  /** Who is credited: the key part of `KEY.WORKER` (a digest label when keys are secret; docs/gateway.md "Workers"). */
  readonly miner: string;
  /** The rig: the `WORKER` part of `KEY.WORKER`, '' when none. */
  readonly worker: string;
  readonly sessionId: number;
  /** Transport the miner used (tcp, tls, ws). */
  readonly transport: string;
  readonly jobId: string;
  readonly upstreamJobId: string;
  readonly height: number;
  /** 16 lowercase hex digits, as the miner sent it (its session prefix included). */
  readonly nonce: string;
  /** SHA-256 of the solution output, 64 lowercase hex digits. */
  readonly outputHash: string;
  /** Packed difficulty the share was judged at (exact; rewards are computed from it). */
  readonly sharePacked: number;
  readonly achievedDifficulty: number;
  readonly isBlockCandidate: boolean;
  /** ms since the epoch. */
  readonly at: number;
}

/**
 * What recording a share answered:
 * - recorded: durable (committed), the miner may be told `1 accepted`;
 * - duplicate: the unique key (upstream job id, nonce, output hash) is already in the books (another gateway or an
 *   earlier submission): answer -32006;
 * - unavailable: not written and never will be (database down, buffer full, shutting down): the miner is told it
 *   was not credited;
 * - unconfirmed: the books closed while the one write that carried it had an unknown outcome (a COMMIT cut off, a
 *   SQLite thread past its deadline): it may be in the books, so the miner is not told it was not credited.
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'unavailable' | 'unconfirmed';

/** The narrow part of the ledger the share path needs. */
export interface ShareRecorder {
  record(share: ShareRecord): Promise<RecordOutcome>;
}

/** Rejected shares are counted per minute, miner, worker and code (never one row per reject). */
export interface RejectCount {
  readonly minute: number;
  readonly miner: string;
  readonly worker: string;
  readonly code: number;
  readonly count: number;
}

export type BlockStatus = 'submitted' | 'accepted' | 'rejected' | 'expired' | 'unanswered' | 'queued';

export interface BlockRecord {
  readonly upstreamJobId: string;
  readonly nonce: string;
  readonly height: number;
  readonly miner: string;
  readonly worker: string;
  readonly instanceId: string;
  readonly status: BlockStatus;
  readonly blockHash?: string;
  readonly nodeCode?: number;
  readonly at: number;
}

export interface StoredBlock {
  readonly upstreamJobId: string;
  readonly nonce: string;
  readonly height: number;
  readonly miner: string;
  readonly worker: string;
  readonly instanceId: string;
  readonly status: BlockStatus;
  readonly blockHash: string | null;
  readonly nodeCode: number | null;
  readonly submittedAt: number;
  readonly updatedAt: number;
}

/** A ban put in force, or lifted by an operator (docs/ledger.md "Bans"). Append-only: one row per action. */
export interface BanEntry {
  readonly action: 'ban' | 'unban';
  /** The banned key: an IPv4 address or an IPv6 /64. */
  readonly key: string;
  /** Why (the abuse guard's counts, or the operator's words); '' for a lift. */
  readonly reason: string;
  /** Who: 'abuse' (the abuse guard) or 'operator' (admin API). */
  readonly source: string;
  readonly instanceId: string;
  /** ms since the epoch: when banned or lifted. */
  readonly at: number;
  /** ms since the epoch the ban expires; null for a lift. */
  readonly until: number | null;
}

/** A share stored in the books (for reports and tests). */
export interface StoredShare extends ShareRecord {
  readonly id: number;
  /** Gateway instanceId ('' when unset): which gateway took the share. */
  readonly instanceId: string;
}

/** Hourly roll-up of shares older than the retention window (same transaction that deletes them). */
export interface ShareRollup {
  readonly hour: number;
  readonly miner: string;
  readonly worker: string;
  readonly shares: number;
  /** Σ share difficulty (float; hashrate). */
  readonly difficultySum: number;
  /** Σ exact share weight (see shareWeight), decimal integer string. */
  readonly weight: string;
  readonly lastAt: number;
}

/** One credit unit for rewards: a raw share or an hourly roll-up, ordered by time. */
export interface CreditRow {
  readonly miner: string;
  readonly at: number;
  readonly weight: bigint;
}

/** The stored side of a backend: plain transactional operations, no queueing (GroupCommitLedger adds that). */
export interface LedgerStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * One transaction: inserts the shares (a unique-key hit is not an error), adds the reject counts, upserts the
   * blocks. Answers, per share, whether the books now hold it under the same `token` (true: ours, false: another
   * submission holds the key). Throws LedgerError when nothing was committed; `ambiguous` when it may have been.
   */
  writeBatch(batch: WriteBatch): Promise<boolean[]>;
  /** Rolls shares older than `before` into hourly aggregates and deletes them, in one transaction. Rows moved. */
  rollUp(before: number, limit: number): Promise<number>;
  shares(filter?: { sinceAt?: number }): Promise<StoredShare[]>;
  rollups(): Promise<ShareRollup[]>;
  rejects(): Promise<RejectCount[]>;
  blocks(): Promise<StoredBlock[]>;
  /** Ban entries, oldest first. */
  bans(): Promise<BanEntry[]>;
  /**
   * The bans of gateway `instanceId` still in force at `now` (docs/ledger.md "Bans"): per key, its latest entry (by
   * at, then id) when that is a 'ban' whose until is after `now`. At most `limit`, the longest-lasting first: the
   * soonest to expire are the ones left out, as the in-memory list drops them first when full (src/bans/BanList.ts).
   */
  bansInForce(instanceId: string, now: number, limit: number): Promise<BanEntry[]>;
  /** Shares (and roll-ups) with at in [from, to], oldest first, weights exact. */
  credits(fromAt: number, toAt: number): Promise<CreditRow[]>;
  /** Aggregates for statistics since `sinceAt` per (miner, worker). */
  shareAggregates(sinceAt: number): Promise<Array<{ miner: string; worker: string; shares: number; difficultySum: number; lastAt: number }>>;
  /** Totals per (miner, worker) over all time: raw + roll-ups. */
  shareTotals(): Promise<Array<{ miner: string; worker: string; shares: number; lastAt: number }>>;
  /** Work service credit (src/ledger/workCredits.ts): each write one transaction, idempotent by its key. */
  creditWork(entry: WorkCreditEntry): Promise<{ credited: boolean; totals: WorkerTotals }>;
  recordWorkPayout(entry: WorkPayoutEntry): Promise<{ recorded: boolean; totals: WorkerTotals }>;
  workerTotals(address: string): Promise<WorkerTotals>;
  workTotalPaid(): Promise<number>;
  /**
   * Whether the books could take a write now, without writing (the idle probe: BookKeeper): SQLite takes and drops
   * the write lock, PostgreSQL answers and is not a read-only standby. Throws LedgerError when not.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A share as written: the record, the writing gateway, and a token unique to this write (see writeBatch). */
export interface PendingShareRow extends ShareRecord {
  readonly instanceId: string;
  readonly token: string;
}

export interface WriteBatch {
  readonly shares: readonly PendingShareRow[];
  readonly rejects: readonly RejectCount[];
  readonly blocks: readonly BlockRecord[];
  /** Ban entries (absent = none); a retried entry is not written twice (unique instance, key, action, time). */
  readonly bans?: readonly BanEntry[];
}

export type LedgerErrorCode =
  | 'bad-url'
  | 'newer-schema'
  | 'open-failed'
  | 'write-failed'
  | 'closed'
  | 'no-such-block'
  | 'block-not-accepted'
  | 'bad-report-args';

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    /** A failed commit whose outcome is unknown (connection lost during COMMIT). */
    readonly ambiguous = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LedgerError';
  }
}
