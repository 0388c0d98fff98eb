// Worker credit of the work service, kept in the books (docs/ledger.md "Work credit", docs/work-service.md
// "Credit"). The ledger owns this vocabulary and implements it on both backends; src/work consumes it
// (work → ledger, never the reverse). Amounts are integer micro-units (1e-6) so sums are exact.

export interface WorkCreditEntry {
  /** Idempotency key: one credit per (hash, difficulty asked), `HASH:DIFFICULTY`; a replay of the key is ignored. */
  readonly key: string;
  readonly address: string;
  readonly hash: string;
  readonly workType: 'precache' | 'ondemand';
  /** Difficulty asked, 16 hex digits. */
  readonly difficulty: string;
  /** Work units in millionths (multiplier × 1e6, rounded). */
  readonly microUnits: number;
  readonly at: number;
}

export interface WorkPayoutEntry {
  /** Idempotency key, e.g. the payment's block hash. */
  readonly reference: string;
  readonly address: string;
  /** Amount paid in millionths of the coin. */
  readonly microAmount: number;
  readonly at: number;
}

export interface WorkerTotals {
  readonly precache: number;
  readonly ondemand: number;
  readonly microCredited: number;
  readonly microPaid: number;
  /** Hash of the latest credited work ('' if none). */
  readonly lastHash: string;
}

/** The narrow part of the books the work service writes through. The ledger opens and closes it. */
export interface WorkCreditBook {
  /** Records a credit unless its key is known (one transaction); resolves with the worker's totals and whether it counted. */
  credit(entry: WorkCreditEntry): Promise<{ readonly credited: boolean; readonly totals: WorkerTotals }>;
  /** The payout hook's write (docs/work-service.md "Payout hook"): adds to total_paid once per reference. */
  recordPayout(entry: WorkPayoutEntry): Promise<{ readonly recorded: boolean; readonly totals: WorkerTotals }>;
  totals(address: string): Promise<WorkerTotals>;
  /** Sum of every payout, in millionths (statistics' total_paid_banano). */
  totalPaid(): Promise<number>;
}

export const EMPTY_WORKER_TOTALS: WorkerTotals = { precache: 0, ondemand: 0, microCredited: 0, microPaid: 0, lastHash: '' };

/** Row of work_workers (both backends; PostgreSQL's BIGINTs arrive as strings). */
export function workerTotalsFromRow(row: Record<string, unknown> | undefined): WorkerTotals {
  if (row === undefined) return EMPTY_WORKER_TOTALS;
  return {
    precache: Number(row.precache),
    ondemand: Number(row.ondemand),
    microCredited: Number(row.micro_credited),
    microPaid: Number(row.micro_paid),
    lastHash: String(row.last_hash),
  };
}
