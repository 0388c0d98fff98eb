// One nonce space for every port (docs/gateway.md "Several ports"): listeners with their own per-session digits
// split the 16 values of the first session digit between them, so no prefix of one port is a prefix of
// another's, whatever their lengths; listeners with 0 digits (shared mode) hand out the shared part only and
// overlap everyone by nature (their miners pick random 64-bit nonces; duplicates are caught per job).
import { NoncePrefixAllocator, type NoncePrefixLease } from './NoncePrefixAllocator.js';

export interface PrefixProfile {
  readonly name: string;
  readonly noncePrefixDigits: number;
  /** false: the profile has no listener, so it takes no share of the space. */
  readonly listening: boolean;
}

export class NoncePrefixSpace {
  private readonly allocators = new Map<string, NoncePrefixAllocator>();

  constructor(instanceId: string, profiles: readonly PrefixProfile[]) {
    const owning = profiles.filter((p) => p.noncePrefixDigits > 0 && (p.listening || profiles.length === 1));
    for (const profile of profiles) {
      const index = owning.indexOf(profile);
      const partition = index === -1 ? { index: 0, count: 1 } : { index, count: owning.length };
      this.allocators.set(profile.name, new NoncePrefixAllocator({ instanceId, noncePrefixDigits: profile.noncePrefixDigits, partition }));
    }
  }

  allocatorOf(profile: string): NoncePrefixAllocator {
    const allocator = this.allocators.get(profile);
    if (allocator === undefined) throw new Error(`no nonce prefix allocator for profile ${profile}`);
    return allocator;
  }

  /** The node's (new) prefix re-derives every allocator; returns the leases that no longer fit. */
  setUpstreamPrefix(prefix: string): NoncePrefixLease[] {
    const revoked: NoncePrefixLease[] = [];
    // All or nothing: a bad prefix throws before any allocator changed (they validate alike).
    for (const allocator of this.allocators.values()) revoked.push(...allocator.setUpstreamPrefix(prefix));
    return revoked;
  }

  describe(): Record<string, { sessionDigits: number; capacity: number }> {
    const out: Record<string, { sessionDigits: number; capacity: number }> = {};
    for (const [name, a] of this.allocators) out[name] = { sessionDigits: a.sessionDigits, capacity: a.capacity };
    return out;
  }
}
