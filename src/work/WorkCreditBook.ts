// Credit for workers (docs/work-service.md "Credit"). The books own it: the interface and both backends live in
// src/ledger/workCredits.ts (work → ledger, never the reverse); this file adds the service's micro-unit arithmetic.
// Amounts are integer micro-units (1e-6) so sums are exact; `units` is the difficulty multiplier of the work asked.
export type { WorkCreditBook, WorkCreditEntry, WorkerTotals, WorkPayoutEntry } from '../ledger/workCredits.js';

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
