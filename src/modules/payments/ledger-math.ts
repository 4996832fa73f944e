/**
 * Ledger arithmetic, pure and in integer minor units.
 *
 * A refund gives the shop back part of a session's charge; the expert's
 * earning and the platform's fee give back their shares of it. The shares
 * are computed on the running total refunded, not on each refund alone:
 * after refunds totalling T of a charge C split into earning E and fee F,
 * the earning has given back floor(T x E / C) and the fee the rest. So
 * however a refund is cut into parts, the parts add up to what one refund of
 * the total would give, and a full refund returns exactly E and F: no cent
 * appears, vanishes or drifts between the expert and the platform.
 */

export interface SessionCharge {
  chargeMinor: number;
  earningMinor: number;
  feeMinor: number;
}

export interface RefundSplit {
  /** The shop's credit (positive). */
  refundMinor: number;
  /** The expert's share taken back (positive). */
  earningMinor: number;
  /** The platform's share taken back (positive). */
  feeMinor: number;
}

function whole(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of 0 or more, got ${value}`);
}

/** How much of the charge is left to refund. */
export function refundableMinor(charge: SessionCharge, refundedBeforeMinor: number): number {
  whole("refundedBeforeMinor", refundedBeforeMinor);
  return Math.max(0, charge.chargeMinor - refundedBeforeMinor);
}

/** The earning's share of a running refund total (rounded down: the platform's fee absorbs the fraction). */
function earningShare(charge: SessionCharge, refundedTotal: number): number {
  if (charge.chargeMinor === 0) return 0;
  return Number((BigInt(refundedTotal) * BigInt(charge.earningMinor)) / BigInt(charge.chargeMinor));
}

/**
 * Splits a refund of `amountMinor` after `refundedBeforeMinor` was already
 * refunded. Throws RangeError when it asks for more than is left.
 */
export function splitRefund(charge: SessionCharge, refundedBeforeMinor: number, amountMinor: number): RefundSplit {
  whole("chargeMinor", charge.chargeMinor);
  whole("earningMinor", charge.earningMinor);
  whole("feeMinor", charge.feeMinor);
  if (charge.earningMinor + charge.feeMinor !== charge.chargeMinor) throw new RangeError("earning + fee must equal the charge");
  whole("amountMinor", amountMinor);
  if (amountMinor === 0) throw new RangeError("amountMinor must be at least 1");
  const left = refundableMinor(charge, refundedBeforeMinor);
  if (amountMinor > left) throw new RangeError(`only ${left} of the charge is left to refund, asked for ${amountMinor}`);
  const earningMinor = earningShare(charge, refundedBeforeMinor + amountMinor) - earningShare(charge, refundedBeforeMinor);
  return { refundMinor: amountMinor, earningMinor, feeMinor: amountMinor - earningMinor };
}
