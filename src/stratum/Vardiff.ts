// Vardiff per session (docs/gateway.md "Vardiff"): aims each session at one accepted share every
// `targetSeconds`. Looked at on every accepted share and by the hub's sweep (so a session whose difficulty is
// too hard for it to find any share still comes down); at most one change per `retargetSeconds`.
import type { VardiffConfig } from '../config/schema.js';

export interface VardiffWindow {
  /** Difficulty in force (float, before packing). */
  difficulty: number;
  windowStartMs: number;
  shares: number;
}

export type RetargetResult =
  /** Not yet time, or no share yet and less than targetSeconds gone: keep counting in this window. */
  | { readonly kind: 'wait' }
  /** Looked: within the variance (or clamped to no change); start a new window at the same difficulty. */
  | { readonly kind: 'keep' }
  | { readonly kind: 'change'; readonly difficulty: number };

/**
 * Seconds per share are estimated as elapsed / shares (elapsed when no share came: a lower bound on the real
 * figure, so the difficulty only comes down); the change is at most maxStep either way and stays in [min, max].
 */
export function retarget(window: VardiffWindow, nowMs: number, v: VardiffConfig): RetargetResult {
  const elapsedS = (nowMs - window.windowStartMs) / 1000;
  if (elapsedS < v.retargetSeconds) return WAIT;
  if (window.shares === 0 && elapsedS <= v.targetSeconds) return WAIT;
  const perShareS = elapsedS / Math.max(1, window.shares);
  if (window.shares > 0 && Math.abs(perShareS - v.targetSeconds) <= (v.targetSeconds * v.variancePercent) / 100) return KEEP;
  const factor = Math.min(v.maxStep, Math.max(1 / v.maxStep, v.targetSeconds / perShareS));
  const next = Math.min(v.maxDifficulty, Math.max(v.minDifficulty, window.difficulty * factor));
  return next === window.difficulty ? KEEP : { kind: 'change', difficulty: next };
}

const WAIT: RetargetResult = { kind: 'wait' };
const KEEP: RetargetResult = { kind: 'keep' };
