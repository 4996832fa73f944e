/**
 * The Stripe sandbox's own notion of time. Like the Twilio sandbox it is a
 * separate program and imports nothing of the product; the interface has the
 * app's shape so tests can hand both the same clock.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Stripe timestamps are whole Unix seconds. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now().getTime() / 1000);
}
