// One solution at a time, on the calling thread: what `equigate pow verify` prints and tests compare
// against. The gateway's hot path is VerifierPool; both share the mapping from native verdicts to results.
// spec: docs/pow.md (variants, target rule); native contract: src/pow/native.ts.
import { INPUT_BYTES, MAX_OUTPUT_BYTES, NONCE_BYTES, VerifyCode, native, type NativeAddon } from './native.js';
import { meetsTarget } from './difficulty.js';
import { PowError } from './errors.js';
import { parseHex } from './hex.js';
import type { InvalidReason, NativeVerdict, SolutionInput } from './types.js';
import type { PowVariant, VariantName } from './variants.js';

/** The outcome of one verification, as printed by the CLI (one JSON object per solution). */
export interface VerifyResult {
  /** pow && target !== false. */
  readonly valid: boolean;
  /** The BeamHash/Equihash solution itself is valid for the input, nonce and variant. */
  readonly pow: boolean;
  /** SHA-256(output) meets the packed difficulty; null when none was given or the output was never hashed. */
  readonly target: boolean | null;
  /** The variant the solution was checked under; null when the request named none that exists. */
  readonly variant: VariantName | null;
  /** The first failure, or null when valid. */
  readonly reason: InvalidReason | null;
}

/** A solution as text (CLI flags, JSON lines): hex fields, a variant and an optional packed difficulty. */
export interface HexSolution {
  readonly variant: PowVariant;
  readonly input: string;
  readonly nonce: string;
  readonly output: string;
  /** Packed difficulty (docs/pow.md); null or absent = no target check. */
  readonly difficulty?: number | null;
}

// Indexed by VerifyCode (src/pow/native.ts).
const REASON_BY_CODE: readonly (InvalidReason | null)[] = [
  null, // Valid
  'bad-input-length',
  'bad-nonce-length',
  'bad-output-length',
  'index-out-of-range',
  'index-order',
  'duplicate-index',
  'collision-failed',
  'final-not-zero',
  'unknown-variant',
];

/** InvalidReason for a native VerifyCode (null for Valid); an unknown code is an addon contract breach. */
export function reasonForCode(code: number): InvalidReason | null {
  const reason = REASON_BY_CODE[code];
  if (reason === undefined) throw new PowError('native-contract', `addon returned unknown verify code ${code}`);
  return reason;
}

/** The VerifyCode a reason came from, for reasons the addon can produce; undefined for TS-only reasons. */
export function codeForReason(reason: InvalidReason | null): number | undefined {
  const code = REASON_BY_CODE.indexOf(reason);
  return code === -1 ? undefined : code;
}

/** Reasons found after the addon hashed a well-formed output: only then is a target comparison meaningful. */
function outputWasHashed(reason: InvalidReason | null): boolean {
  const code = codeForReason(reason);
  return code !== undefined && code >= VerifyCode.IndexOutOfRange && code <= VerifyCode.FinalNotZero;
}

/** First length failure of a decoded solution, checked before any bytes reach the addon. */
export function lengthFailure(solution: SolutionInput): InvalidReason | null {
  if (solution.input.length !== INPUT_BYTES) return 'bad-input-length';
  if (solution.nonce.length !== NONCE_BYTES) return 'bad-nonce-length';
  const outputBytes = solution.output.length;
  if (outputBytes !== solution.variant.solutionBytes || outputBytes > MAX_OUTPUT_BYTES) return 'bad-output-length';
  return null;
}

/** Decodes the hex fields (strictly: odd length or a non-hex digit is 'bad-hex'); lengths are not checked here. */
export function decodeHexSolution(request: HexSolution): SolutionInput | InvalidReason {
  const input = parseHex(request.input);
  const nonce = parseHex(request.nonce);
  const output = parseHex(request.output);
  if (input === null || nonce === null || output === null) return 'bad-hex';
  return { variant: request.variant, input, nonce, output };
}

/** A native (code, SHA-256) pair as a verdict. */
export function verdictFromNative(code: number, hash: Buffer): NativeVerdict {
  const reason = reasonForCode(code);
  return { powValid: reason === null, reason, hash };
}

/** A result for a request rejected before verification (hex, length, malformed request). */
export function rejectedResult(reason: InvalidReason, variant: VariantName | null): VerifyResult {
  return { valid: false, pow: false, target: null, variant, reason };
}

/** Combines a PoW verdict with the optional packed target; the PoW failure, if any, is the reason. */
export function resultFromVerdict(variant: PowVariant, verdict: NativeVerdict, difficulty: number | null): VerifyResult {
  const checkTarget = difficulty !== null && (verdict.powValid || outputWasHashed(verdict.reason));
  const target = checkTarget ? meetsTarget(verdict.hash, difficulty) : null;
  if (!verdict.powValid) return { valid: false, pow: false, target, variant: variant.name, reason: verdict.reason };
  const valid = target !== false;
  return { valid, pow: true, target, variant: variant.name, reason: valid ? null : 'above-target' };
}

/** Verifies one decoded solution on the calling thread (lengths first, then the addon). */
export function verifyDecoded(solution: SolutionInput, addon: NativeAddon = native): NativeVerdict {
  const reason = lengthFailure(solution);
  if (reason !== null) return { powValid: false, reason, hash: addon.sha256(solution.output) };
  const { code, hash } = addon.verifyOne(solution.variant.nativeId, solution.input, solution.nonce, solution.output);
  return verdictFromNative(code, hash);
}

/** Verifies one hex solution synchronously (CLI, tests). */
export function verifySolution(request: HexSolution, addon: NativeAddon = native): VerifyResult {
  const decoded = decodeHexSolution(request);
  if (typeof decoded === 'string') return rejectedResult(decoded, request.variant.name);
  return resultFromVerdict(request.variant, verifyDecoded(decoded, addon), request.difficulty ?? null);
}
