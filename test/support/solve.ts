// Real devnet solutions for hand-driven clients: the native solver, nonces from a prefix (or at random).
import { createHash, randomBytes } from 'node:crypto';
import { meetsTarget } from '../../src/pow/difficulty.js';
import { native, NativeVariant } from '../../src/pow/native.js';

export interface Solved {
  readonly nonce: string;
  readonly output: string;
  readonly hash: Buffer;
}

/**
 * The first devnet solution of `inputHex` whose nonce starts with `prefix` and whose SHA-256 meets every packed
 * target in `meets` and none in `misses` (e.g. meets the old share target but not the new one).
 */
export function solveDevnet(inputHex: string, prefix: string, meets: readonly number[], misses: readonly number[] = [], maxNonces = 20_000): Solved {
  const input = Buffer.from(inputHex, 'hex');
  for (let i = 0; i < maxNonces; i++) {
    const nonce = (prefix + randomBytes(8).toString('hex')).slice(0, 16);
    for (const out of native.solve(NativeVariant.Devnet, input, Buffer.from(nonce, 'hex'))) {
      const hash = createHash('sha256').update(out).digest();
      if (meets.every((t) => meetsTarget(hash, t)) && !misses.some((t) => meetsTarget(hash, t))) {
        return { nonce, output: out.toString('hex'), hash };
      }
    }
  }
  throw new Error(`no devnet solution found in ${maxNonces} nonces`);
}

/**
 * `count` devnet solutions of `inputHex` with nonces `prefix` + a counter from `start` (deterministic, so a test
 * can ask for more without repeats by moving `start`).
 */
export function mineDevnet(inputHex: string, prefix: string, count = 1, start = 0): Array<{ nonce: string; output: string }> {
  const found: Array<{ nonce: string; output: string }> = [];
  const input = Buffer.from(inputHex, 'hex');
  for (let counter = start; found.length < count; counter++) {
    const nonce = prefix + counter.toString(16).padStart(16 - prefix.length, '0');
    for (const output of native.solve(NativeVariant.Devnet, input, Buffer.from(nonce, 'hex'))) {
      if (found.length < count) found.push({ nonce, output: output.toString('hex') });
    }
  }
  return found;
}
