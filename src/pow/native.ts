// The native addon's surface (native/*.cc). PoW code only: nothing here knows of sockets.
// Records cross the JS/C++ boundary packed in one Buffer so a whole batch costs one call.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export * from './nativeLayout.js';

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
  /**
   * Nano/Banano work search (docs/work-service.md "Work value"): the first nonce in
   * [startNonce, startNonce + iterations) (mod 2^64) whose value meets `threshold`, or null. Synchronous:
   * run it on a worker thread in bounded chunks.
   */
  nanoWorkGenerate(root: Uint8Array, threshold: bigint, startNonce: bigint, iterations: number): { work: bigint; value: bigint } | null;
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
