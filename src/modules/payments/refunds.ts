/**
 * Refunds: a shop gives back all or part of a session's charge
 * (POST /v1/sessions/:id/refund), or an admin's rejected payout refunds its
 * sessions in full. The charge, the earning and the fee each get a
 * reversing entry (ledger-math.ts splits the amount); entries never change.
 *
 * Where the expert's share comes back from depends on the earning:
 * - unpaid (in no live payout): the reversal waits beside it and the next
 *   payout run nets the two;
 * - in a payout still under review and never approved (pending_review, or
 *   held by an admin before approval) or the rejected payout that caused
 *   this refund: the reversal joins that payout, whose amount goes down by it;
 * - approved, transferred or paid: the platform claws it back from the
 *   expert's connected account with a transfer reversal (a `refund-clawback`
 *   job, keyed by the refund) once the transfer exists, and the admin sees
 *   it on the payout; a payout rejected before its transfer marks the
 *   clawback `netted` (the reversal then nets in the ledger).
 * Locks: the expert's earnings (the payout run's lock), then the session row;
 * two refunds of one session at once are one after the other.
 */
import { randomUUID } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client.js";
import type { Deps } from "../../deps.js";
import { conflict, DomainError, notFound } from "../../lib/problems.js";
import { enqueue } from "../outbox/outbox.js";
import { sessionEntryKey } from "./ledger.js";
import { refundableMinor, splitRefund } from "./ledger-math.js";
import { clawbackJob } from "./job-names.js";
import { lockExpertEarnings } from "./payout-run.js";

type Tx = Prisma.TransactionClient;

export interface RefundInTxInput {
  sessionId: string;
  /** Unset: all that is left. */
  amountMinor?: number | undefined;
  source: "shop" | "payout_rejected";
  reason?: string | null | undefined;
  /** The payout whose rejection refunds this session: its reversals join it. */
  rejectedPayoutId?: string;
  now: Date;
}

/** What a refund did, for the shop's answer. */
export interface RefundResult {
  id: string;
  sessionId: string;
  amountMinor: number;
  currency: string;
  earningReversedMinor: number;
  feeReversedMinor: number;
  /** How the expert's share came back: ledger (not paid yet) or clawback (a transfer reversal). */
  earningRecovery: "ledger" | "clawback" | "none";
  clawbackStatus: string | null;
  /** What is left of the charge to refund after this one. */
  remainingMinor: number;
  createdAt: Date;
}


/**
 * Refunds a session inside the caller's transaction. The caller must not
 * hold the session's row lock (the expert's earnings lock comes first).
 * Returns null when the session has nothing left to refund and the source
 * is a payout rejection (nothing to do); a shop's request gets a 409 instead.
 */
export async function refundSessionInTx(tx: Tx, input: RefundInTxInput): Promise<RefundResult | null> {
  const owner = await tx.session.findUnique({ where: { id: input.sessionId }, select: { expertId: true } });
  if (!owner) throw notFound("Session");
  await lockExpertEarnings(tx, owner.expertId);
  await tx.$queryRaw`SELECT 1 FROM "Session" WHERE "id" = ${input.sessionId}::uuid FOR UPDATE`;

  const entries = await tx.ledgerEntry.findMany({ where: { sessionId: input.sessionId }, orderBy: { id: "asc" } });
  const charge = entries.find((entry) => entry.idempotencyKey === sessionEntryKey.charge(input.sessionId));
  const earning = entries.find((entry) => entry.idempotencyKey === sessionEntryKey.earning(input.sessionId));
  const fee = entries.find((entry) => entry.idempotencyKey === sessionEntryKey.fee(input.sessionId));
  if (!charge || !earning) {
    if (input.source === "payout_rejected") return null;
    throw conflict("nothing-to-refund", "This session was not charged (it has not ended, or the expert never answered)");
  }
  const priced = { chargeMinor: charge.amountMinor, earningMinor: earning.amountMinor, feeMinor: fee?.amountMinor ?? 0 };
  const refundedBefore = -entries.filter((entry) => entry.kind === "charge_refund").reduce((sum, entry) => sum + entry.amountMinor, 0);
  const left = refundableMinor(priced, refundedBefore);
  if (left === 0) {
    if (input.source === "payout_rejected") return null;
    throw conflict("already-refunded", "This session has been refunded in full");
  }
  const amountMinor = input.amountMinor ?? left;
  if (amountMinor > left) {
    throw new DomainError(422, "refund-too-large", `Only ${left} (minor units) of this session's charge is left to refund`, [
      { path: "body.amountMinor", message: `must be at most ${left}` },
    ]);
  }
  const split = splitRefund(priced, refundedBefore, amountMinor);

  // Where the earning is now: in a live payout, and which.
  const live = await tx.payoutItem.findFirst({
    where: { entryId: earning.id, releasedAt: null },
    select: { payout: { select: { id: true, status: true, transferAttempt: true } } },
  });
  const payout = live?.payout ?? null;
  // Under review and never approved: its amount may still change. Once approved, a transfer may be on its way (or
  // made), so its amount is fixed and the share comes back by clawback (which waits for the transfer, or is netted
  // in the ledger if the payout is rejected).
  const underReview = payout !== null && (payout.status === "pending_review" || (payout.status === "held" && payout.transferAttempt === 0));
  const joinsPayout = payout !== null && (underReview || payout.id === input.rejectedPayoutId);
  const clawback = split.earningMinor > 0 && payout !== null && !joinsPayout;

  const refundId = randomUUID();
  await tx.refund.create({
    data: {
      id: refundId,
      shopId: charge.shopId,
      sessionId: input.sessionId,
      amountMinor,
      currency: charge.currency,
      source: input.source,
      reason: input.reason ?? null,
      earningReversedMinor: split.earningMinor,
      clawbackPayoutId: clawback ? payout.id : null,
      clawbackStatus: clawback ? "pending" : null,
      createdAt: input.now,
    },
  });
  const common = { shopId: charge.shopId, expertId: charge.expertId, sessionId: input.sessionId, currency: charge.currency, refundId, createdAt: input.now };
  const created = await tx.ledgerEntry.createManyAndReturn({
    data: [
      { ...common, kind: "charge_refund", amountMinor: -split.refundMinor, reversesEntryId: charge.id, idempotencyKey: `refund:${refundId}:charge` },
      ...(split.earningMinor > 0
        ? [{ ...common, kind: "earning_reversal" as const, amountMinor: -split.earningMinor, reversesEntryId: earning.id, idempotencyKey: `refund:${refundId}:earning` }]
        : []),
      ...(split.feeMinor > 0 && fee
        ? [{ ...common, kind: "fee_reversal" as const, amountMinor: -split.feeMinor, reversesEntryId: fee.id, idempotencyKey: `refund:${refundId}:fee` }]
        : []),
    ],
    select: { id: true, kind: true },
  });
  const reversal = created.find((entry) => entry.kind === "earning_reversal");
  if (reversal && joinsPayout) {
    await tx.payoutItem.create({ data: { payoutId: payout.id, entryId: reversal.id } });
    await tx.payout.update({ where: { id: payout.id }, data: { amountMinor: { decrement: split.earningMinor } } });
  }
  if (clawback) await enqueue(tx, clawbackJob(refundId));
  return {
    id: refundId,
    sessionId: input.sessionId,
    amountMinor,
    currency: charge.currency,
    earningReversedMinor: split.earningMinor,
    feeReversedMinor: split.feeMinor,
    earningRecovery: split.earningMinor === 0 ? "none" : clawback ? "clawback" : "ledger",
    clawbackStatus: clawback ? "pending" : null,
    remainingMinor: left - amountMinor,
    createdAt: input.now,
  };
}

/** POST /v1/sessions/:id/refund: a shop refunds one of its own sessions. */
export async function refundSession(
  deps: Pick<Deps, "prisma" | "clock" | "logger">,
  input: { shopId: string; sessionId: string; amountMinor?: number | undefined; reason?: string | undefined },
): Promise<RefundResult> {
  const session = await deps.prisma.session.findFirst({ where: { id: input.sessionId, shopId: input.shopId }, select: { id: true } });
  if (!session) throw notFound("Session");
  const now = deps.clock.now();
  const result = await deps.prisma.$transaction((tx) =>
    refundSessionInTx(tx, { sessionId: input.sessionId, amountMinor: input.amountMinor, source: "shop", reason: input.reason, now }),
  );
  if (!result) throw conflict("nothing-to-refund", "This session was not charged");
  deps.logger.info({ sessionId: input.sessionId, refundId: result.id, recovery: result.earningRecovery }, "session refunded");
  return result;
}
