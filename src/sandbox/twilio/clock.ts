/**
 * The sandbox's own notion of time. It is a separate program and imports
 * nothing of the product; this interface has the same shape as the app's, so
 * tests can hand both the same fixed clock.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
