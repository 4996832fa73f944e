/**
 * A token bucket on the sandbox clock: `perSecond` requests a second, with a
 * burst of at most `perSecond`. On the sandbox clock so tests with a fixed
 * clock are deterministic (nothing refills until they move it); with the
 * system clock (dev, bench) it is real time. Stripe's limits are per second
 * and per account (fact sheet §4: 25/s in sandbox mode); its exact algorithm
 * is not documented, a bucket is our choice.
 */
import type { Clock } from "./clock.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    private readonly clock: Clock,
  ) {
    if (!(perSecond > 0)) throw new Error("the rate limit must be a positive number of requests per second");
    this.tokens = perSecond;
    this.last = clock.now().getTime();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    const now = this.clock.now().getTime();
    if (now > this.last) {
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
