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

/** The store side the book writes to (LedgerStore's work methods). */
export interface WorkCreditStore {
  creditWork(entry: WorkCreditEntry): Promise<{ credited: boolean; totals: WorkerTotals }>;
  recordWorkPayout(entry: WorkPayoutEntry): Promise<{ recorded: boolean; totals: WorkerTotals }>;
  workerTotals(address: string): Promise<WorkerTotals>;
  workTotalPaid(): Promise<number>;
}

export interface LedgerWorkCreditsOptions {
  /** First retry delay after a failed credit (doubles up to retryMaxMs): ledger.retryMinMs / retryMaxMs. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Credits waiting for the books at once; beyond it a credit fails at once (and is logged). */
  readonly maxPending: number;
  readonly logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * The books' WorkCreditBook. A credit is owed for work a service already received, so a failed write (PostgreSQL
 * down, a locked file) is retried with backoff until it commits or the ledger closes; the key makes every retry
 * safe, even after a COMMIT whose outcome was unknown. Waiting credits are bounded by `maxPending`. Payouts and
 * reads are not retried: their caller (the payout hook, statistics) gets the error and may try again.
 */
export class LedgerWorkCredits implements WorkCreditBook {
  private pending = 0;
  private closed = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly store: WorkCreditStore,
    private readonly o: LedgerWorkCreditsOptions,
  ) {}

  /** Credits still waiting for a retry. */
  get waiting(): number {
    return this.pending;
  }

  async credit(entry: WorkCreditEntry): Promise<{ readonly credited: boolean; readonly totals: WorkerTotals }> {
    try {
      return await this.store.creditWork(entry);
    } catch (err) {
      if (this.closed || this.pending >= this.o.maxPending) throw err;
      this.o.logger.warn({ err, key: entry.key, address: entry.address }, 'work credit not written; retrying until the books are back');
    }
    this.pending += 1;
    try {
      let delay = this.o.retryMinMs;
      for (;;) {
        await this.sleep(delay);
        if (this.closed) throw new LedgerClosedForCredit(entry);
        try {
          const outcome = await this.store.creditWork(entry);
          this.o.logger.info({ key: entry.key, address: entry.address, credited: outcome.credited }, 'work credit written after retry');
          return outcome;
        } catch {
          delay = Math.min(this.o.retryMaxMs, delay * 2);
        }
      }
    } finally {
      this.pending -= 1;
    }
  }

  recordPayout(entry: WorkPayoutEntry): Promise<{ readonly recorded: boolean; readonly totals: WorkerTotals }> {
    return this.store.recordWorkPayout(entry);
  }

  totals(address: string): Promise<WorkerTotals> {
    return this.store.workerTotals(address);
  }

  totalPaid(): Promise<number> {
    return this.store.workTotalPaid();
  }

  /** Stops retrying: credits still waiting fail (each logged with its entry by whoever awaited it). */
  close(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** A credit still unwritten when the ledger closed: the entry is in the error for the log (re-credit it by hand). */
export class LedgerClosedForCredit extends Error {
  readonly code = 'closed';
  constructor(readonly entry: WorkCreditEntry) {
    super(`ledger closed before the work credit ${entry.key} for ${entry.address} was written`);
    this.name = 'LedgerClosedForCredit';
  }
}
