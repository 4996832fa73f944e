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
import { enqueue } from "../outbox/outbox.js";
import { clawbackJob, transferJob } from "./job-names.js";
import { changePayoutStatus } from "./payout-status.js";
import { classifyStripeError, stripeFailureReason } from "./stripe-outcome.js";

export type TransferDeps = Pick<Deps, "prisma" | "stripe" | "clock" | "logger">;

/** How long the queue pauses after a 429 (Stripe does not send Retry-After; its limits are per second). */
export const RATE_LIMIT_PAUSE_MS = 1_000;

export function transferIdempotencyKey(payoutId: string, attempt: number): string {
  return `payout-${payoutId}-attempt-${attempt}`;
}

/** Finds a transfer already made for a payout (its transfer_group), if any. */
export async function findTransfer(deps: Pick<TransferDeps, "stripe">, payoutId: string): Promise<Stripe.Transfer | null> {
  const page = await deps.stripe.transfers.list({ transfer_group: payoutId, limit: 10 });
  return page.data.find((transfer) => transfer.metadata?.payoutId === payoutId) ?? page.data[0] ?? null;
}

export async function recordTransfer(deps: Pick<TransferDeps, "prisma" | "clock" | "logger">, payoutId: string, transfer: Stripe.Transfer): Promise<void> {
  const now = deps.clock.now();
  const payout = await deps.prisma.payout.findUnique({ where: { id: payoutId }, select: { amountMinor: true } });
  // A payout's amount is fixed from its approval on (refunds after it are clawed back), so this is a bug if it happens.
  if (payout && payout.amountMinor !== transfer.amount) deps.logger.error({ payoutId, transferId: transfer.id, amount: transfer.amount, expected: payout.amountMinor }, "transfer amount differs from its payout");
  await deps.prisma.$transaction(async (tx) => {
    // The money moved: that is the truth, whatever the payout's status says (held by a refusal we misread).
    const from = await changePayoutStatus(tx, {
      payoutId,
      from: ["approved", "held", "rejected"],
      to: "transferred",
      action: "transferred",
      actor: "system",
      note: `Stripe transfer ${transfer.id}`,
      at: now,
      data: { stripeTransferId: transfer.id, transferredAt: new Date(transfer.created * 1000), failureReason: null, reversedMinor: transfer.amount_reversed },
    });
    if (from === null) return;
    if (from === "rejected") {
      // Only a wrong "no transfer" from Stripe's list leads here: the clawbacks marked netted must come back.
      deps.logger.error({ payoutId, transferId: transfer.id }, "a rejected payout had a transfer at Stripe; recorded, and its clawbacks reopened");
      await tx.refund.updateMany({ where: { clawbackPayoutId: payoutId, clawbackStatus: "netted" }, data: { clawbackStatus: "pending" } });
    }
    // Clawbacks that waited for this transfer run now (their own jobs may be long delayed, or lost).
    const waiting = await tx.refund.findMany({ where: { clawbackPayoutId: payoutId, clawbackStatus: "pending" }, select: { id: true, clawbackAttempt: true } });
    for (const refund of waiting) await enqueue(tx, clawbackJob(refund.id, refund.clawbackAttempt, `after-${transfer.id}`));
    await webhookEvents.payoutChanged(tx, payoutId, { type: "payout.transferred", cause: "transferred", at: now });
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

/** Whether an earlier run of this job may have reached Stripe: a failed attempt, or a run that died (a stall). */
function ranBefore(context: Pick<JobContext, "attempt" | "started">): boolean {
  return context.attempt > 1 || (context.started ?? context.attempt) > 1;
}

export async function transferPayout(
  deps: TransferDeps,
  payoutId: string,
  context: Pick<JobContext, "attempt" | "started" | "rateLimited">,
  options: { lookFirst?: boolean } = {},
): Promise<void> {
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
  // A retried or crashed job, or a new attempt after a hold, may follow a transfer that was made: look first
  // (its key alone does not do: Stripe forgets keys after 24 hours).
  if (options.lookFirst || ranBefore(context) || payout.transferAttempt > 0) {
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

export function clawbackIdempotencyKey(refundId: string, attempt: number): string {
  return attempt === 0 ? `refund-${refundId}` : `refund-${refundId}-attempt-${attempt}`;
}

/** While the payout waits for its transfer (approved: soon; held: until an admin decides), the clawback looks again this often. */
const CLAWBACK_WAIT_MS = { approved: 30_000, held: 10 * 60_000 } as const;

export async function clawBackRefund(
  deps: TransferDeps,
  refundId: string,
  context: Pick<JobContext, "rateLimited" | "delayUntil"> & Partial<Pick<JobContext, "attempt" | "started">>,
  options: { lookFirst?: boolean } = {},
): Promise<void> {
  const refund = await deps.prisma.refund.findUnique({
    where: { id: refundId },
    select: {
      id: true,
      earningReversedMinor: true,
      clawbackStatus: true,
      clawbackAttempt: true,
      clawbackPayout: { select: { id: true, status: true, stripeTransferId: true } },
    },
  });
  if (!refund || refund.clawbackStatus !== "pending" || !refund.clawbackPayout) return;
  const payout = refund.clawbackPayout;
  if (!payout.stripeTransferId) {
    // The money has not moved yet: wait for the transfer (a rejection marks the clawback netted instead).
    if (payout.status === "approved" || payout.status === "held") {
      return context.delayUntil(new Date(deps.clock.now().getTime() + CLAWBACK_WAIT_MS[payout.status]));
    }
    await failClawback(deps, refundId, `The payout is ${payout.status} with no transfer to reverse`);
    return;
  }
  // A retry under a new key, or a run after a crash, first looks for the reversal an earlier one may have made.
  const rerun = ranBefore({ attempt: context.attempt ?? 1, started: context.started ?? context.attempt ?? 1 });
  const earlier = options.lookFirst || refund.clawbackAttempt > 0 || rerun ? await findReversal(deps, payout.stripeTransferId, refundId) : null;
  let reversal: Stripe.TransferReversal;
  try {
    reversal =
      earlier ??
      (await deps.stripe.transfers.createReversal(
        payout.stripeTransferId,
        { amount: refund.earningReversedMinor, description: `expertline refund ${refund.id}`, metadata: { refundId: refund.id } },
        { idempotencyKey: clawbackIdempotencyKey(refund.id, refund.clawbackAttempt) },
      ));
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

/**
 * The reversal an earlier attempt made for this refund, if any. A transfer
 * object embeds only its 10 most recent reversals, so this pages through
 * all of them (newest first) rather than reading the transfer.
 */
async function findReversal(deps: Pick<TransferDeps, "stripe">, transferId: string, refundId: string): Promise<Stripe.TransferReversal | null> {
  for await (const reversal of deps.stripe.transfers.listReversals(transferId, { limit: 100 })) {
    if (reversal.metadata?.refundId === refundId) return reversal;
  }
  return null;
}

async function failClawback(deps: Pick<TransferDeps, "prisma" | "logger">, refundId: string, reason: string): Promise<void> {
  await deps.prisma.refund.updateMany({ where: { id: refundId, clawbackStatus: "pending" }, data: { clawbackStatus: "failed", clawbackFailure: reason } });
  deps.logger.warn({ refundId, reason }, "clawback failed; the admin sees it on the payout and can retry it");
}

/** After the last retry (Stripe unreachable for long): the admin sees the clawback failed, with why, and can retry it. */
export async function giveUpClawback(deps: Pick<TransferDeps, "prisma" | "logger">, refundId: string, error: Error): Promise<void> {
  await failClawback(deps, refundId, `Stripe did not answer after several tries (${stripeFailureReason(error)})`);
}

/**
 * The admin's retry of a clawback: a failed one gets a new attempt under a
 * new key (Stripe replays the failure under the old one); a pending one (its
 * job waiting, or lost) is run again under its own key.
 */
export async function retryClawback(deps: Pick<TransferDeps, "prisma" | "clock">, refundId: string): Promise<{ refundId: string; attempt: number } | null> {
  return deps.prisma.$transaction(async (tx) => {
    const [pending] = await tx.$queryRaw<{ clawbackAttempt: number }[]>`
      SELECT "clawbackAttempt" FROM "Refund" WHERE "id" = ${refundId}::uuid AND "clawbackStatus" = 'pending' FOR UPDATE`;
    if (pending) {
      await enqueue(tx, clawbackJob(refundId, pending.clawbackAttempt, `nudge-${deps.clock.now().getTime()}`));
      return { refundId, attempt: pending.clawbackAttempt };
    }
    const [row] = await tx.$queryRaw<{ clawbackAttempt: number }[]>`
      UPDATE "Refund" SET "clawbackStatus" = 'pending', "clawbackFailure" = NULL, "clawbackAttempt" = "clawbackAttempt" + 1, "updatedAt" = ${deps.clock.now()}
      WHERE "id" = ${refundId}::uuid AND "clawbackStatus" = 'failed'
      RETURNING "clawbackAttempt"`;
    if (!row) return null;
    await enqueue(tx, clawbackJob(refundId, row.clawbackAttempt));
    return { refundId, attempt: row.clawbackAttempt };
  });
}

// ---------------------------------------------------------------- the sweep

/** An approved payout, or a pending clawback of a transferred one, untouched this long is looked at again. */
export const STUCK_AFTER_MS = 15 * 60_000;

/**
 * Runs again what a lost job left behind: approved payouts with no transfer
 * (a job that stalled past its retries, or was lost with Redis's data) and
 * clawbacks pending on a payout whose transfer exists. Each gets a new run
 * of its attempt, which looks Stripe up before calling, so running it twice
 * pays nothing twice. Part of the hourly payout run.
 */
export async function requeueStuckMoney(deps: Pick<TransferDeps, "prisma" | "clock">): Promise<{ transfers: number; clawbacks: number }> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - STUCK_AFTER_MS);
  const slot = `sweep-${Math.floor(now.getTime() / STUCK_AFTER_MS)}`;
  const payouts = await deps.prisma.payout.findMany({
    where: { status: "approved", stripeTransferId: null, updatedAt: { lte: before } },
    select: { id: true, transferAttempt: true },
    take: 500,
  });
  const refunds = await deps.prisma.refund.findMany({
    where: { clawbackStatus: "pending", updatedAt: { lte: before }, clawbackPayout: { stripeTransferId: { not: null } } },
    select: { id: true, clawbackAttempt: true },
    take: 500,
  });
  if (payouts.length + refunds.length > 0) {
    await deps.prisma.$transaction(async (tx) => {
      for (const payout of payouts) await enqueue(tx, transferJob(payout.id, payout.transferAttempt, slot));
      for (const refund of refunds) await enqueue(tx, clawbackJob(refund.id, refund.clawbackAttempt, slot));
    });
  }
  return { transfers: payouts.length, clawbacks: refunds.length };
}

