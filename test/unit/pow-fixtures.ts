// Fixtures for the PoW tests: the vector files in test/vectors (see its README; not a test file itself).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPowError, type PowErrorCode } from '../../src/pow/errors.js';
import { VARIANTS, type PowVariant } from '../../src/pow/variants.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function readVectors<T>(file: string): T {
  return JSON.parse(readFileSync(path.resolve(REPO_ROOT, 'test', 'vectors', file), 'utf8')) as T;
}

/** A solution vector of vectors/beamhash.json ('valid' or 'invalid'). */
export interface BeamVector {
  readonly name: string;
  readonly variant: 'BeamHashI' | 'BeamHashII' | 'BeamHashIII' | 'any';
  readonly input: string;
  readonly nonce: string;
  readonly output: string;
  readonly expected_pow_valid: boolean;
  readonly sha256_output?: string;
  readonly max_packed_difficulty_met?: number;
  readonly packed_difficulty?: number;
  readonly chain?: string;
  readonly height?: number;
}

export interface DifficultyCheck {
  readonly output_of?: string;
  readonly output_hex?: string;
  readonly packed: number;
  readonly expect: boolean;
}

export interface BeamVectors {
  readonly fork_heights: Readonly<Record<string, { BeamHashII_from: number; BeamHashIII_from: number }>>;
  readonly valid: readonly BeamVector[];
  readonly invalid: readonly BeamVector[];
  readonly difficulty_checks: readonly DifficultyCheck[];
  readonly packed_difficulty_unpack: readonly { packed: number; difficulty: number | string }[];
}

export interface NanoVectors {
  readonly thresholds: Readonly<Record<string, string>>;
  readonly multiplier_vectors: readonly { base: string; difficulty: string; multiplier: number; source: string }[];
  readonly valid: readonly {
    name: string;
    root: string;
    work: string;
    value: string;
    stated_value?: string;
    docs_printed_value?: string;
    valid_at: Readonly<Record<string, boolean>>;
  }[];
  readonly invalid: readonly { name: string; root: string; work: string; value: string; threshold: string; wrong_byte_order?: boolean }[];
}

export const beamVectors = readVectors<BeamVectors>('beamhash.json');
export const nanoVectors = readVectors<NanoVectors>('nano-pow.json');

/** The real Beam variants (the devnet has no vectors). */
export const BEAM_VARIANTS: readonly PowVariant[] = [VARIANTS.beamhash1, VARIANTS.beamhash2, VARIANTS.beamhash3];

/** Variants a vector's 'variant' field names ('any' = every real one). */
export function variantsOf(vector: BeamVector): readonly PowVariant[] {
  switch (vector.variant) {
    case 'BeamHashI':
      return [VARIANTS.beamhash1];
    case 'BeamHashII':
      return [VARIANTS.beamhash2];
    case 'BeamHashIII':
      return [VARIANTS.beamhash3];
    case 'any':
      return BEAM_VARIANTS;
  }
}

/** Reasons that mean "the addon read the solution and it is not one" (as opposed to a malformed request). */
export const STRUCTURAL_REASONS = new Set(['index-out-of-range', 'index-order', 'duplicate-index', 'collision-failed', 'final-not-zero']);

/** An assert.throws / assert.rejects matcher for a PowError with this code. */
export function rejectsWith(code: PowErrorCode): (err: unknown) => boolean {
  return (err) => isPowError(err) && err.code === code;
}
