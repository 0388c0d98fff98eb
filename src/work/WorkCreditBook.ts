// Credit for workers (docs/work-service.md "Credit"). The narrow interface the work service writes through; the
// ledger implements it once it lands, until then SqliteWorkCreditBook does (its own tables, durable).
// Amounts are integer micro-units (1e-6) so sums are exact; `units` is the difficulty multiplier of the work asked.

export interface WorkCreditEntry {
  /** Idempotency key: one credit per (hash, difficulty asked); a replay of the same key is ignored. */
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

export interface WorkCreditBook {
  /** Records a credit unless its key is known; resolves with the worker's totals and whether it counted. */
  credit(entry: WorkCreditEntry): Promise<{ readonly credited: boolean; readonly totals: WorkerTotals }>;
  /** The payout hook's write (docs/work-service.md "Payout hook"): adds to total_paid once per reference. */
  recordPayout(entry: WorkPayoutEntry): Promise<{ readonly recorded: boolean; readonly totals: WorkerTotals }>;
  totals(address: string): Promise<WorkerTotals>;
  /** Sum of every payout, in millionths (statistics' total_paid_banano). */
  totalPaid(): Promise<number>;
  close(): Promise<void>;
}

export const EMPTY_TOTALS: WorkerTotals = { precache: 0, ondemand: 0, microCredited: 0, microPaid: 0, lastHash: '' };

export const MICRO = 1_000_000;

export function toMicro(value: number): number {
  return Math.round(value * MICRO);
}

/** "12.5" → 12500000; at most 6 decimals, non-negative, below 2^53 micro-units; else undefined. */
export function parseMicroAmount(text: string): number | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text);
  if (m === null) return undefined;
  const whole = Number(m[1]);
  const fraction = Number((m[2] ?? '').padEnd(6, '0'));
  const micro = whole * MICRO + fraction;
  return Number.isSafeInteger(micro) ? micro : undefined;
}
