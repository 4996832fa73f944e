/**
 * What Stripe tells us after a transfer, from its webhooks (any order, any
 * number of times; a status never moves back):
 * - `transfer.reversed`: the transfer's amount_reversed (our clawbacks, or
 *   a reversal made in Stripe's dashboard) shows on the payout;
 * - `payout.paid` / `payout.failed` on the expert's connected account (the
 *   event's `account`): Stripe paid the account's balance out to the bank,
 *   or the bank refused it. A bank payout covers what the account held when
 *   it was created, so it settles our transfers to that account made before
 *   it: transferred -> paid, and transferred or paid -> failed (a bank can
 *   return a payout after it arrived).
 */
import type { Deps } from "../../deps.js";
import { webhookEvents } from "../webhooks/emit.js";
import { changePayoutStatus } from "./payout-status.js";

type SettlementDeps = Pick<Deps, "prisma" | "clock" | "logger">;

/** The fields of a recorded Stripe event these handlers read. */
export interface StripeEventFacts {
  eventId: string;
  type: string;
  /** The connected account, for Connect events. */
  account?: string | null | undefined;
  /** Unix seconds. */
  created: number;
  object: Record<string, unknown>;
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);
const count = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null);

export async function onTransferReversed(deps: SettlementDeps, event: StripeEventFacts): Promise<void> {
  const transferId = text(event.object.id);
  const reversed = count(event.object.amount_reversed);
  if (!transferId || reversed === null) return;
  const updated = await deps.prisma.$executeRaw`
    UPDATE "Payout" SET "reversedMinor" = GREATEST("reversedMinor", ${reversed}::int), "updatedAt" = now()
    WHERE "stripeTransferId" = ${transferId} AND "reversedMinor" < ${reversed}::int`;
  if (updated > 0) deps.logger.info({ transferId, reversed }, "transfer reversal recorded on its payout");
}

export async function onConnectedPayout(deps: SettlementDeps, event: StripeEventFacts): Promise<void> {
  const account = text(event.account);
  const bankPayoutId = text(event.object.id);
  if (!account || !bankPayoutId) return;
  const expert = await deps.prisma.expert.findUnique({ where: { stripeAccountId: account }, select: { id: true } });
  if (!expert) return;
  // What the bank payout covered: transfers to this account before it was created.
  const createdAt = new Date((count(event.object.created) ?? event.created) * 1000);
  const currency = text(event.object.currency)?.toUpperCase() ?? null;
  const failed = event.type === "payout.failed";
  const reason = failed ? `${text(event.object.failure_code) ?? "payout_failed"}: ${text(event.object.failure_message) ?? "the bank refused the payout"}` : null;
  const sameCurrency = currency ? { currency } : {};
  const payouts = await deps.prisma.payout.findMany({
    where: failed
      ? { expertId: expert.id, ...sameCurrency, OR: [{ stripePayoutId: bankPayoutId }, { status: "transferred", transferredAt: { lte: createdAt } }] }
      : {
          expertId: expert.id,
          ...sameCurrency,
          transferredAt: { lte: createdAt },
          // Transferred; or failed at another bank payout (this one pays the money out again).
          OR: [{ status: "transferred" }, { status: "failed", stripePayoutId: { not: bankPayoutId } }],
        },
    select: { id: true },
  });
  const now = deps.clock.now();
  for (const { id } of payouts) {
    await deps.prisma.$transaction(async (tx) => {
      const from = await changePayoutStatus(tx, {
        payoutId: id,
        from: failed ? ["transferred", "paid"] : ["transferred", "failed"],
        to: failed ? "failed" : "paid",
        action: failed ? "bank_payout_failed" : "bank_payout_paid",
        actor: "system",
        note: `Stripe payout ${bankPayoutId}${reason ? `: ${reason}` : ""}`,
        at: now,
        data: { stripePayoutId: bankPayoutId, failureReason: reason },
      });
      if (from !== null) await webhookEvents.payoutChanged(tx, id, { type: failed ? "payout.failed" : "payout.paid", cause: event.eventId, at: now });
    });
  }
}
