// Integer config formats with a validated range, so no number in the config can validate and then lock every
// miner out (docs/hostile-peers.md "Limits"). `0 = off` is allowed only where a key says so (`offAllowed`).
import convict from 'convict';

export interface IntRange {
  readonly min: number;
  readonly max: number;
  /** 0 is accepted too, meaning "off" / "no limit" (documented per key). */
  readonly offAllowed?: boolean;
}

const registered = new Set<string>();

function describe(range: IntRange): string {
  const span = `an integer in [${range.min}, ${range.max}]`;
  return range.offAllowed === true ? `0 (off) or ${span}` : span;
}

/** Strings from the environment or the command line: only plain decimal integers count. */
function coerceInt(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^-?[0-9]+$/.test(value.trim()) ? Number(value.trim()) : value;
}

/**
 * The name of a convict format accepting integers in [min, max] (and 0 when offAllowed), registering it on
 * first use. Use as `format: intIn({ min: 1000, max: 600_000 })`.
 */
export function intIn(range: IntRange): string {
  if (!Number.isSafeInteger(range.min) || !Number.isSafeInteger(range.max) || range.min > range.max) {
    throw new RangeError(`bad integer range [${range.min}, ${range.max}]`);
  }
  const name = `int[${range.min}..${range.max}]${range.offAllowed === true ? '|0' : ''}`;
  if (!registered.has(name)) {
    registered.add(name);
    convict.addFormat({
      name,
      coerce: coerceInt,
      validate(value: unknown): void {
        const ok =
          typeof value === 'number' &&
          Number.isSafeInteger(value) &&
          ((value >= range.min && value <= range.max) || (range.offAllowed === true && value === 0));
        if (!ok) throw new Error(`must be ${describe(range)}, got ${JSON.stringify(value)}`);
      },
    });
  }
  return name;
}
