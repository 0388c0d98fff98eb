// Admission control shared by every miner listener (tcp, tls, ws): a bound on connections overall and per address
// group (IPv4 address, or IPv6 /64: addressGroup.ts). Refusals are logged at debug; a warn line at most once per
// window says how many were refused.
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import { addressGroup } from './addressGroup.js';

export type ConnectionLimits = Pick<StratumConfig, 'maxConnections' | 'maxConnectionsPerIp'>;

const WARN_INTERVAL_MS = 10_000;

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private refusedSinceWarn = 0;
  private lastWarnAt = 0;

  /** A limit of 0 means "no limit". */
  constructor(
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
    private readonly warnIntervalMs = WARN_INTERVAL_MS,
  ) {}

  get size(): number {
    return this.total;
  }

  countFor(ip: string): number {
    return this.perIp.get(addressGroup(ip)) ?? 0;
  }

  /** Takes a slot for `ip`, or returns false (and logs) when a limit is reached. */
  tryAcquire(ip: string): boolean {
    const { maxConnections, maxConnectionsPerIp } = this.limits;
    const group = addressGroup(ip);
    const fromIp = this.perIp.get(group) ?? 0;
    const overall = maxConnections > 0 && this.total >= maxConnections;
    if (overall || (maxConnectionsPerIp > 0 && fromIp >= maxConnectionsPerIp)) {
      this.refused(ip, overall ? 'overall' : 'per-ip');
      return false;
    }
    this.total += 1;
    this.perIp.set(group, fromIp + 1);
    return true;
  }

  release(ip: string): void {
    const group = addressGroup(ip);
    const fromIp = this.perIp.get(group);
    if (fromIp === undefined) return;
    this.total -= 1;
    if (fromIp <= 1) this.perIp.delete(group);
    else this.perIp.set(group, fromIp - 1);
  }

  private refused(ip: string, limit: 'overall' | 'per-ip'): void {
    this.refusedSinceWarn += 1;
    this.logger.debug({ ip, limit, reason: 'too-many-connections' }, 'connection refused');
    const now = Date.now();
    if (now - this.lastWarnAt >= this.warnIntervalMs) {
      this.logger.warn(
        { refused: this.refusedSinceWarn, lastIp: ip, limit, ...this.limits, open: this.total },
        'connections refused: too many connections',
      );
      this.lastWarnAt = now;
      this.refusedSinceWarn = 0;
    }
  }
}
