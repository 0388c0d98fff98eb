// Beam's packed difficulty: packed = order << 24 | mantissa, difficulty = 2^order × (1 + mantissa / 2^24).
// spec: design.md §4 — "passes iff H × (2^24 | m) < 2^(280 − order)"; exact integer maths throughout.

const MANTISSA_BITS = 24;
const MANTISSA_MASK = (1 << MANTISSA_BITS) - 1;
/** Largest meaningful packed value (Beam's s_Inf = 232 << 24); anything above never meets any target. */
export const PACKED_INFINITY = 232 * 2 ** MANTISSA_BITS;
const TWO_POW_256 = 2 ** 256;

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
  if (order >= 232) return PACKED_INFINITY;
  const mantissa = Math.min(MANTISSA_MASK, Math.floor((difficulty / 2 ** order - 1) * 2 ** MANTISSA_BITS));
  return order * 2 ** MANTISSA_BITS + mantissa;
}

/** Reads a 32-byte hash as a big-endian unsigned integer. */
export function hashToBigInt(hash: Uint8Array): bigint {
  let hex = '';
  for (const byte of hash) hex += byte.toString(16).padStart(2, '0');
  return hex.length === 0 ? 0n : BigInt(`0x${hex}`);
}

/** spec: design.md §4 — H × (2^24 | m) < 2^(280 − order), H = SHA-256(output) big-endian. */
export function meetsTarget(hash: Uint8Array | bigint, packed: number): boolean {
  if (!isValidPacked(packed)) return false;
  const h = typeof hash === 'bigint' ? hash : hashToBigInt(hash);
  const { order, mantissa } = unpack(packed);
  return h * BigInt((1 << MANTISSA_BITS) | mantissa) < 1n << BigInt(280 - order);
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
