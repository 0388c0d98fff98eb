// The native addon's surface (native/*.cc). PoW code only: nothing here knows of sockets.
// Records cross the JS/C++ boundary packed in one Buffer so a whole batch costs one call.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Variant ids as the addon knows them. Equihash variants carry (N, K, R) in the addon's table. */
export const NativeVariant = {
  /** Equihash(150,5), Beam construction, R0. */
  BeamHashI: 1,
  /** Equihash(150,5), Beam construction, R3 (indices < 2^23). */
  BeamHashII: 2,
  /** BeamHash III: SipHash-2-4 based, 448-bit work, 5 rounds of 24-bit collisions. */
  BeamHashIII: 3,
  /** Devnet only: Equihash(48,5) with the BeamHash I construction; solvable on a CPU in milliseconds. */
  Devnet: 16,
} as const;
export type NativeVariantId = (typeof NativeVariant)[keyof typeof NativeVariant];

/** Native verification outcome codes (one byte per record in the results buffer). */
export const VerifyCode = {
  Valid: 0,
  BadInputLength: 1,
  BadNonceLength: 2,
  BadOutputLength: 3,
  IndexOutOfRange: 4,
  IndexOrder: 5,
  DuplicateIndex: 6,
  CollisionFailed: 7,
  FinalNotZero: 8,
  UnknownVariant: 9,
} as const;
export type VerifyCodeValue = (typeof VerifyCode)[keyof typeof VerifyCode];

/**
 * Batch record layout (RECORD_STRIDE bytes each):
 *   [0]       variant id (u8)
 *   [1]       reserved (0)
 *   [2..4)    output length in bytes (u16 little-endian), at most MAX_OUTPUT_BYTES
 *   [4..36)   input (32 bytes)
 *   [36..44)  nonce (8 bytes, wire order)
 *   [44..148) output (zero padded)
 *   [148..152) reserved
 * Result layout (RESULT_STRIDE bytes each):
 *   [0]       VerifyCode
 *   [1..33)   SHA-256(output), for the target check done in TypeScript with exact integers
 */
export const RECORD_STRIDE = 152;
export const RESULT_STRIDE = 33;
export const INPUT_BYTES = 32;
export const NONCE_BYTES = 8;
export const MAX_OUTPUT_BYTES = 104;

export interface NativeAddon {
  /** BLAKE2b with the parameter block's digest length (1..64) and optional 16-byte personalisation / key. */
  blake2b(data: Uint8Array, outLen: number, personal?: Uint8Array, key?: Uint8Array): Buffer;
  sha256(data: Uint8Array): Buffer;
  /**
   * SipHash-2-4 with 128-bit key k0 (u64) / k1 (u64); returns the 64-bit value. A bigint message is
   * hashed as its 8 little-endian bytes; a Uint8Array of any length is hashed as is.
   */
  siphash24(k0: bigint, k1: bigint, message: bigint | Uint8Array): bigint;
  /** Verifies one solution on the calling thread; for the CLI and tests. */
  verifyOne(variant: number, input: Uint8Array, nonce: Uint8Array, output: Uint8Array): { code: number; hash: Buffer };
  /** Verifies `count` packed records on the calling thread, writing `count` results. */
  verifyBatchSync(records: Buffer, count: number, results: Buffer): void;
  /** Same, on a libuv worker thread; `done` runs on the event loop when `results` is filled. */
  verifyBatch(records: Buffer, count: number, results: Buffer, done: (err: Error | null) => void): void;
  /** Pure C++ loop: verifies the records `iterations` times and returns the elapsed nanoseconds (bench only). */
  loopBench(records: Buffer, count: number, iterations: number): number;
  /** Finds every solution of a small-N Equihash variant (devnet) for input ‖ nonce; returns the outputs. */
  solve(variant: number, input: Uint8Array, nonce: Uint8Array): Buffer[];
  /** Solution size in bytes for a variant id, or 0 if unknown. */
  solutionBytes(variant: number): number;
}

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = ['build/Release/equigate_native.node', 'build/Debug/equigate_native.node'];
  let lastError: unknown;
  for (const rel of candidates) {
    try {
      return require(path.join(root, rel)) as NativeAddon;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`equigate native addon not built (run npm install): ${String(lastError)}`);
}

export const native: NativeAddon = loadAddon();
