/**
 * An admin's decisions on a payout, each recorded with who and when
 * (PayoutDecision) and told to the shop's webhooks:
 * - approve (pending_review or held): the transfer is queued (payout-transfer.ts);
 * - hold (pending_review), with a note. An approved payout cannot be held:
 *   its transfer may already be on its way to Stripe. The system holds a
 *   payout whose transfer Stripe refused, with Stripe's reason;
 * - reject (pending_review or held), with a note and what becomes of the
 *   earnings: `release` (unpaid again, for a later payout) or `reverse`
 *   (the sessions are refunded to the shop in full: nobody is paid for them).
 *   A held payout that was approved before is looked up at Stripe first: a
 *   transfer that exists is recorded, and the rejection refused.
 * Every change is one conditional UPDATE on the status it comes from, under
 * the expert's earnings lock (the payout run's and refunds'), so two admins
 * deciding at once, or a decision racing a refund, end one way.
 */
import type { Prisma, PayoutStatus } from "../../generated/prisma/client.js";
import type { Deps } from "../../deps.js";
import { conflict, DomainError, notFound } from "../../lib/problems.js";
import { findTransfer, recordTransfer } from "./payout-transfer.js";
import { enqueue } from "../outbox/outbox.js";
import { webhookEvents, type PayoutEventType } from "../webhooks/emit.js";
import { transferJob } from "./job-names.js";
import { changePayoutStatus } from "./payout-status.js";
import { lockExpertEarnings } from "./payout-run.js";
import { refundSessionInTx } from "./refunds.js";

type Tx = Prisma.TransactionClient;
export type ReviewDeps = Pick<Deps, "prisma" | "clock" | "logger" | "stripe">;

export type PayoutAction = "approve" | "hold" | "reject";

const FROM: Record<PayoutAction, PayoutStatus[]> = {
  approve: ["pending_review", "held"],
  hold: ["pending_review"],
  reject: ["pending_review", "held"],
};
const TO: Record<PayoutAction, PayoutStatus> = { approve: "approved", hold: "held", reject: "rejected" };
const EVENT: Record<PayoutAction, PayoutEventType> = { approve: "payout.approved", hold: "payout.held", reject: "payout.rejected" };

export interface DecisionInput {
  payoutId: string;
  action: PayoutAction;
  /** The admin's name (from their key). */
  actor: string;
  note?: string | undefined;
  /** reject only: what becomes of the earnings. */
  earnings?: "release" | "reverse" | undefined;
}

export async function decidePayout(deps: ReviewDeps, input: DecisionInput) {
  const now = deps.clock.now();
  const payout = await deps.prisma.payout.findUnique({
    where: { id: input.payoutId },
    select: {
      id: true,
      status: true,
      expertId: true,
      amountMinor: true,
      transferAttempt: true,
      stripeTransferId: true,
      expert: { select: { payoutsEnabled: true, stripeAccountId: true } },
    },
  });
  if (!payout) throw notFound("Payout");
  if ((input.action === "hold" || input.action === "reject") && !input.note?.trim()) {
    throw new DomainError(400, "note-required", `A ${input.action} needs a note saying why`, [{ path: "body.note", message: "required" }]);
  }
  if (input.action === "reject" && !input.earnings) {
    throw new DomainError(400, "earnings-required", "Say what becomes of the earnings: release (paid later) or reverse (refunded)", [
      { path: "body.earnings", message: "must be release or reverse" },
    ]);
  }
  if (input.action === "approve" && (!payout.expert.payoutsEnabled || !payout.expert.stripeAccountId)) {
    throw conflict("payouts-not-enabled", "The expert has not finished Stripe onboarding (payouts are not enabled); hold the payout until they do");
  }
  if (input.action === "approve" && payout.amountMinor <= 0) {
    throw conflict("nothing-to-pay", "Refunds took back every earning in this payout; reject it (release) instead");
  }
  // Approved before and held by the system: Stripe may hold a transfer we never recorded (a call that failed ambiguously).
  if (input.action === "reject" && payout.status === "held" && payout.transferAttempt > 0) {
    const existing = await findTransfer(deps, payout.id).catch((error: unknown) => {
      deps.logger.warn({ err: error, payoutId: payout.id }, "could not look the payout's transfer up at Stripe before rejecting it");
      throw new DomainError(503, "stripe-unavailable", "Stripe could not be asked whether this payout was paid; try again in a minute", undefined, { "retry-after": "60" });
    });
    if (existing) {
      await recordTransfer(deps, payout.id, existing);
      throw conflict("payout-transferred", `Stripe has a transfer for this payout (${existing.id}); it is recorded now, and the payout can no longer be rejected`);
    }
  }
  await deps.prisma.$transaction(async (tx) => {
    await lockExpertEarnings(tx, payout.expertId);
    if (input.action === "approve") {
      // Again under the lock: a refund may have emptied it since it was read.
      const { amountMinor } = await tx.payout.findUniqueOrThrow({ where: { id: payout.id }, select: { amountMinor: true } });
      if (amountMinor <= 0) throw conflict("nothing-to-pay", "Refunds took back every earning in this payout; reject it (release) instead");
    }
    const from = await changePayoutStatus(tx, {
      payoutId: payout.id,
      from: FROM[input.action],
      to: TO[input.action],
      action: input.action,
      actor: input.actor,
      note: input.note?.trim() ?? null,
      at: now,
      data: {
        reviewedBy: input.actor,
        reviewedAt: now,
        reviewNote: input.note?.trim() ?? null,
        // A hold before the transfer exists stops it: the transfer job checks the status first.
        ...(input.action === "approve" ? { failureReason: null } : {}),
      },
    });
    if (from === null) {
      const current = await tx.payout.findUniqueOrThrow({ where: { id: payout.id }, select: { status: true } });
      throw conflict("payout-status", `The payout is ${current.status}; it cannot be ${TO[input.action]} now`);
    }
    if (input.action === "approve") {
      const fresh = await tx.payout.findUniqueOrThrow({ where: { id: payout.id }, select: { transferAttempt: true } });
      await enqueue(tx, transferJob(payout.id, fresh.transferAttempt));
    }
    if (input.action === "reject") await settleRejectedEarnings(tx, { payoutId: payout.id, earnings: input.earnings ?? "release", note: input.note ?? "", now });
    await webhookEvents.payoutChanged(tx, payout.id, { type: EVENT[input.action], cause: `decision:${now.getTime()}`, at: now });
  });
  return readPayout(deps, payout.id);
}

/** A rejected payout's earnings: released back to unpaid, or reversed with the sessions refunded to the shop. */
async function settleRejectedEarnings(tx: Tx, input: { payoutId: string; earnings: "release" | "reverse"; note: string; now: Date }): Promise<void> {
  // Clawbacks waiting for this payout's transfer: there will be none, so their reversals net in the ledger instead.
  await tx.refund.updateMany({ where: { clawbackPayoutId: input.payoutId, clawbackStatus: "pending" }, data: { clawbackStatus: "netted" } });
  if (input.earnings === "release") {
    await tx.payoutItem.updateMany({ where: { payoutId: input.payoutId, releasedAt: null }, data: { releasedAt: input.now } });
    return;
  }
  const sessions = await tx.$queryRaw<{ sessionId: string }[]>`
    SELECT DISTINCT e."sessionId" FROM "PayoutItem" i JOIN "LedgerEntry" e ON e."id" = i."entryId"
    WHERE i."payoutId" = ${input.payoutId}::uuid AND e."sessionId" IS NOT NULL ORDER BY 1`;
  for (const { sessionId } of sessions) {
    await refundSessionInTx(tx, { sessionId, source: "payout_rejected", reason: input.note, rejectedPayoutId: input.payoutId, now: input.now });
  }
}

/** The admin's view of a payout: its sessions, ledger lines, flags, decisions and clawbacks. */
export async function readPayout(deps: Pick<Deps, "prisma">, payoutId: string) {
  const payout = await deps.prisma.payout.findUnique({
    where: { id: payoutId },
    include: {
      expert: { select: { id: true, name: true, payoutsEnabled: true, stripeAccountId: true } },
      decisions: { orderBy: { createdAt: "asc" } },
      items: { include: { entry: true }, orderBy: { id: "asc" } },
      clawbacks: { orderBy: { createdAt: "asc" } },
    },
  });
  if (!payout) throw notFound("Payout");
  const sessionIds = [...new Set(payout.items.map((item) => item.entry.sessionId).filter((id): id is string => id !== null))];
  const sessions = await deps.prisma.session.findMany({
    where: { id: { in: sessionIds } },
    select: { id: true, mode: true, startedAt: true, endedAt: true, durationSeconds: true, bridgedSeconds: true, questionId: true, rating: { select: { score: true } } },
    orderBy: { id: "asc" },
  });
  return { payout, sessions };
}
