// The StatisticsSource the operations read when the books are open (docs/operations.md "Statistics"): a snapshot of
// the ledger's one statistics function (src/ledger/statistics.ts), refreshed on a timer, so the admin API,
// /api/statistics, the event API and the dashboard all show the same numbers, and they survive a restart.
// Bounded cost: one refresh at a time, never overlapping; the next one starts `intervalMs` after the previous one
// ended, or 20 × its duration when that is longer (the refresh takes at most ~5 % of the time, however large the
// books grow). A failed refresh keeps the last snapshot; the failure is logged once until a refresh succeeds.
import type { Logger } from '../config/logger.js';
import type { LedgerStatistics, WorkerStatistics as LedgerWorker } from '../ledger/statistics.js';
import type { BlockRecord, HashrateSeries, MinerStatistics, PoolStatistics, StatisticsSource, WorkerStatistics } from './StatisticsSource.js';

const HOUR_MS = 3_600_000;
/** The refresh may take at most 1/DUTY_FACTOR of the time. */
const DUTY_FACTOR = 20;

export interface LedgerStatisticsSourceOptions {
  /** The ledger's statistics function (Ledger.statistics). */
  readonly read: (now: number) => Promise<LedgerStatistics>;
  /** Pause between the end of one refresh and the start of the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface Snapshot {
  readonly pool: PoolStatistics;
  /** Miners seen in the last hour, most hashrate first. */
  readonly active: readonly MinerStatistics[];
  readonly byName: ReadonlyMap<string, MinerStatistics>;
}

const EMPTY_POOL: PoolStatistics = {
  hashrate10m: 0,
  hashrate1h: 0,
  accepted: 0,
  rejectedByCode: {},
  lastShareAt: 0,
  miners: 0,
  workers: 0,
  blocksAccepted: 0,
  recentBlocks: [],
};

export class LedgerStatisticsSource implements StatisticsSource {
  private snapshot: Snapshot = { pool: EMPTY_POOL, active: [], byName: new Map() };
  /** Pool hashrate (10-minute average) sampled at each refresh, the last hour (the dashboard's chart). */
  private readonly samples: Array<{ t: number; hashrate: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: LedgerStatisticsSourceOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.logger.child({ component: 'statistics' });
  }

  /** Takes the first snapshot now and refreshes on the timer from then on. */
  start(): Promise<void> {
    return this.refresh();
  }

  /** One refresh (joins the one in flight, never overlaps it); resolves when it is done. Never rejects. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.refreshOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer; waits for a refresh in flight (it must not outlive the ledger it reads). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  pool(): PoolStatistics {
    return this.snapshot.pool;
  }

  miners(limit = 1000): MinerStatistics[] {
    return this.snapshot.active.slice(0, limit);
  }

  miner(name: string): MinerStatistics | undefined {
    return this.snapshot.byName.get(name);
  }

  poolSeries(): HashrateSeries {
    return { t: this.samples.map((s) => s.t), hashrate: this.samples.map((s) => s.hashrate) };
  }

  private async refreshOnce(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const started = this.now();
    try {
      const stats = await this.options.read(started);
      this.snapshot = toSnapshot(stats, started);
      this.samples.push({ t: Math.floor(started / 1000), hashrate: stats.pool.hashrate10m });
      while (this.samples.length > 0 && (this.samples[0]?.t ?? 0) * 1000 < started - HOUR_MS) this.samples.shift();
      if (this.failing) this.log.warn('statistics from the ledger refreshed again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.error({ err }, 'statistics: reading the ledger failed; the last snapshot is kept, retried on the timer');
      this.failing = true;
    }
    if (this.stopped) return;
    const took = this.now() - started;
    this.timer = setTimeout(() => void this.refresh(), Math.max(this.options.intervalMs, took * DUTY_FACTOR));
    this.timer.unref();
  }
}

function workerOf(w: LedgerWorker): WorkerStatistics {
  return {
    miner: w.miner,
    worker: w.worker,
    hashrate10m: w.hashrate10m,
    hashrate1h: w.hashrate1h,
    accepted: w.accepted,
    rejectedByCode: w.rejected,
    lastShareAt: w.lastShareAt ?? 0,
    blocks: w.blocksFound,
  };
}

function toSnapshot(stats: LedgerStatistics, now: number): Snapshot {
  const workersOf = new Map<string, WorkerStatistics[]>();
  for (const w of stats.workers) {
    const list = workersOf.get(w.miner);
    if (list === undefined) workersOf.set(w.miner, [workerOf(w)]);
    else list.push(workerOf(w));
  }
  const byName = new Map<string, MinerStatistics>();
  for (const m of stats.miners) {
    byName.set(m.miner, { ...workerOf(m), workers: workersOf.get(m.miner) ?? [] });
  }
  const recent = (at: number): boolean => at > 0 && now - at <= HOUR_MS;
  const active = [...byName.values()].filter((m) => recent(m.lastShareAt));
  active.sort((a, b) => b.hashrate10m - a.hashrate10m || a.miner.localeCompare(b.miner));
  const recentBlocks: BlockRecord[] = stats.recentBlocks.map((b) => ({
    height: b.height,
    miner: b.miner,
    worker: b.worker,
    status: b.status,
    ...(b.blockHash === null ? {} : { blockHash: b.blockHash }),
    at: b.updatedAt,
  }));
  const pool: PoolStatistics = {
    hashrate10m: stats.pool.hashrate10m,
    hashrate1h: stats.pool.hashrate1h,
    accepted: stats.pool.accepted,
    rejectedByCode: stats.pool.rejected,
    lastShareAt: stats.pool.lastShareAt ?? 0,
    miners: active.length,
    workers: stats.workers.filter((w) => recent(w.lastShareAt ?? 0)).length,
    blocksAccepted: stats.pool.blocks.accepted ?? 0,
    recentBlocks,
  };
  return { pool, active, byName };
}
