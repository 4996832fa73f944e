/**
 * Moving money at Stripe, once:
 * - an approved payout becomes one transfer to the expert's connected
 *   account (`transfer_group` = the payout id);
 * - a refund of a paid earning becomes one transfer reversal.
 *
 * Never twice: each call carries an Idempotency-Key derived from our row
 * (`payout-<id>-attempt-<n>`, `refund-<id>`), so a retry after a crash
 * between Stripe's answer and our commit gets the same object back.
 * Stripe keeps keys for 24 h and replays errors too, so:
 * - a refusal (balance_insufficient) holds the payout for the admin and
 *   moves to the next attempt number: a new approval gets a new key;
 * - an unknown outcome (a 5xx, a dropped connection) is retried under the
 *   same key (the SDK does so first), and a retried job looks the transfer
 *   up by transfer_group before calling again; when the retries run out the
 *   payout is held for the admin, and only a new approval, after one more
 *   look-up, uses a new key. A new key is never taken by a machine alone
 *   while a transfer might exist.
 * 429s pause the whole transfers queue (its limiter keeps it under Stripe's
 * rate; rateLimited() covers the rest) without using an attempt.
 */
import type Stripe from "stripe";
import type { Deps } from "../../deps.js";
import type { JobContext } from "../../jobs/define.js";
import { webhookEvents } from "../webhooks/emit.js";
import { changePayoutStatus } from "./payout-status.js";
import { classifyStripeError, stripeFailureReason } from "./stripe-outcome.js";

export type TransferDeps = Pick<Deps, "prisma" | "stripe" | "clock" | "logger">;

/** How long the queue pauses after a 429 (Stripe does not send Retry-After; its limits are per second). */
export const RATE_LIMIT_PAUSE_MS = 1_000;

export function transferIdempotencyKey(payoutId: string, attempt: number): string {
  return `payout-${payoutId}-attempt-${attempt}`;
}

/** Finds a transfer already made for a payout (its transfer_group), if any. */
async function findTransfer(deps: TransferDeps, payoutId: string): Promise<Stripe.Transfer | null> {
  const page = await deps.stripe.transfers.list({ transfer_group: payoutId, limit: 10 });
  return page.data.find((transfer) => transfer.metadata?.payoutId === payoutId) ?? page.data[0] ?? null;
}

async function recordTransfer(deps: TransferDeps, payoutId: string, transfer: Stripe.Transfer): Promise<void> {
  const now = deps.clock.now();
  await deps.prisma.$transaction(async (tx) => {
    // The money moved: that is the truth, even if an admin held the payout while the call was in flight.
    const from = await changePayoutStatus(tx, {
      payoutId,
      from: ["approved", "held"],
      to: "transferred",
      action: "transferred",
      actor: "system",
      note: `Stripe transfer ${transfer.id}`,
      at: now,
      data: { stripeTransferId: transfer.id, transferredAt: new Date(transfer.created * 1000), failureReason: null, reversedMinor: transfer.amount_reversed },
    });
    if (from !== null) await webhookEvents.payoutChanged(tx, payoutId, { type: "payout.transferred", cause: "transferred", at: now });
  });
  deps.logger.info({ payoutId, transferId: transfer.id }, "payout transferred");
}

/** Holds the payout for the admin with Stripe's reason; the next approval uses the next attempt's key. */
async function holdForAdmin(deps: TransferDeps, payoutId: string, reason: string): Promise<void> {
  const now = deps.clock.now();
  await deps.prisma.$transaction(async (tx) => {
    const from = await changePayoutStatus(tx, {
      payoutId,
      from: ["approved"],
      to: "held",
      action: "transfer_failed",
      actor: "system",
      note: reason,
      at: now,
      data: { failureReason: reason, transferAttempt: { increment: 1 } },
    });
    if (from !== null) await webhookEvents.payoutChanged(tx, payoutId, { type: "payout.held", cause: `transfer-failed:${now.getTime()}`, at: now });
  });
  deps.logger.warn({ payoutId, reason }, "payout transfer refused; held for the admin");
}

export async function transferPayout(deps: TransferDeps, payoutId: string, context: Pick<JobContext, "attempt" | "rateLimited">): Promise<void> {
  const payout = await deps.prisma.payout.findUnique({
    where: { id: payoutId },
    select: { id: true, status: true, amountMinor: true, currency: true, transferAttempt: true, stripeTransferId: true, expert: { select: { stripeAccountId: true } } },
  });
  if (!payout || payout.status !== "approved" || payout.stripeTransferId) return;
  const destination = payout.expert.stripeAccountId;
  if (!destination) {
    await holdForAdmin(deps, payoutId, "The expert has no connected Stripe account");
    return;
  }
  if (payout.amountMinor <= 0) {
    // Refunds took the whole payout back while it was under review: nothing to send.
    await holdForAdmin(deps, payoutId, "Nothing left to pay: refunds reversed every earning in this payout");
    return;
  }
  // A retried job (a crash, a timeout), or a new attempt after a hold, may follow a transfer that was made: look first.
  if (context.attempt > 1 || payout.transferAttempt > 0) {
    const existing = await findTransfer(deps, payoutId);
    if (existing) return recordTransfer(deps, payoutId, existing);
  }
  let transfer: Stripe.Transfer;
  try {
    transfer = await deps.stripe.transfers.create(
      {
        amount: payout.amountMinor,
        currency: payout.currency.toLowerCase(),
        destination,
        transfer_group: payout.id,
        description: `expertline payout ${payout.id}`,
        metadata: { payoutId: payout.id },
      },
      { idempotencyKey: transferIdempotencyKey(payout.id, payout.transferAttempt) },
    );
  } catch (error) {
    switch (classifyStripeError(error)) {
      case "rate_limited":
        return context.rateLimited(RATE_LIMIT_PAUSE_MS);
      case "refused":
        return holdForAdmin(deps, payoutId, stripeFailureReason(error));
      default:
        throw error;
    }
  }
  await recordTransfer(deps, payoutId, transfer);
}

/** Gives up after the last attempt: the admin sees the payout held with the reason. */
export async function giveUpTransfer(deps: TransferDeps, payoutId: string, error: Error): Promise<void> {
  const existing = await findTransfer(deps, payoutId).catch(() => null);
  if (existing) return recordTransfer(deps, payoutId, existing);
  await holdForAdmin(deps, payoutId, `Stripe did not answer after several tries (${stripeFailureReason(error)})`);
}

// ---------------------------------------------------------------- clawbacks

export async function clawBackRefund(
  deps: TransferDeps,
  refundId: string,
  context: Pick<JobContext, "rateLimited" | "delayUntil">,
): Promise<void> {
  const refund = await deps.prisma.refund.findUnique({
    where: { id: refundId },
    select: { id: true, earningReversedMinor: true, clawbackStatus: true, clawbackPayout: { select: { id: true, status: true, stripeTransferId: true } } },
  });
  if (!refund || refund.clawbackStatus !== "pending" || !refund.clawbackPayout) return;
  const payout = refund.clawbackPayout;
  if (!payout.stripeTransferId) {
    // Approved but not transferred yet: the money has not moved, wait for it.
    if (payout.status === "approved") return context.delayUntil(new Date(deps.clock.now().getTime() + 30_000));
    await failClawback(deps, refundId, `The payout is ${payout.status} with no transfer to reverse`);
    return;
  }
  let reversal: Stripe.TransferReversal;
  try {
    reversal = await deps.stripe.transfers.createReversal(
      payout.stripeTransferId,
      { amount: refund.earningReversedMinor, description: `expertline refund ${refund.id}`, metadata: { refundId: refund.id } },
      { idempotencyKey: `refund-${refund.id}` },
    );
  } catch (error) {
    const outcome = classifyStripeError(error);
    if (outcome === "rate_limited") return context.rateLimited(RATE_LIMIT_PAUSE_MS);
    if (outcome === "refused") return failClawback(deps, refundId, stripeFailureReason(error));
    throw error;
  }
  const transfer = await deps.stripe.transfers.retrieve(payout.stripeTransferId).catch(() => null);
  await deps.prisma.$transaction(async (tx) => {
    await tx.refund.updateMany({ where: { id: refundId, clawbackStatus: "pending" }, data: { clawbackStatus: "done", stripeReversalId: reversal.id, clawbackFailure: null } });
    if (transfer) await tx.$executeRaw`UPDATE "Payout" SET "reversedMinor" = GREATEST("reversedMinor", ${transfer.amount_reversed}::int), "updatedAt" = now() WHERE "id" = ${payout.id}::uuid`;
  });
  deps.logger.info({ refundId, payoutId: payout.id, reversalId: reversal.id }, "paid earning clawed back");
}

async function failClawback(deps: TransferDeps, refundId: string, reason: string): Promise<void> {
  await deps.prisma.refund.updateMany({ where: { id: refundId, clawbackStatus: "pending" }, data: { clawbackStatus: "failed", clawbackFailure: reason } });
  deps.logger.warn({ refundId, reason }, "clawback refused by Stripe; the admin sees it on the payout");
}
