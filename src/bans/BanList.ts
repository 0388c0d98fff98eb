// Banned peers (docs/gateway.md "Abuse control"): an IPv4 address, or an IPv6 address's /64 (one subscriber
// usually holds a whole /64, so banning single v6 addresses would be no ban at all). Entries expire by
// themselves; the list is bounded (the soonest to expire is dropped first). The transports only ask
// `isBanned(ip)` at connection acceptance (TransportDeps.admission); the admin API reads and lifts bans
// through the BanList interface. At start the gateway restores the bans still in force from the books
// (docs/ledger.md "Bans") with `restore`, which is not a BanList operation: it is not a new ban.
import { addressGroup } from '../transports/addressGroup.js';

export interface Ban {
  /** The banned key: an IPv4 address or an IPv6 /64 ("2001:db8:1:2::/64"). */
  readonly key: string;
  readonly reason: string;
  readonly bannedAt: number;
  readonly until: number;
}

/** What operators (and the admin API) may do. */
export interface BanList {
  list(): Ban[];
  ban(ip: string, reason: string, seconds: number): Ban;
  /** Lifts the ban covering `ipOrKey`; false when none. */
  unban(ipOrKey: string): boolean;
  isBanned(ip: string): boolean;
}

/** The key a ban is kept under: the peer's address group (IPv4 as is, IPv6 by its /64). */
export function banKey(ip: string): string {
  return addressGroup(ip);
}

/** The key a ban is kept under, from an address or from a key already (an IPv6 "…::/64"). */
export function banKeyOf(ipOrKey: string): string {
  // A /64 key however it is written (case, `::` placement) names the same group as any of its addresses.
  return ipOrKey.endsWith('/64') ? addressGroup(ipOrKey.slice(0, -3)) : banKey(ipOrKey);
}

export class MemoryBanList implements BanList {
  private readonly bans = new Map<string, Ban>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.bans.size;
  }

  isBanned(ip: string): boolean {
    const key = banKey(ip);
    const ban = this.bans.get(key);
    if (ban === undefined) return false;
    if (ban.until > this.now()) return true;
    this.bans.delete(key);
    return false;
  }

  ban(ip: string, reason: string, seconds: number): Ban {
    const at = this.now();
    const key = banKey(ip);
    const ban: Ban = { key, reason, bannedAt: at, until: at + seconds * 1000 };
    this.bans.delete(key);
    this.makeRoom(Number.POSITIVE_INFINITY);
    this.bans.set(key, ban);
    return ban;
  }

  /**
   * Puts back a ban read from the books, as it was (its own bannedAt and until). Not taken (false) when it has
   * expired, when its key is already in the list (the live entry is newer than the books), or when the list is
   * full of bans that all outlast it: the bound drops the soonest to expire first, whichever way a ban came in.
   */
  restore(ban: Ban): boolean {
    if (ban.until <= this.now() || this.bans.has(ban.key) || !this.makeRoom(ban.until)) return false;
    this.bans.set(ban.key, { key: ban.key, reason: ban.reason, bannedAt: ban.bannedAt, until: ban.until });
    return true;
  }

  unban(ipOrKey: string): boolean {
    return this.bans.delete(banKeyOf(ipOrKey));
  }

  list(): Ban[] {
    this.expire();
    return [...this.bans.values()];
  }

  private expire(): void {
    const now = this.now();
    for (const [key, ban] of this.bans) if (ban.until <= now) this.bans.delete(key);
  }

  /**
   * Room for one more ban lasting until `until`: expired bans go first, then, when still full, the soonest to expire
   * if it ends before `until`. False when the list stays full.
   */
  private makeRoom(until: number): boolean {
    if (!this.full()) return true;
    this.expire();
    if (!this.full()) return true;
    const soonest = this.soonest();
    if (soonest === undefined || soonest.until >= until) return false;
    this.bans.delete(soonest.key);
    return true;
  }

  private full(): boolean {
    return this.bans.size >= Math.max(1, this.maxEntries);
  }

  private soonest(): Ban | undefined {
    let soonest: Ban | undefined;
    for (const ban of this.bans.values()) if (soonest === undefined || ban.until < soonest.until) soonest = ban;
    return soonest;
  }
}
