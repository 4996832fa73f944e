import { describe, expect, it } from "vitest";
import { FIRST_RETRY_DELAY_MS, JITTER, MAX_RETRY_DELAY_MS, nextRetryAt, RETRY_WINDOW_MS, retryDelayMs } from "./backoff.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("retryDelayMs", () => {
  it("doubles from one minute up to eight hours, at the middle of the jitter", () => {
    const delays = [1, 2, 3, 4, 5, 9, 10, 11, 40, 5000].map((attempts) => retryDelayMs(attempts, 0.5));
    expect(delays).toEqual([MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE, 256 * MINUTE, 8 * HOUR, 8 * HOUR, 8 * HOUR, 8 * HOUR]);
    expect(FIRST_RETRY_DELAY_MS).toBe(MINUTE);
    expect(MAX_RETRY_DELAY_MS).toBe(8 * HOUR);
  });

  it("spreads each wait over +-20%", () => {
    expect(JITTER).toBe(0.2);
    expect(retryDelayMs(1, 0)).toBe(48_000);
    expect(retryDelayMs(1, 0.999999)).toBe(72_000);
    expect(retryDelayMs(3, 0.25)).toBe(Math.round(4 * MINUTE * 0.9));
    expect(retryDelayMs(12, 0)).toBe(Math.round(8 * HOUR * 0.8));
  });

  it("treats zero attempts like the first", () => {
    expect(retryDelayMs(0, 0.5)).toBe(MINUTE);
  });
});

describe("nextRetryAt", () => {
  const firstDueAt = new Date("2026-12-01T00:00:00.000Z");
  const at = (ms: number) => new Date(firstDueAt.getTime() + ms);

  it("waits the backoff from now", () => {
    expect(nextRetryAt({ firstDueAt, attemptsMade: 1, now: at(1_000), random: 0.5 })).toEqual(at(1_000 + MINUTE));
    expect(nextRetryAt({ firstDueAt, attemptsMade: 4, now: at(HOUR), random: 0.5 })).toEqual(at(HOUR + 8 * MINUTE));
  });

  it("lands the last try on the end of the 3-day window, then gives up", () => {
    expect(RETRY_WINDOW_MS).toBe(72 * HOUR);
    expect(nextRetryAt({ firstDueAt, attemptsMade: 15, now: at(70 * HOUR), random: 0.5 })).toEqual(at(72 * HOUR));
    expect(nextRetryAt({ firstDueAt, attemptsMade: 16, now: at(72 * HOUR - 1), random: 0.5 })).toEqual(at(72 * HOUR));
    expect(nextRetryAt({ firstDueAt, attemptsMade: 16, now: at(72 * HOUR), random: 0.5 })).toBeNull();
    expect(nextRetryAt({ firstDueAt, attemptsMade: 16, now: at(80 * HOUR), random: 0.5 })).toBeNull();
  });

  it("takes about twenty tries over the three days", () => {
    let now = firstDueAt;
    let attempts = 1;
    for (;;) {
      const next = nextRetryAt({ firstDueAt, attemptsMade: attempts, now, random: 0.5 });
      if (!next) break;
      now = next;
      attempts++;
    }
    expect(now).toEqual(at(72 * HOUR));
    expect(attempts).toBe(18);
  });
});
