// PROVISIONAL StatisticsSource computed in memory from bus `share` and `block` events, used only when no books are
// open (ledger.url none); with books, LedgerStatisticsSource serves the ledger's statistics. This one starts empty.
// Memory is bounded: per worker 60 one-minute buckets, the pool 360 ten-second buckets, at most
// maxWorkers workers (the least recently seen is forgotten first) and 50 recent blocks.
import type { EventBus } from '../events/EventBus.js';
import type { BlockEvent, ShareEvent } from '../events/topics.js';
import {
  workerLabel,
  type BlockRecord,
  type HashrateSeries,
  type MinerStatistics,
  type PoolStatistics,
  type StatisticsSource,
  type WorkerStatistics,
} from './StatisticsSource.js';

const ACCEPTED = 1;
const WORKER_BUCKET_MS = 60_000;
const WORKER_BUCKETS = 60;
const POOL_BUCKET_MS = 10_000;
const POOL_BUCKETS = 360;
const TEN_MINUTES_MS = 600_000;
const HOUR_MS = 3_600_000;
const RECENT_BLOCKS = 50;

/** Difficulty sums in a ring of fixed-width time buckets. */
class BucketRing {
  private readonly sums: Float64Array;
  /** Absolute bucket number held in each slot (so stale slots read as empty). */
  private readonly slots: Float64Array;

  constructor(
    private readonly widthMs: number,
    private readonly count: number,
  ) {
    this.sums = new Float64Array(count);
    this.slots = new Float64Array(count).fill(-1);
  }

  add(at: number, value: number): void {
    const bucket = Math.floor(at / this.widthMs);
    const slot = bucket % this.count;
    if (this.slots[slot] !== bucket) {
      this.slots[slot] = bucket;
      this.sums[slot] = 0;
    }
    this.sums[slot] = (this.sums[slot] ?? 0) + value;
  }

  /** Sum over the buckets that start within the last `spanMs` before `now` (including the current one). */
  sum(now: number, spanMs: number): number {
    const newest = Math.floor(now / this.widthMs);
    const buckets = Math.min(this.count, Math.ceil(spanMs / this.widthMs));
    let total = 0;
    for (let b = newest - buckets + 1; b <= newest; b++) {
      const slot = ((b % this.count) + this.count) % this.count;
      if (this.slots[slot] === b) total += this.sums[slot] ?? 0;
    }
    return total;
  }

  series(now: number): { t: number[]; values: number[] } {
    const newest = Math.floor(now / this.widthMs);
    const t: number[] = [];
    const values: number[] = [];
    for (let b = newest - this.count + 1; b <= newest; b++) {
      const slot = ((b % this.count) + this.count) % this.count;
      t.push((b * this.widthMs) / 1000);
      values.push(this.slots[slot] === b ? this.sums[slot] ?? 0 : 0);
    }
    return { t, values };
  }
}

interface WorkerTally {
  readonly miner: string;
  readonly worker: string;
  readonly ring: BucketRing;
  accepted: number;
  readonly rejectedByCode: Map<number, number>;
  lastShareAt: number;
  blocks: number;
}

export interface ProvisionalStatisticsOptions {
  readonly maxWorkers?: number;
  readonly now?: () => number;
}

export class ProvisionalStatistics implements StatisticsSource {
  /** By worker label, in least-recently-seen-first order (re-inserted on every share). */
  private readonly workers = new Map<string, WorkerTally>();
  /** The same tallies by miner, so one miner's statistics cost its own workers only (the `miner` topic asks often). */
  private readonly byMiner = new Map<string, Set<WorkerTally>>();
  private readonly poolRing = new BucketRing(POOL_BUCKET_MS, POOL_BUCKETS);
  private readonly rejected = new Map<number, number>();
  private accepted = 0;
  private lastShareAt = 0;
  private blocksAccepted = 0;
  private readonly recent: BlockRecord[] = [];
  private readonly startedAt: number;
  private readonly maxWorkers: number;
  private readonly now: () => number;

  constructor(options: ProvisionalStatisticsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxWorkers = options.maxWorkers ?? 10_000;
    this.startedAt = this.now();
  }

  /** Subscribes to the bus; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    const offShare = bus.subscribe('share', 'provisional-statistics', (e) => this.recordShare(e));
    const offBlock = bus.subscribe('block', 'provisional-statistics', (e) => this.recordBlock(e));
    return () => {
      offShare();
      offBlock();
    };
  }

  recordShare(share: ShareEvent): void {
    const tally = this.tallyFor(share.miner, share.worker);
    tally.lastShareAt = share.at;
    this.lastShareAt = Math.max(this.lastShareAt, share.at);
    if (share.code === ACCEPTED) {
      tally.accepted += 1;
      this.accepted += 1;
      tally.ring.add(share.at, share.shareDifficulty);
      this.poolRing.add(share.at, share.shareDifficulty);
    } else {
      tally.rejectedByCode.set(share.code, (tally.rejectedByCode.get(share.code) ?? 0) + 1);
      this.rejected.set(share.code, (this.rejected.get(share.code) ?? 0) + 1);
    }
  }

  recordBlock(block: BlockEvent): void {
    if (block.status === 'submitted') return;
    const { miner, worker } = block;
    if (block.status === 'accepted') {
      this.blocksAccepted += 1;
      const tally = this.workers.get(workerLabel(miner, worker));
      if (tally !== undefined) tally.blocks += 1;
    }
    this.recent.unshift({ height: block.height, miner, worker, status: block.status, blockHash: block.blockHash, at: block.at });
    if (this.recent.length > RECENT_BLOCKS) this.recent.pop();
  }

  pool(): PoolStatistics {
    const now = this.now();
    const miners = new Set<string>();
    for (const tally of this.workers.values()) if (now - tally.lastShareAt <= HOUR_MS) miners.add(tally.miner);
    return {
      hashrate10m: this.rate(this.poolRing.sum(now, TEN_MINUTES_MS), TEN_MINUTES_MS, now),
      hashrate1h: this.rate(this.poolRing.sum(now, HOUR_MS), HOUR_MS, now),
      accepted: this.accepted,
      rejectedByCode: toRecord(this.rejected),
      lastShareAt: this.lastShareAt,
      miners: miners.size,
      workers: this.workers.size,
      blocksAccepted: this.blocksAccepted,
      recentBlocks: [...this.recent],
    };
  }

  miners(limit = 1000): MinerStatistics[] {
    const now = this.now();
    const byMiner = new Map<string, WorkerTally[]>();
    for (const tally of this.workers.values()) {
      if (now - tally.lastShareAt > HOUR_MS) continue;
      const list = byMiner.get(tally.miner);
      if (list === undefined) byMiner.set(tally.miner, [tally]);
      else list.push(tally);
    }
    const all = [...byMiner.entries()].map(([miner, tallies]) => this.minerOf(miner, tallies, now));
    all.sort((a, b) => b.hashrate10m - a.hashrate10m || a.miner.localeCompare(b.miner));
    return all.slice(0, limit);
  }

  miner(name: string): MinerStatistics | undefined {
    const tallies = this.byMiner.get(name);
    return tallies === undefined ? undefined : this.minerOf(name, [...tallies], this.now());
  }

  poolSeries(): HashrateSeries {
    const now = this.now();
    const { t, values } = this.poolRing.series(now);
    const firstFull = (Math.ceil(this.startedAt / POOL_BUCKET_MS) * POOL_BUCKET_MS) / 1000;
    // Buckets before (and the one across) the start are unknown, not low; the current one is partial: left out.
    const keep = t.map((time, i) => time >= firstFull && i < t.length - 1);
    return {
      t: t.filter((_, i) => keep[i]),
      hashrate: values.filter((_, i) => keep[i]).map((sum) => sum / (POOL_BUCKET_MS / 1000)),
    };
  }

  private minerOf(miner: string, tallies: WorkerTally[], now: number): MinerStatistics {
    const workers = tallies.map((t) => this.workerOf(t, now));
    const rejected = new Map<number, number>();
    for (const t of tallies) for (const [code, n] of t.rejectedByCode) rejected.set(code, (rejected.get(code) ?? 0) + n);
    return {
      miner,
      hashrate10m: workers.reduce((s, w) => s + w.hashrate10m, 0),
      hashrate1h: workers.reduce((s, w) => s + w.hashrate1h, 0),
      accepted: workers.reduce((s, w) => s + w.accepted, 0),
      rejectedByCode: toRecord(rejected),
      lastShareAt: workers.reduce((m, w) => Math.max(m, w.lastShareAt), 0),
      blocks: workers.reduce((s, w) => s + w.blocks, 0),
      workers,
    };
  }

  private workerOf(tally: WorkerTally, now: number): WorkerStatistics {
    return {
      miner: tally.miner,
      worker: tally.worker,
      hashrate10m: this.rate(tally.ring.sum(now, TEN_MINUTES_MS), TEN_MINUTES_MS, now),
      hashrate1h: this.rate(tally.ring.sum(now, HOUR_MS), HOUR_MS, now),
      accepted: tally.accepted,
      rejectedByCode: toRecord(tally.rejectedByCode),
      lastShareAt: tally.lastShareAt,
      blocks: tally.blocks,
    };
  }

  /** Per second over the window, or over the time since start when that is shorter (no fake ramp-up). */
  private rate(sum: number, windowMs: number, now: number): number {
    const spanMs = Math.max(1000, Math.min(windowMs, now - this.startedAt));
    return sum / (spanMs / 1000);
  }

  private forget(label: string, tally: WorkerTally): void {
    this.workers.delete(label);
    const siblings = this.byMiner.get(tally.miner);
    siblings?.delete(tally);
    if (siblings?.size === 0) this.byMiner.delete(tally.miner);
  }

  private tallyFor(miner: string, worker: string): WorkerTally {
    const label = workerLabel(miner, worker);
    let tally = this.workers.get(label);
    if (tally !== undefined) {
      this.workers.delete(label);
    } else {
      tally = { miner, worker, ring: new BucketRing(WORKER_BUCKET_MS, WORKER_BUCKETS), accepted: 0, rejectedByCode: new Map(), lastShareAt: 0, blocks: 0 };
      if (this.workers.size >= this.maxWorkers) {
        const oldest = this.workers.entries().next().value;
        if (oldest !== undefined) this.forget(oldest[0], oldest[1]);
      }
      const siblings = this.byMiner.get(miner);
      if (siblings === undefined) this.byMiner.set(miner, new Set([tally]));
      else siblings.add(tally);
    }
    this.workers.set(label, tally);
    return tally;
  }
}

function toRecord(map: ReadonlyMap<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, n] of map) out[String(code)] = n;
  return out;
}
