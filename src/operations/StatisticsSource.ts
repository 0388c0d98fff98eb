// What the operations surfaces (event API, dashboard, admin) read about mining activity. Narrow on purpose:
// LedgerStatisticsSource serves the ledger's one statistics function; ProvisionalStatistics only without books.
// Hashrate is an estimate in solutions per second: Σ difficulty of accepted shares in the window / window seconds
// (a share of difficulty d stands for d solutions on average, docs/operations.md "Statistics").

export interface ShareCounts {
  readonly accepted: number;
  /** Rejected shares by result code (docs/gateway.md result codes), e.g. { "-32009": 3 }. */
  readonly rejectedByCode: Readonly<Record<string, number>>;
}

export interface WorkerStatistics extends ShareCounts {
  readonly miner: string;
  readonly worker: string;
  readonly hashrate10m: number;
  readonly hashrate1h: number;
  /** ms since epoch; 0 when none yet. */
  readonly lastShareAt: number;
  readonly blocks: number;
}

export interface MinerStatistics extends ShareCounts {
  readonly miner: string;
  readonly hashrate10m: number;
  readonly hashrate1h: number;
  readonly lastShareAt: number;
  readonly blocks: number;
  readonly workers: readonly WorkerStatistics[];
}

export interface BlockRecord {
  readonly height: number;
  readonly miner: string;
  readonly worker: string;
  readonly status: string;
  readonly blockHash?: string;
  readonly at: number;
}

export interface PoolStatistics extends ShareCounts {
  readonly hashrate10m: number;
  readonly hashrate1h: number;
  readonly lastShareAt: number;
  readonly miners: number;
  readonly workers: number;
  /** Blocks the node accepted. */
  readonly blocksAccepted: number;
  /** Newest first, bounded. */
  readonly recentBlocks: readonly BlockRecord[];
}

export interface HashrateSeries {
  /** Bucket start times, seconds since epoch (uPlot's x axis unit), oldest first. */
  readonly t: readonly number[];
  /** Solutions per second in each bucket. */
  readonly hashrate: readonly number[];
}

export interface StatisticsSource {
  pool(): PoolStatistics;
  /** Every miner seen in the last hour, most hashrate first; at most `limit`. */
  miners(limit?: number): MinerStatistics[];
  miner(name: string): MinerStatistics | undefined;
  /** Pool hashrate over the last hour. */
  poolSeries(): HashrateSeries;
}

/** The one string for a (miner, worker) pair, "MINER.WORKER" or "MINER" (miner names never hold a dot). */
export function workerLabel(miner: string, worker: string): string {
  return worker === '' ? miner : `${miner}.${worker}`;
}

/** The inverse of workerLabel: the first dot splits; no dot = the whole label is the miner, worker "". */
export function splitWorkerLabel(label: string): { miner: string; worker: string } {
  const dot = label.indexOf('.');
  return dot < 0 ? { miner: label, worker: '' } : { miner: label.slice(0, dot), worker: label.slice(dot + 1) };
}
