/**
 * Requests per second per token, as a token bucket: up to `rate` at once, refilled at `rate` a
 * second. Kept per server process (a limit on what one instance takes, not a shared quota).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: number) {}

  /** Whether a request of this key may go ahead now; else the seconds until one may. */
  take(key: string, now = Date.now()): true | number {
    if (this.rate <= 0) return true;
    const bucket = this.buckets.get(key) ?? { tokens: this.rate, at: now };
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }
}
