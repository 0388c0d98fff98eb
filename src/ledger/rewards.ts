// Reward reports (docs/ledger.md "Reward reports"): how a block's reward splits among miners under PPLNS or PROP,
// in integer units of the chain's smallest coin unit, exact and summing to the reward.
import { LedgerError, type CreditRow, type LedgerStore, type StoredBlock } from './types.js';
import { difficultyUnitsToWeight, splitExactly, weightToDifficultyString } from './weights.js';

export type RewardScheme = 'pplns' | 'prop';

export interface RewardRequest {
  readonly height: number;
  readonly scheme: RewardScheme;
  /** Reward to split, in the smallest unit (groth for Beam). */
  readonly reward: bigint;
  /** PPLNS: the last N difficulty units of shares up to the block. */
  readonly window?: bigint;
}

export interface RewardPayout {
  readonly miner: string;
  /** Difficulty credited to the miner in the window/round (exact decimal). */
  readonly difficulty: string;
  /** Units of the reward (integer, decimal string). */
  readonly amount: string;
}

export interface RewardReport {
  readonly height: number;
  readonly blockHash: string | null;
  readonly finder: string;
  readonly scheme: RewardScheme;
  readonly window: string | null;
  readonly reward: string;
  /** Time span of the shares counted (ms since the epoch). */
  readonly from: number | null;
  readonly to: number;
  readonly totalDifficulty: string;
  readonly payouts: readonly RewardPayout[];
}

export const DEFAULT_PPLNS_WINDOW = 1000n;

/** The moment a block's round ends: its candidate share when the books hold it, else its submission. */
async function roundEnd(store: LedgerStore, block: StoredBlock): Promise<number> {
  const candidate = (await store.shares({ sinceAt: block.submittedAt - 60_000 })).find(
    (s) => s.upstreamJobId === block.upstreamJobId && s.nonce === block.nonce,
  );
  return candidate?.at ?? block.submittedAt;
}

export async function rewardReport(store: LedgerStore, req: RewardRequest): Promise<RewardReport> {
  if (req.reward < 0n) throw new LedgerError('bad-report-args', 'reward must not be negative');
  const blocks = await store.blocks();
  const atHeight = blocks.filter((b) => b.height === req.height);
  if (atHeight.length === 0) throw new LedgerError('no-such-block', `no block at height ${req.height} in the ledger`);
  const block = atHeight.find((b) => b.status === 'accepted');
  if (block === undefined) {
    throw new LedgerError('block-not-accepted', `block at height ${req.height} was not accepted by the node (status ${atHeight.map((b) => b.status).join(', ')})`);
  }
  const to = await roundEnd(store, block);
  const weights = new Map<string, bigint>();
  let from: number | null = null;
  let window: bigint | null = null;

  if (req.scheme === 'prop') {
    // The round: after the previous accepted block's round ended, up to this one's.
    const previous = blocks.filter((b) => b.status === 'accepted' && b.submittedAt < block.submittedAt && b !== block).sort((a, b) => b.submittedAt - a.submittedAt)[0];
    const start = previous === undefined ? 0 : (await roundEnd(store, previous)) + 1;
    for (const c of await store.credits(start, to)) add(weights, c);
    from = start;
  } else {
    window = req.window ?? DEFAULT_PPLNS_WINDOW;
    if (window <= 0n) throw new LedgerError('bad-report-args', '--window must be a positive number of difficulty units');
    let left = difficultyUnitsToWeight(window);
    const credits = await creditsCovering(store, to, left);
    for (let i = credits.length - 1; i >= 0 && left > 0n; i--) {
      const c = credits[i] as CreditRow;
      const take = c.weight < left ? c.weight : left; // the oldest share in the window may count in part
      add(weights, { ...c, weight: take });
      left -= take;
      from = c.at;
    }
  }
  const total = [...weights.values()].reduce((a, b) => a + b, 0n);
  if (total === 0n) throw new LedgerError('bad-report-args', `no shares credited before block ${req.height}: nothing to split`);
  const parts = splitExactly(req.reward, weights);
  const payouts = [...weights.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([miner, w]) => ({ miner, difficulty: weightToDifficultyString(w), amount: (parts.get(miner) ?? 0n).toString() }));
  return {
    height: req.height,
    blockHash: block.blockHash,
    finder: block.miner,
    scheme: req.scheme,
    window: window === null ? null : window.toString(),
    reward: req.reward.toString(),
    from,
    to,
    totalDifficulty: weightToDifficultyString(total),
    payouts,
  };
}

/** Credits up to `to`, reaching back only as far as needed to hold `weight` (the span grows ×4 from 10 minutes). */
async function creditsCovering(store: LedgerStore, to: number, weight: bigint): Promise<CreditRow[]> {
  for (let span = 600_000; ; span *= 4) {
    const from = Math.max(0, to - span);
    const credits = await store.credits(from, to);
    if (from === 0 || credits.reduce((a, c) => a + c.weight, 0n) >= weight) return credits;
  }
}

function add(weights: Map<string, bigint>, c: CreditRow): void {
  weights.set(c.miner, (weights.get(c.miner) ?? 0n) + c.weight);
}

export function reportToCsv(report: RewardReport): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return ['miner,difficulty,amount', ...report.payouts.map((p) => `${quote(p.miner)},${p.difficulty},${p.amount}`)].join('\n') + '\n';
}
