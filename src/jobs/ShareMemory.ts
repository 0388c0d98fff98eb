// Duplicate detection for one job (docs/gateway.md check 6, docs/decisions.md D29): solutions that passed
// proof of work are remembered for as long as the job can be judged, as 8-byte digests in an open-addressing table;
// solutions being verified are held apart, so a concurrent twin is a duplicate while an invalid one costs no memory
// that protects accepted shares. Nothing is ever forgotten: a job whose table is full refuses further solutions.
import { createHash } from 'node:crypto';

/** 64 bits of SHA-256(nonce ‖ output): two distinct solutions of one job share it with probability ~ n² / 2^65. */
export interface SolutionDigest {
  readonly hi: number;
  readonly lo: number;
}

export function solutionDigest(nonce: Uint8Array, output: Uint8Array): SolutionDigest {
  const digest = createHash('sha256').update(nonce).update(output).digest();
  const hi = digest.readUInt32LE(0);
  const lo = digest.readUInt32LE(4);
  // (0, 0) marks an empty slot; the one digest that reads as empty is folded onto (0, 1).
  return hi === 0 && lo === 0 ? { hi: 0, lo: 1 } : { hi, lo };
}

/** 'job-full': the job already remembers its maximum of verified solutions (stratum.maxSharesPerJob). */
export type SolutionClaim = 'fresh' | 'duplicate' | 'job-full';

const INITIAL_SLOTS = 64;

export class JobShareMemory {
  /** Slot i holds (hi, lo) at [2i, 2i + 1]; (0, 0) = empty. Load kept at or below 1/2. */
  private slots = new Uint32Array(INITIAL_SLOTS * 2);
  private remembered = 0;
  /** Solutions claimed and not yet settled (in verification), by a 53-bit key of their digest. */
  private readonly inVerification = new Set<number>();

  constructor(private readonly limit: number) {}

  /** Verified solutions remembered. */
  get size(): number {
    return this.remembered;
  }

  get verifying(): number {
    return this.inVerification.size;
  }

  /** Bytes held by the table (for docs and tests: 16 to 32 bytes per remembered solution). */
  get tableBytes(): number {
    return this.slots.byteLength;
  }

  /** A solution about to be verified: 'fresh' claims it until settle(). */
  claim(digest: SolutionDigest): SolutionClaim {
    const key = pendingKey(digest);
    if (this.inVerification.has(key) || this.has(digest)) return 'duplicate';
    if (this.remembered >= this.limit) return 'job-full';
    this.inVerification.add(key);
    return 'fresh';
  }

  /** Ends a claim: `remember` when its proof of work passed (a resend is then a duplicate for the job's life). */
  settle(digest: SolutionDigest, remember: boolean): void {
    this.inVerification.delete(pendingKey(digest));
    if (remember) this.insert(digest);
  }

  private has(digest: SolutionDigest): boolean {
    const slots = this.slots;
    const mask = slots.length / 2 - 1;
    for (let i = digest.lo & mask; ; i = (i + 1) & mask) {
      const hi = slots[2 * i] as number;
      const lo = slots[2 * i + 1] as number;
      if (hi === 0 && lo === 0) return false;
      if (hi === digest.hi && lo === digest.lo) return true;
    }
  }

  private insert(digest: SolutionDigest): void {
    if (this.has(digest)) return;
    if ((this.remembered + 1) * 2 > this.slots.length / 2) this.grow();
    place(this.slots, digest.hi, digest.lo);
    this.remembered += 1;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      const hi = old[i] as number;
      const lo = old[i + 1] as number;
      if (hi !== 0 || lo !== 0) place(this.slots, hi, lo);
    }
  }
}

function place(slots: Uint32Array, hi: number, lo: number): void {
  const mask = slots.length / 2 - 1;
  let i = lo & mask;
  while ((slots[2 * i] as number) !== 0 || (slots[2 * i + 1] as number) !== 0) i = (i + 1) & mask;
  slots[2 * i] = hi;
  slots[2 * i + 1] = lo;
}

function pendingKey(digest: SolutionDigest): number {
  return (digest.hi & 0x1f_ffff) * 0x1_0000_0000 + digest.lo;
}
