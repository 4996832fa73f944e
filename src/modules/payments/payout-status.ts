/**
 * A payout's status changes in one place: locked, checked against the
 * statuses it may come from, changed, and recorded as a PayoutDecision
 * (who, when, why), whether an admin or the system made it.
 */
import type { Prisma, PayoutStatus } from "../../generated/prisma/client.js";

type Tx = Prisma.TransactionClient;

/** Records a status change and its decision row, conditional on the status it comes from. Returns false when the payout was not there. */
export async function changePayoutStatus(
  tx: Tx,
  input: { payoutId: string; from: PayoutStatus[]; to: PayoutStatus; action: string; actor: string; note?: string | null; at: Date; data?: Prisma.PayoutUpdateManyMutationInput },
): Promise<PayoutStatus | null> {
  const [before] = await tx.$queryRaw<{ status: PayoutStatus }[]>`
    SELECT "status" FROM "Payout" WHERE "id" = ${input.payoutId}::uuid FOR UPDATE`;
  if (!before || !input.from.includes(before.status)) return null;
  await tx.payout.update({ where: { id: input.payoutId }, data: { ...input.data, status: input.to } });
  await tx.payoutDecision.create({
    data: { payoutId: input.payoutId, action: input.action, actor: input.actor, note: input.note ?? null, fromStatus: before.status, toStatus: input.to, createdAt: input.at },
  });
  return before.status;
}
