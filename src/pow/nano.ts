// Nano/Banano work for the BoomPow side. spec: docs/pow.md "Nano/Banano work"; test/vectors/nano-pow.json
// "algorithm": value = BLAKE2b-64 (digest length 8) over work as u64 little-endian ‖ root(32), read as
// u64 little-endian; valid iff value ≥ threshold. All arithmetic on values is exact (BigInt).
import { native, type NativeAddon } from './native.js';
import { PowError, type PowErrorCode } from './errors.js';
import { parseHex } from './hex.js';

const TWO_POW_64 = 1n << 64n;
const U64_MAX = TWO_POW_64 - 1n;
const ROOT_BYTES = 32;
const WORK_BYTES = 8;

/** Thresholds from test/vectors/nano-pow.json "thresholds" (nano-node config.cpp, Banano node config.hpp). */
export const NANO_THRESHOLDS = {
  /** Banano, every block; also Nano epoch-2 receive/open. */
  banano: 0xfffffe0000000000n,
  nanoEpoch2Receive: 0xfffffe0000000000n,
  nanoEpoch2SendChange: 0xfffffff800000000n,
  nanoEpoch1: 0xffffffc000000000n,
} as const;

export interface NanoWorkCheck {
  readonly valid: boolean;
  /** The work value (difficulty the work achieved), a u64. */
  readonly value: bigint;
}

/** A u64 printed as 16 hex digits, big-endian (how nodes print work, thresholds and difficulties). */
export function parseU64Hex(text: string, code: PowErrorCode = 'bad-difficulty'): bigint {
  const bytes = parseHex(text);
  if (bytes === null || bytes.length !== 8) throw new PowError(code, `expected 16 hex digits, got "${text}"`);
  return bytes.readBigUInt64BE(0);
}

export function formatU64Hex(value: bigint): string {
  return requireU64(value, 'bad-difficulty').toString(16).padStart(16, '0');
}

/**
 * The work value of `work` (16 hex digits as the RPC prints it, or the u64 itself) for `root`
 * (64 hex digits or 32 bytes: the previous block hash, or the account key for an open block).
 */
export function nanoWorkValue(work: string | bigint, root: string | Uint8Array, addon: NativeAddon = native): bigint {
  const nonce = typeof work === 'string' ? parseU64Hex(work, 'bad-work') : requireU64(work, 'bad-work');
  const rootBytes = typeof root === 'string' ? parseHex(root) : root;
  if (rootBytes === null || rootBytes.length !== ROOT_BYTES) {
    throw new PowError('bad-root', `root must be ${ROOT_BYTES} bytes (64 hex digits)`);
  }
  const message = Buffer.allocUnsafe(WORK_BYTES + ROOT_BYTES);
  message.writeBigUInt64LE(nonce, 0);
  message.set(rootBytes, WORK_BYTES);
  return addon.blake2b(message, WORK_BYTES).readBigUInt64LE(0);
}

/** Checks work against a threshold (a u64, or 16 hex digits). */
export function validateNanoWork(
  work: string | bigint,
  root: string | Uint8Array,
  threshold: bigint | string,
  addon: NativeAddon = native,
): NanoWorkCheck {
  const min = typeof threshold === 'string' ? parseU64Hex(threshold, 'bad-threshold') : requireU64(threshold, 'bad-threshold');
  const value = nanoWorkValue(work, root, addon);
  return { valid: value >= min, value };
}

/**
 * Multiplier of `difficulty` relative to `base`: (2^64 − base) / (2^64 − difficulty), the exact ratio
 * rounded once to the nearest double.
 */
export function multiplierFromDifficulty(difficulty: bigint, base: bigint): number {
  const numerator = TWO_POW_64 - requireU64(base, 'bad-difficulty');
  const denominator = TWO_POW_64 - requireU64(difficulty, 'bad-difficulty');
  return ratioToNumber(numerator, denominator);
}

/**
 * Difficulty for a multiplier relative to `base`, as nano-node: 2^64 − (2^64 − base) / m, on the exact
 * value of the double m. The quotient is rounded to the nearest integer rather than floored: a multiplier
 * is itself a rounded ratio, and flooring turns nano-node's own vector (18.95461493377003 over
 * ff00000000000000 → fff27e7a57c285cd) into …ce. For exact multipliers both agree.
 * Results are clamped to the u64 range as nano-node does (0 when the quotient exceeds 2^64 − 1, 2^64 − 1 when it is 0).
 */
export function difficultyFromMultiplier(multiplier: number, base: bigint): bigint {
  if (!Number.isFinite(multiplier) || multiplier <= 0) {
    throw new PowError('bad-multiplier', `multiplier must be a positive finite number, got ${multiplier}`);
  }
  const span = TWO_POW_64 - requireU64(base, 'bad-difficulty');
  const { numerator, denominator } = doubleToRatio(multiplier);
  // round(span / (numerator / denominator)) = ⌊(2·span·denominator + numerator) / (2·numerator)⌋
  const reverse = (2n * span * denominator + numerator) / (2n * numerator);
  if (reverse > U64_MAX) return 0n;
  if (reverse === 0n) return U64_MAX;
  return TWO_POW_64 - reverse;
}

/**
 * BoomPow v2's difficulty for an integer multiplier: (2^64 − 1) − ⌊((2^64 − 1) − base) / m⌋
 * (test/vectors/nano-pow.json "algorithm"; agrees with nano-node's for m ∈ {1, 8, 64}).
 */
export function boompowDifficulty(multiplier: number, base: bigint): bigint {
  if (!Number.isSafeInteger(multiplier) || multiplier < 1) {
    throw new PowError('bad-multiplier', `BoomPow multiplier must be a positive integer, got ${multiplier}`);
  }
  return U64_MAX - (U64_MAX - requireU64(base, 'bad-difficulty')) / BigInt(multiplier);
}

function requireU64(value: bigint, code: PowErrorCode): bigint {
  if (value < 0n || value > U64_MAX) throw new PowError(code, `${value} is not a u64`);
  return value;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** numerator / denominator (both > 0) correctly rounded to a double. */
function ratioToNumber(numerator: bigint, denominator: bigint): number {
  // Scale so the integer quotient has ≥ 65 bits, fold any remainder into a sticky low bit, and let
  // Number(bigint) round once (to nearest, ties to even); dividing by 2^shift is then exact.
  const shift = Math.max(0, 65 + bitLength(denominator) - bitLength(numerator));
  const scaled = numerator << BigInt(shift);
  let quotient = scaled / denominator;
  if (quotient * denominator !== scaled) quotient |= 1n;
  return Number(quotient) / 2 ** shift;
}

/** The exact value of a positive finite double as numerator / 2^k. */
function doubleToRatio(value: number): { numerator: bigint; denominator: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // Subnormals have no implicit leading bit and the exponent of the smallest normal.
  const significand = biasedExponent === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biasedExponent === 0 ? 1 : biasedExponent) - 1075;
  return exponent >= 0
    ? { numerator: significand << BigInt(exponent), denominator: 1n }
    : { numerator: significand, denominator: 1n << BigInt(-exponent) };
}
