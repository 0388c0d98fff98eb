// Beam's packed difficulty: packed = order << 24 | mantissa, difficulty = 2^order × (1 + mantissa / 2^24).
// spec: docs/pow.md — "passes iff H × (2^24 | m) < 2^(280 − order)"; exact integer maths throughout.
import { toHex } from './hex.js';

const MANTISSA_BITS = 24;
const MANTISSA_MASK = (1 << MANTISSA_BITS) - 1;
/** Largest meaningful packed value (Beam's s_Inf = 232 << 24); anything above never meets any target. */
const PACKED_ORDER_INFINITY = 232;
export const PACKED_INFINITY = PACKED_ORDER_INFINITY * 2 ** MANTISSA_BITS;
const TWO_POW_256 = 2 ** 256;
/** Packed difficulties travel as u32 (job `difficulty`, block headers); values above PACKED_INFINITY are invalid. */
const U32_MAX = 0xffff_ffff;

export interface UnpackedDifficulty {
  readonly order: number;
  readonly mantissa: number;
}

export function isValidPacked(packed: number): boolean {
  return Number.isInteger(packed) && packed >= 0 && packed <= PACKED_INFINITY;
}

export function unpack(packed: number): UnpackedDifficulty {
  return { order: Math.floor(packed / 2 ** MANTISSA_BITS), mantissa: packed & MANTISSA_MASK };
}

/** Difficulty as a float (for display, stats and vardiff only; never for accept/reject). */
export function packedToDifficulty(packed: number): number {
  const { order, mantissa } = unpack(packed);
  return 2 ** order * (1 + mantissa / 2 ** MANTISSA_BITS);
}

/**
 * Largest packed value whose difficulty does not exceed `difficulty`; below 1 it is 0 (difficulty 1).
 * Rounding down means a share is never asked to meet more than the configured difficulty.
 */
export function difficultyToPacked(difficulty: number): number {
  if (!Number.isFinite(difficulty) || difficulty <= 1) return difficulty === Infinity ? PACKED_INFINITY : 0;
  let order = Math.floor(Math.log2(difficulty));
  // log2 can land one off for values near a power of two; settle it exactly.
  if (2 ** order > difficulty) order -= 1;
  if (2 ** (order + 1) <= difficulty) order += 1;
  if (order >= PACKED_ORDER_INFINITY) return PACKED_INFINITY;
  const mantissa = Math.min(MANTISSA_MASK, Math.floor((difficulty / 2 ** order - 1) * 2 ** MANTISSA_BITS));
  return order * 2 ** MANTISSA_BITS + mantissa;
}

/**
 * A packed difficulty as written by people and JSON: a u32 as a number, a decimal string or a 0x-hex
 * string (vectors print both forms). Null when it is not a u32; a u32 above PACKED_INFINITY is returned
 * as is, because it is a well-formed value that simply never meets any target.
 */
export function parsePacked(value: unknown): number | null {
  let packed: number;
  if (typeof value === 'number') {
    packed = value;
  } else if (typeof value === 'string' && /^[0-9]{1,10}$/.test(value)) {
    packed = Number(value);
  } else if (typeof value === 'string' && /^0[xX][0-9a-fA-F]{1,8}$/.test(value)) {
    packed = Number.parseInt(value.slice(2), 16);
  } else {
    return null;
  }
  return Number.isInteger(packed) && packed >= 0 && packed <= U32_MAX ? packed : null;
}

/** Reads a hash (SHA-256, 32 bytes) as a big-endian unsigned integer. */
export function hashToBigInt(hash: Uint8Array): bigint {
  return hash.length === 0 ? 0n : BigInt(`0x${toHex(hash)}`);
}

/** spec: docs/pow.md — H × (2^24 | m) < 2^(280 − order), H = SHA-256(output) big-endian. */
export function meetsTarget(hash: Uint8Array | bigint, packed: number): boolean {
  if (!isValidPacked(packed)) return false;
  const h = typeof hash === 'bigint' ? hash : hashToBigInt(hash);
  const { order, mantissa } = unpack(packed);
  return h * BigInt((1 << MANTISSA_BITS) | mantissa) < 1n << BigInt(280 - order);
}

/**
 * The largest packed difficulty this hash meets (exact; for share statistics and vardiff).
 * With b = bit length of H ≥ 1, order o passes with the smallest mantissa iff H·2^24 < 2^(280−o), i.e.
 * iff o ≤ 256 − b; at that order the mantissa is the largest m with H·(2^24 + m) < 2^(280−o).
 * H < 2^24 (b ≤ 24) reaches PACKED_INFINITY, whose mantissa is 0 by definition.
 */
export function maxPackedMet(hash: Uint8Array | bigint): number {
  const h = typeof hash === 'bigint' ? hash : hashToBigInt(hash);
  const bitLength = h === 0n ? 0 : h.toString(2).length;
  const order = 256 - bitLength;
  if (order >= PACKED_ORDER_INFINITY) return PACKED_INFINITY;
  // Largest q with H·q < 2^(280−o) is ⌊(2^(280−o) − 1) / H⌋; it lies in [2^24, 2^25) for this order.
  const q = ((1n << BigInt(280 - order)) - 1n) / h;
  return order * 2 ** MANTISSA_BITS + Number(q - (1n << BigInt(MANTISSA_BITS)));
}

/** Difficulty this hash actually achieved, 2^256 / H, as a float for statistics. */
export function achievedDifficulty(hash: Uint8Array | bigint): number {
  const h = typeof hash === 'bigint' ? hash : hashToBigInt(hash);
  if (h === 0n) return Infinity;
  return TWO_POW_256 / Number(h);
}

/** Orders two packed difficulties (both valid); negative if a < b. Packed values order like the difficulties. */
export function comparePacked(a: number, b: number): number {
  return a - b;
}
