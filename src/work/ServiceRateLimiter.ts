// Per-service rate limits (docs/work-service.md "Rate limits"): a token bucket per service. A request over the
// rate waits for its token, but never longer than maxWaitMs: beyond that it is refused at once, so waiting is
// bounded in time and, through the rate, in count. Buckets of services idle long enough to be full are dropped.
import { WorkError } from './errors.js';

export interface RateLimit {
  readonly ratePerS: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  limit: RateLimit;
}

export class ServiceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly maxWaitMs: number,
    private readonly maxBuckets = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Resolves when the request may go ahead; rejects RATE_LIMITED if that would take over maxWaitMs. */
  async acquire(service: string, limit: RateLimit): Promise<void> {
    const waitMs = this.reserve(service, limit);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** Takes a token (possibly one not yet earned) and returns how long to wait for it. */
  reserve(service: string, limit: RateLimit): number {
    const now = this.now();
    let bucket = this.buckets.get(service);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxBuckets) this.evictFull(now);
      bucket = { tokens: limit.burst, updatedAt: now, limit };
      this.buckets.set(service, bucket);
    }
    bucket.limit = limit;
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.ratePerS);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    const waitMs = ((1 - bucket.tokens) / limit.ratePerS) * 1000;
    if (waitMs > this.maxWaitMs) {
      throw new WorkError('RATE_LIMITED', `rate limit exceeded: ${limit.ratePerS} requests/s for this service; retry later`);
    }
    bucket.tokens -= 1;
    return waitMs;
  }

  private evictFull(now: number): void {
    for (const [name, bucket] of this.buckets) {
      const tokens = bucket.tokens + ((now - bucket.updatedAt) / 1000) * bucket.limit.ratePerS;
      if (tokens >= bucket.limit.burst) this.buckets.delete(name);
    }
    // Still full of busy buckets: drop the oldest rather than grow without bound.
    if (this.buckets.size >= this.maxBuckets) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}
