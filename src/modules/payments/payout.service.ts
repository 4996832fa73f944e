/**
 * The payments module's service for routes: the admin's payout review and
 * the shop's refunds. Thin: the work is in payout-run.ts, payout-review.ts
 * and refunds.ts.
 */
import type { z } from "zod";
import type { Prisma } from "../../generated/prisma/client.js";
import type { Deps } from "../../deps.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";
import { conflict, notFound } from "../../lib/problems.js";
import { decidePayout, readPayout, type PayoutAction } from "./payout-review.js";
import { retryClawback } from "./payout-transfer.js";
import { runPayouts } from "./payout-run.js";
import { refundSession } from "./refunds.js";
import type { RiskFlag } from "./risk-flags.js";
import type { listPayoutsQuery } from "./payouts.schemas.js";

type PayoutRow = Prisma.PayoutGetPayload<{ include: { expert: { select: { name: true; payoutsEnabled: true } } } }>;

function toPayoutView(payout: PayoutRow) {
  return {
    id: payout.id,
    shopId: payout.shopId,
    expertId: payout.expertId,
    expertName: payout.expert.name,
    status: payout.status,
    amountMinor: payout.amountMinor,
    currency: payout.currency,
    sessionCount: payout.sessionCount,
    riskFlags: payout.riskFlags as RiskFlag[],
    riskDetails: (payout.riskDetails ?? {}) as Record<string, string>,
    payoutsEnabled: payout.expert.payoutsEnabled,
    reviewedBy: payout.reviewedBy,
    reviewedAt: payout.reviewedAt,
    reviewNote: payout.reviewNote,
    stripeTransferId: payout.stripeTransferId,
    transferredAt: payout.transferredAt,
    reversedMinor: payout.reversedMinor,
    stripePayoutId: payout.stripePayoutId,
    failureReason: payout.failureReason,
    createdAt: payout.createdAt,
    updatedAt: payout.updatedAt,
  };
}

export function createPayoutService(deps: Pick<Deps, "prisma" | "clock" | "logger" | "config" | "stripe">) {
  async function detail(payoutId: string) {
    const { payout, sessions } = await readPayout(deps, payoutId);
    return {
      ...toPayoutView(payout),
      sessions: sessions.map(({ rating, ...session }) => ({ ...session, rating: rating?.score ?? null })),
      ledger: payout.items.map((item) => ({
        id: item.entry.id,
        kind: item.entry.kind,
        sessionId: item.entry.sessionId,
        amountMinor: item.entry.amountMinor,
        currency: item.entry.currency,
        reversesEntryId: item.entry.reversesEntryId,
        refundId: item.entry.refundId,
        releasedAt: item.releasedAt,
        createdAt: item.entry.createdAt,
      })),
      decisions: payout.decisions.map(({ action, actor, note, fromStatus, toStatus, createdAt }) => ({ action, actor, note, fromStatus, toStatus, createdAt })),
      clawbacks: payout.clawbacks.map((refund) => ({
        refundId: refund.id,
        sessionId: refund.sessionId,
        amountMinor: refund.earningReversedMinor,
        status: refund.clawbackStatus,
        stripeReversalId: refund.stripeReversalId,
        failure: refund.clawbackFailure,
        createdAt: refund.createdAt,
      })),
    };
  }

  return {
    run: () => runPayouts(deps),

    async list(query: z.infer<typeof listPayoutsQuery>) {
      const rows = await deps.prisma.payout.findMany({
        where: {
          ...(query.status ? { status: query.status } : {}),
          ...(query.shopId ? { shopId: query.shopId } : {}),
          ...(query.expertId ? { expertId: query.expertId } : {}),
          ...afterCursor(query),
        },
        include: { expert: { select: { name: true, payoutsEnabled: true } } },
        ...pageArgs(query),
      });
      const page = toPage(rows, query.limit);
      return { data: page.data.map(toPayoutView), nextCursor: page.nextCursor };
    },

    detail,

    async decide(input: { payoutId: string; action: PayoutAction; actor: string; note?: string | undefined; earnings?: "release" | "reverse" | undefined }) {
      await decidePayout(deps, input);
      return detail(input.payoutId);
    },

    refund: (input: { shopId: string; sessionId: string; amountMinor?: number | undefined; reason?: string | undefined }) => refundSession(deps, input),

    /** The admin retries a failed clawback (after topping up, or once the expert's account can be debited). */
    async retryClawback(refundId: string) {
      const retried = await retryClawback(deps, refundId);
      if (retried) return retried;
      const refund = await deps.prisma.refund.findUnique({ where: { id: refundId }, select: { clawbackStatus: true } });
      if (!refund) throw notFound("Refund");
      throw conflict("clawback-not-retriable", `This refund's clawback is ${refund.clawbackStatus ?? "not needed"}; only a failed or pending one can be retried`);
    },
  };
}

export type PayoutService = ReturnType<typeof createPayoutService>;
