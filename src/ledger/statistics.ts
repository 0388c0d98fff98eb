// Statistics from the books: the one function every consumer (API, dashboard, CLI) calls, so no page can show a
// second estimate (docs/ledger.md "Statistics").
import type { VariantName } from '../pow/variants.js';
import type { LedgerStore, StoredBlock } from './types.js';

/**
 * Expected solutions behind one share of difficulty 1. A solution meets difficulty d with probability 1/d
 * (docs/pow.md "Packed difficulty": the hash must fall under 2^256/d), so a share of difficulty d stands for d
 * solutions on average, for every variant; hashrate is therefore in solutions per second (Sol/s).
 */
export const SOLUTIONS_PER_DIFFICULTY: Readonly<Record<VariantName, number>> = {
  beamhash1: 1,
  beamhash2: 1,
  beamhash3: 1,
  devnet: 1,
};

export const WINDOWS = { short: 10 * 60_000, long: 60 * 60_000 } as const;

export interface WorkerStatistics {
  readonly miner: string;
  readonly worker: string;
  /** Sol/s over the last 10 minutes and the last hour. */
  readonly hashrate10m: number;
  readonly hashrate1h: number;
  /** Accepted shares, all time (raw rows and roll-ups). */
  readonly accepted: number;
  /** Rejected shares by result code, all time. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly lastShareAt: number | null;
  /** Blocks the node accepted from this miner (blocks are credited to the miner, worker ''). */
  readonly blocksFound: number;
}

export interface PoolStatistics {
  readonly hashrate10m: number;
  readonly hashrate1h: number;
  readonly accepted: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly lastShareAt: number | null;
  readonly blocks: Readonly<Record<string, number>>;
}

export interface LedgerStatistics {
  readonly at: number;
  readonly workers: readonly WorkerStatistics[];
  /** Per miner: its workers summed. */
  readonly miners: readonly WorkerStatistics[];
  readonly pool: PoolStatistics;
  /** The newest block rows (last update first), at most RECENT_BLOCKS. */
  readonly recentBlocks: readonly StoredBlock[];
}

export const RECENT_BLOCKS = 50;

interface Acc {
  miner: string;
  worker: string;
  d10: number;
  d60: number;
  accepted: number;
  rejected: Record<string, number>;
  lastShareAt: number | null;
  blocksFound: number;
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

export async function ledgerStatistics(store: LedgerStore, now: number, variant: VariantName = 'beamhash3'): Promise<LedgerStatistics> {
  const spd = SOLUTIONS_PER_DIFFICULTY[variant];
  const byKey = new Map<string, Acc>();
  const acc = (miner: string, worker: string): Acc => {
    const key = JSON.stringify([miner, worker]);
    let a = byKey.get(key);
    if (a === undefined) {
      a = { miner, worker, d10: 0, d60: 0, accepted: 0, rejected: {}, lastShareAt: null, blocksFound: 0 };
      byKey.set(key, a);
    }
    return a;
  };
  for (const r of await store.shareAggregates(now - WINDOWS.long)) acc(r.miner, r.worker).d60 += r.difficultySum;
  for (const r of await store.shareAggregates(now - WINDOWS.short)) acc(r.miner, r.worker).d10 += r.difficultySum;
  for (const r of await store.shareTotals()) {
    const a = acc(r.miner, r.worker);
    a.accepted += r.shares;
    a.lastShareAt = maxOrNull(a.lastShareAt, r.lastAt);
  }
  for (const r of await store.rejects()) addCounts(acc(r.miner, r.worker).rejected, { [String(r.code)]: r.count });
  const blocks: Record<string, number> = {};
  const storedBlocks = await store.blocks();
  for (const b of storedBlocks) {
    blocks[b.status] = (blocks[b.status] ?? 0) + 1;
    if (b.status === 'accepted') acc(b.miner, b.worker).blocksFound += 1;
  }
  const toStats = (a: Acc): WorkerStatistics => ({
    miner: a.miner,
    worker: a.worker,
    hashrate10m: (a.d10 * spd) / (WINDOWS.short / 1000),
    hashrate1h: (a.d60 * spd) / (WINDOWS.long / 1000),
    accepted: a.accepted,
    rejected: a.rejected,
    lastShareAt: a.lastShareAt,
    blocksFound: a.blocksFound,
  });
  const workers = [...byKey.values()].sort((x, y) => (x.miner + '\u0000' + x.worker < y.miner + '\u0000' + y.worker ? -1 : 1));
  const minersAcc = new Map<string, Acc>();
  const pool: Acc = { miner: '', worker: '', d10: 0, d60: 0, accepted: 0, rejected: {}, lastShareAt: null, blocksFound: 0 };
  for (const w of workers) {
    const m = minersAcc.get(w.miner) ?? { miner: w.miner, worker: '', d10: 0, d60: 0, accepted: 0, rejected: {}, lastShareAt: null, blocksFound: 0 };
    for (const into of [m, pool]) {
      into.d10 += w.d10;
      into.d60 += w.d60;
      into.accepted += w.accepted;
      addCounts(into.rejected, w.rejected);
      into.lastShareAt = maxOrNull(into.lastShareAt, w.lastShareAt);
      into.blocksFound += w.blocksFound;
    }
    minersAcc.set(w.miner, m);
  }
  const p = toStats(pool);
  return {
    at: now,
    workers: workers.map(toStats),
    miners: [...minersAcc.values()].map(toStats),
    pool: { hashrate10m: p.hashrate10m, hashrate1h: p.hashrate1h, accepted: p.accepted, rejected: p.rejected, lastShareAt: p.lastShareAt, blocks },
    recentBlocks: [...storedBlocks].sort((x, y) => y.updatedAt - x.updatedAt || y.height - x.height).slice(0, RECENT_BLOCKS),
  };
}
