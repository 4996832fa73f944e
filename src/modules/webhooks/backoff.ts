/**
 * When a failed delivery is tried again: exponential backoff with jitter,
 * for up to 3 days after the delivery was first due. The last try happens at
 * the 3-day mark itself, so "failed for 3 days" is observed by an attempt,
 * which is when an endpoint gets disabled (see delivery.ts).
 */
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** How long a delivery keeps being retried after it was first due. */
export const RETRY_WINDOW_MS = 72 * HOUR_MS;
/** The wait after the first failure; each further failure doubles it... */
export const FIRST_RETRY_DELAY_MS = MINUTE_MS;
/** ...up to this. */
export const MAX_RETRY_DELAY_MS = 8 * HOUR_MS;
/** Each wait is spread over +-20%, so endpoints that failed together (an outage) are not retried in one burst. */
export const JITTER = 0.2;

/** The wait before the next try, after `attemptsMade` (1 or more) failed; `random` is in [0, 1). */
export function retryDelayMs(attemptsMade: number, random: number): number {
  const exponent = Math.max(0, attemptsMade - 1);
  // 2 ** 30 minutes is far past the cap: no overflow for absurd attempt counts.
  const base = Math.min(FIRST_RETRY_DELAY_MS * 2 ** Math.min(exponent, 30), MAX_RETRY_DELAY_MS);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random));
}

/**
 * When to try again, or null when the window is over (give up). Never later
 * than the window's end, so the last try lands on it.
 */
export function nextRetryAt(input: { firstDueAt: Date; attemptsMade: number; now: Date; random: number }): Date | null {
  const deadline = input.firstDueAt.getTime() + RETRY_WINDOW_MS;
  const now = input.now.getTime();
  if (now >= deadline) return null;
  return new Date(Math.min(now + retryDelayMs(input.attemptsMade, input.random), deadline));
}
