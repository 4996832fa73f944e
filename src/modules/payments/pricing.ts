/**
 * What a session costs the shop, what the expert earns, and the platform's
 * fee. Pure, in integer minor units (cents): no float ever touches money.
 *
 * What is charged:
 * - a session the expert never answered (no text relayed from them, no
 *   bridged second) costs nothing, in either mode;
 * - per_session: the pool's flat amount;
 * - per_minute: every started minute of the bridged time (61 s is 2
 *   minutes), and at least the pool's minimum, so an answered session that
 *   only texted is charged the minimum.
 *
 * Rounding, the one place a cent could appear or vanish:
 * - the fee is the charge times the basis points, rounded DOWN to a whole
 *   minor unit (the expert keeps the fraction), computed in BigInt so no
 *   product of two large integers loses precision;
 * - the expert's earning is the charge minus the fee, so
 *   charge = earning + fee exactly, for every input.
 */

export type PricingMode = "per_session" | "per_minute";

export interface Pricing {
  mode: PricingMode;
  /** Per session, or per started minute, in minor units of `currency`. */
  amountMinor: number;
  /** per_minute: the least a session that talked is charged (0: no minimum). */
  minimumMinor: number;
  /** The platform's share of the charge, in basis points (1/100 of a percent): 1500 = 15%. */
  platformFeeBps: number;
  currency: string;
}

export interface SessionPrice {
  currency: string;
  /** per_minute: the started minutes billed; per_session: null. */
  billableMinutes: number | null;
  /** What the shop is charged. */
  chargeMinor: number;
  /** What the expert earns: chargeMinor - feeMinor. */
  earningMinor: number;
  feeMinor: number;
}

const BPS_PER_WHOLE = 10_000n;

function wholeNonNegative(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of 0 or more, got ${value}`);
}

/** Started minutes of `seconds` (0 s is 0 minutes, 1-60 s is 1). */
export function startedMinutes(seconds: number): number {
  wholeNonNegative("bridgedSeconds", seconds);
  return Math.ceil(seconds / 60);
}

/** The platform's fee: `chargeMinor` x `bps` / 10 000, rounded down. */
export function platformFee(chargeMinor: number, bps: number): number {
  wholeNonNegative("chargeMinor", chargeMinor);
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`platformFeeBps must be a whole number from 0 to 10000, got ${bps}`);
  return Number((BigInt(chargeMinor) * BigInt(bps)) / BPS_PER_WHOLE);
}

export interface PricedSession {
  /** Seconds both sides were on a call (0 for a session that only texted). */
  bridgedSeconds: number;
  /** The expert answered: relayed at least one text, or talked on a bridged call. */
  answered: boolean;
}

/** The price of one ended session, from its pool's pricing. */
export function priceSession(pricing: Pricing, session: PricedSession): SessionPrice {
  wholeNonNegative("amountMinor", pricing.amountMinor);
  wholeNonNegative("minimumMinor", pricing.minimumMinor);
  let chargeMinor: number;
  let billableMinutes: number | null = null;
  if (pricing.mode === "per_session") {
    wholeNonNegative("bridgedSeconds", session.bridgedSeconds);
    chargeMinor = session.answered ? pricing.amountMinor : 0;
  } else {
    billableMinutes = startedMinutes(session.bridgedSeconds);
    const byMinute = BigInt(billableMinutes) * BigInt(pricing.amountMinor);
    if (byMinute > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("the charge is too large to represent exactly");
    chargeMinor = session.answered ? Math.max(Number(byMinute), pricing.minimumMinor) : 0;
  }
  const feeMinor = platformFee(chargeMinor, pricing.platformFeeBps);
  return { currency: pricing.currency, billableMinutes, chargeMinor, earningMinor: chargeMinor - feeMinor, feeMinor };
}
