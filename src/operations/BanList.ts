// IP bans with an expiry and a reason. Enforced at connection acceptance: every miner listener asks
// `isBanned(ip)` before taking a connection (src/transports/ListenerBase.ts admit, via createStratumTransports'
// admission check), so a banned IP never reaches the session layer. Banning also closes that IP's live sessions
// (the caller does it through SessionDirectory). In memory: bans do not survive a restart (docs/operations.md).

export interface Ban {
  readonly ip: string;
  readonly reason: string;
  /** ms since epoch. */
  readonly since: number;
  /** ms since epoch; Infinity reads as "until unbanned" (JSON: null). */
  readonly until: number;
}

export class BanListError extends Error {
  constructor(
    readonly code: 'BAN_LIST_FULL' | 'BAN_BAD_IP' | 'BAN_BAD_DURATION',
    message: string,
  ) {
    super(message);
    this.name = 'BanListError';
  }
}

const MAX_REASON = 200;

export class BanList {
  private readonly bans = new Map<string, Ban>();

  constructor(
    private readonly maxBans = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bans `ip` for `durationS` seconds (0 = until unbanned). Replaces an existing ban of the same IP. */
  ban(ip: string, durationS: number, reason: string): Ban {
    if (!/^[0-9a-fA-F:.]{2,45}$/.test(ip)) throw new BanListError('BAN_BAD_IP', `not an IP address: ${JSON.stringify(ip).slice(0, 60)}`);
    if (!Number.isFinite(durationS) || durationS < 0) throw new BanListError('BAN_BAD_DURATION', 'durationS must be a number >= 0');
    this.sweep();
    if (!this.bans.has(ip) && this.bans.size >= this.maxBans) throw new BanListError('BAN_LIST_FULL', `ban list holds ${this.maxBans} entries`);
    const since = this.now();
    const ban: Ban = { ip, reason: reason.slice(0, MAX_REASON), since, until: durationS === 0 ? Infinity : since + durationS * 1000 };
    this.bans.set(ip, ban);
    return ban;
  }

  unban(ip: string): boolean {
    return this.bans.delete(ip);
  }

  isBanned(ip: string): boolean {
    const ban = this.bans.get(ip);
    if (ban === undefined) return false;
    if (ban.until > this.now()) return true;
    this.bans.delete(ip);
    return false;
  }

  list(): Ban[] {
    this.sweep();
    return [...this.bans.values()];
  }

  private sweep(): void {
    const now = this.now();
    for (const [ip, ban] of this.bans) if (ban.until <= now) this.bans.delete(ip);
  }
}
