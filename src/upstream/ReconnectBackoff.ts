// Capped exponential backoff with full jitter for the upstream reconnect loop (docs/architecture.md: the node link
// must come back on its own). Delay n (from 0) is uniform in [min, min(max, min·2^n)]; reset() after a login.

export class ReconnectBackoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call widens the window until it reaches maxMs. */
  next(): number {
    const min = Math.max(0, this.minMs);
    const cap = Math.max(min, this.maxMs);
    // a zero minimum still grows (from 1 ms), so a dead node is never hammered in a tight loop
    const ceiling = Math.min(cap, Math.max(1, min) * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(min + this.random() * Math.max(0, ceiling - min));
  }

  reset(): void {
    this.attempt = 0;
  }
}
