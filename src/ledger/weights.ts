// Exact share weights for rewards. A share judged at packed difficulty `order << 24 | mantissa` is worth
// 2^order × (2^24 + mantissa) / 2^24 difficulty units (docs/pow.md "Packed difficulty"); scaled by 2^24 that is an
// integer, so sums and reward splits never touch floating point.
const MANTISSA_BITS = 24n;

export function shareWeight(packed: number): bigint {
  const order = BigInt(Math.floor(packed / 2 ** 24));
  const mantissa = BigInt(packed % 2 ** 24);
  return ((1n << MANTISSA_BITS) + mantissa) << order;
}

/** Difficulty units (as used by --window) to the same scale as shareWeight. */
export function difficultyUnitsToWeight(units: bigint): bigint {
  return units << MANTISSA_BITS;
}

export function weightToDifficultyString(weight: bigint): string {
  // weight / 2^24, exact: 2^24 divides 10^24, so at most 24 fractional digits.
  const whole = weight >> MANTISSA_BITS;
  const frac = weight & ((1n << MANTISSA_BITS) - 1n);
  if (frac === 0n) return whole.toString();
  const digits = ((frac * 10n ** 24n) >> MANTISSA_BITS).toString().padStart(24, '0').replace(/0+$/, '');
  return `${whole}.${digits}`;
}

/**
 * Splits `total` units in proportion to `weights`: each part is floor(total × w / W), and the units left over (fewer
 * than the number of parts) go one each to the largest remainders, ties to the key that sorts first. Parts sum to
 * `total` exactly.
 */
export function splitExactly(total: bigint, weights: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const sum = [...weights.values()].reduce((a, b) => a + b, 0n);
  const parts = new Map<string, bigint>();
  if (sum === 0n) return parts;
  const remainders: Array<{ key: string; rem: bigint }> = [];
  let given = 0n;
  for (const [key, w] of weights) {
    const part = (total * w) / sum;
    parts.set(key, part);
    given += part;
    remainders.push({ key, rem: (total * w) % sum });
  }
  remainders.sort((a, b) => (a.rem === b.rem ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.rem > b.rem ? -1 : 1));
  let left = total - given;
  for (const { key } of remainders) {
    if (left === 0n) break;
    parts.set(key, (parts.get(key) ?? 0n) + 1n);
    left -= 1n;
  }
  return parts;
}
