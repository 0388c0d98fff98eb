// Hands every live session a unique nonce prefix. spec: docs/gateway.md — prefix = upstream prefix + instance id +
// per-session digits, even length, lowercase, ≤ 12 hex digits, unique among live sessions; docs/gateway.md "Miner clients" — miners parse it
// as whole bytes and some refuse more than 6 bytes.
//
// Odd upstream prefix (the node allows 0–6 hex digits): the node's digits are kept exactly, and the per-session
// field grows by one digit so that the total is even again. Every handed-out prefix still starts with the node's
// prefix, so every nonce the node sees carries it; the extra digit only multiplies our session space by 16.
// Example: node "abc", instance "01", 4 session digits ⇒ "abc01" + 5 digits = 10 digits (5 bytes).

export const MAX_TOTAL_PREFIX_DIGITS = 12;
export const MAX_UPSTREAM_PREFIX_DIGITS = 6;
export const MAX_INSTANCE_DIGITS = 4;
export const MAX_SESSION_DIGITS = 6;

export type NoncePrefixErrorCode = 'exhausted' | 'bad-instance-id' | 'bad-session-digits' | 'bad-upstream-prefix';

export class NoncePrefixError extends Error {
  constructor(
    readonly code: NoncePrefixErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoncePrefixError';
  }
}

/** A session's hold on a prefix; `prefix` changes in place when the upstream prefix changes (re-login). */
export interface NoncePrefixLease {
  readonly prefix: string;
  readonly slot: number;
}

class Lease implements NoncePrefixLease {
  constructor(
    public slot: number,
    public prefix: string,
  ) {}
}

export interface NoncePrefixAllocatorOptions {
  /** config instanceId: 0–4 hex digits, even length. */
  readonly instanceId: string;
  /**
   * stratum.noncePrefixDigits (or a listener's): 1–6 exclusive per-session digits; 0 = shared mode (every session
   * gets the gateway's shared prefix, any number of sessions; docs/gateway.md "Nonce prefix layout").
   */
  readonly noncePrefixDigits: number;
  /** The node's prefix, if already known. */
  readonly upstreamPrefix?: string;
  /**
   * Which values of the first session digit this allocator owns, when several listeners with their own digits
   * share one nonce space (docs/gateway.md "Several ports"): the 16 values are split evenly, `index` of `count`.
   * Default: all 16.
   */
  readonly partition?: { readonly index: number; readonly count: number };
}

/** The first-digit values [from, from + size) that partition `index` of `count` owns (earlier ones get the remainder). */
export function firstDigitRange(index: number, count: number): { from: number; size: number } {
  const base = Math.floor(16 / count);
  const extra = 16 % count;
  const size = base + (index < extra ? 1 : 0);
  const from = index * base + Math.min(index, extra);
  return { from, size };
}

const HEX_RE = /^[0-9a-fA-F]*$/;

export class NoncePrefixAllocator {
  private readonly instanceId: string;
  private readonly configuredDigits: number;
  private upstream = '';
  /** upstream + instance id: the part every live prefix shares. */
  private base = '';
  private digits = 0;
  private slotCount = 1;
  private nextFresh = 0;
  /** Released slots, reused oldest-released first; `freeHead` indexes the next one. */
  private free: number[] = [];
  private freeHead = 0;
  private readonly live = new Map<number, Lease>();
  /** Shared mode (noncePrefixDigits 0): one lease every session holds; its prefix is the shared part only. */
  private readonly sharedLease: Lease | undefined;
  private readonly partition: { readonly from: number; readonly size: number; readonly index: number };

  constructor(options: NoncePrefixAllocatorOptions) {
    const instanceId = options.instanceId.toLowerCase();
    if (!HEX_RE.test(instanceId) || instanceId.length % 2 !== 0 || instanceId.length > MAX_INSTANCE_DIGITS) {
      throw new NoncePrefixError('bad-instance-id', `instanceId must be 0–${MAX_INSTANCE_DIGITS} hex digits, even length`);
    }
    const digits = options.noncePrefixDigits;
    if (!Number.isInteger(digits) || digits < 0 || digits > MAX_SESSION_DIGITS) {
      throw new NoncePrefixError('bad-session-digits', `noncePrefixDigits must be 0–${MAX_SESSION_DIGITS}`);
    }
    const partition = options.partition ?? { index: 0, count: 1 };
    if (!Number.isInteger(partition.count) || partition.count < 1 || partition.count > 16 || partition.index < 0 || partition.index >= partition.count) {
      throw new NoncePrefixError('bad-session-digits', 'at most 16 listeners with their own nonce prefixes share one nonce space');
    }
    this.partition = { ...firstDigitRange(partition.index, partition.count), index: partition.index };
    this.instanceId = instanceId;
    this.configuredDigits = digits;
    this.sharedLease = digits === 0 ? new Lease(-1, '') : undefined;
    this.applyUpstream(options.upstreamPrefix ?? '');
  }

  /** true when every session shares the gateway's prefix (noncePrefixDigits 0). */
  get shared(): boolean {
    return this.sharedLease !== undefined;
  }

  get upstreamPrefix(): string {
    return this.upstream;
  }

  /** Per-session digits in effect (configured, adjusted for an odd upstream prefix and the 12-digit cap). */
  get sessionDigits(): number {
    return this.digits;
  }

  /** How many sessions can hold a prefix at once. */
  get capacity(): number {
    return this.slotCount;
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Throws NoncePrefixError('exhausted') when every prefix is held by a live session (never in shared mode). */
  allocate(): NoncePrefixLease {
    if (this.sharedLease !== undefined) return this.sharedLease;
    let slot: number;
    if (this.nextFresh < this.slotCount) {
      slot = this.nextFresh++;
    } else if (this.freeHead < this.free.length) {
      slot = this.free[this.freeHead++] as number;
      if (this.freeHead > 1024 && this.freeHead * 2 > this.free.length) {
        this.free = this.free.slice(this.freeHead);
        this.freeHead = 0;
      }
    } else {
      throw new NoncePrefixError('exhausted', `all ${this.slotCount} nonce prefixes are in use`);
    }
    const lease = new Lease(slot, this.format(slot));
    this.live.set(slot, lease);
    return lease;
  }

  /** Returns a lease's prefix to the pool; releasing twice, or a revoked lease, is harmless. */
  release(lease: NoncePrefixLease): void {
    if (this.live.get(lease.slot) !== lease) return;
    this.live.delete(lease.slot);
    this.free.push(lease.slot);
  }

  /**
   * The node gave a (new) prefix on login: every live lease is re-derived in place (sessions send it in their next
   * job, NiceHash style). Returns the leases that no longer fit (only possible when the session field shrank);
   * their sessions must be closed.
   */
  setUpstreamPrefix(prefix: string): NoncePrefixLease[] {
    if (prefix === this.upstream) return [];
    const previousDigits = this.digits;
    this.applyUpstream(prefix);
    if (this.sharedLease !== undefined) return [];
    if (this.digits === previousDigits) {
      for (const lease of this.live.values()) lease.prefix = this.format(lease.slot);
      return [];
    }
    // The session field changed size: renumber live leases compactly (O(n), only on a re-login).
    const leases = [...this.live.values()];
    this.live.clear();
    this.free = [];
    this.freeHead = 0;
    this.nextFresh = 0;
    const revoked: NoncePrefixLease[] = [];
    for (const lease of leases) {
      if (this.nextFresh >= this.slotCount) {
        revoked.push(lease);
        continue;
      }
      lease.slot = this.nextFresh++;
      lease.prefix = this.format(lease.slot);
      this.live.set(lease.slot, lease);
    }
    return revoked;
  }

  private applyUpstream(prefix: string): void {
    if (!HEX_RE.test(prefix) || prefix.length > MAX_UPSTREAM_PREFIX_DIGITS) {
      throw new NoncePrefixError('bad-upstream-prefix', `upstream nonce prefix must be 0–${MAX_UPSTREAM_PREFIX_DIGITS} hex digits`);
    }
    // Miners get lowercase (they parse bytes) and the gateway's own check is case-insensitive; the node link writes
    // the node's digits back in the node's case when forwarding (src/upstream/noncePrefix.ts).
    this.upstream = prefix;
    this.base = prefix.toLowerCase() + this.instanceId;
    if (this.sharedLease !== undefined) {
      // Shared mode: the shared part as it is (an odd node prefix stays odd; only its digits are enforced).
      this.sharedLease.prefix = this.base;
      this.digits = 0;
      this.slotCount = Number.POSITIVE_INFINITY;
      return;
    }
    let digits = this.configuredDigits;
    if ((this.base.length + digits) % 2 !== 0) digits += 1;
    if (this.base.length + digits > MAX_TOTAL_PREFIX_DIGITS) {
      digits = MAX_TOTAL_PREFIX_DIGITS - this.base.length;
      if ((this.base.length + digits) % 2 !== 0) digits -= 1;
    }
    this.digits = digits;
    // Only the partition's first-digit values: prefixes of different listeners never share a first digit, so
    // none is a prefix of another whatever their lengths. With no session digit left (12-digit cap) only the
    // first partition gets the one prefix.
    this.slotCount = digits === 0 ? (this.partition.index === 0 ? 1 : 0) : this.partition.size * 16 ** (digits - 1);
  }

  private format(slot: number): string {
    if (this.digits === 0) return this.base;
    const value = this.partition.from * 16 ** (this.digits - 1) + slot;
    return this.base + value.toString(16).padStart(this.digits, '0');
  }
}
