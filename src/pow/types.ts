// What the rest of the gateway needs from PoW verification, independent of how it is done.
import type { PowVariant } from './variants.js';

/** Why a solution failed, by name; `null` when it is valid. See docs/pow.md "Result fields". */
export type InvalidReason =
  | 'bad-hex'
  | 'bad-input-length'
  | 'bad-nonce-length'
  | 'bad-output-length'
  | 'index-out-of-range'
  | 'index-order'
  | 'duplicate-index'
  | 'collision-failed'
  | 'final-not-zero'
  | 'unknown-variant'
  | 'above-target'
  /** A request that cannot be read at all: bad JSON, a missing or mistyped field, unknown chain, bad height or difficulty. */
  | 'malformed-request';

export interface SolutionInput {
  readonly variant: PowVariant;
  readonly input: Uint8Array;
  readonly nonce: Uint8Array;
  readonly output: Uint8Array;
}

export interface NativeVerdict {
  /** true iff the Equihash/BeamHash solution itself is valid (no target check). */
  readonly powValid: boolean;
  readonly reason: InvalidReason | null;
  /** SHA-256(output): the value compared against packed targets (docs/pow.md). */
  readonly hash: Buffer;
}

/** Verifies solutions off the event loop; many concurrent calls are batched into few native calls. */
export interface SolutionVerifier {
  verify(solution: SolutionInput): Promise<NativeVerdict>;
  close(): Promise<void>;
}
