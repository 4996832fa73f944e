import { z } from "zod";
import { pageQuery } from "../../lib/pagination.js";
import { text } from "../../lib/text.js";
import { RISK_FLAGS } from "./risk-flags.js";

export const PAYOUT_STATUSES = ["pending_review", "held", "rejected", "approved", "transferred", "paid", "failed"] as const;

export const listPayoutsQuery = pageQuery.extend({
  status: z.enum(PAYOUT_STATUSES).optional(),
  shopId: z.uuid({ error: "must be a UUID" }).optional(),
  expertId: z.uuid({ error: "must be a UUID" }).optional(),
});

export const payoutSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    expertId: z.uuid(),
    expertName: z.string(),
    status: z.enum(PAYOUT_STATUSES),
    amountMinor: z.number().int().describe("What the transfer pays, in minor units"),
    currency: z.string(),
    sessionCount: z.number().int(),
    riskFlags: z.array(z.enum(RISK_FLAGS)),
    riskDetails: z.record(z.string(), z.string()).describe("Why each flag was raised"),
    payoutsEnabled: z.boolean().describe("The expert's Stripe account can be paid (approval needs it)"),
    reviewedBy: z.string().nullable(),
    reviewedAt: z.date().nullable(),
    reviewNote: z.string().nullable(),
    stripeTransferId: z.string().nullable(),
    transferredAt: z.date().nullable(),
    reversedMinor: z.number().int().describe("Taken back from the transfer (refund clawbacks, reversals in Stripe)"),
    stripePayoutId: z.string().nullable().describe("The expert's bank payout at Stripe that settled it"),
    failureReason: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Payout" });

export const payoutDetailSchema = payoutSchema
  .extend({
    sessions: z.array(
      z.object({
        id: z.uuid(),
        questionId: z.uuid(),
        mode: z.string(),
        startedAt: z.date().nullable(),
        endedAt: z.date().nullable(),
        durationSeconds: z.number().int().nullable(),
        bridgedSeconds: z.number().int(),
        rating: z.number().int().nullable(),
      }),
    ),
    ledger: z.array(
      z.object({
        id: z.uuid(),
        kind: z.string(),
        sessionId: z.uuid().nullable(),
        amountMinor: z.number().int(),
        currency: z.string(),
        reversesEntryId: z.uuid().nullable(),
        refundId: z.uuid().nullable(),
        releasedAt: z.date().nullable().describe("Set when a rejection released the line back to unpaid"),
        createdAt: z.date(),
      }),
    ),
    decisions: z.array(
      z.object({ action: z.string(), actor: z.string(), note: z.string().nullable(), fromStatus: z.string(), toStatus: z.string(), createdAt: z.date() }),
    ),
    clawbacks: z.array(
      z.object({
        refundId: z.uuid(),
        sessionId: z.uuid(),
        amountMinor: z.number().int().describe("The expert's share taken back"),
        status: z.string().nullable(),
        stripeReversalId: z.string().nullable(),
        failure: z.string().nullable(),
        createdAt: z.date(),
      }),
    ),
  })
  .meta({ id: "PayoutDetail" });

const note = text({ max: 2000, min: 1 });

// A body-less POST (curl without -d) reaches the schema as null.
export const approveBody = z.preprocess((body) => body ?? {}, z.object({ note: text({ max: 2000 }).optional() }).strict());
export const holdBody = z.object({ note }).strict();
export const rejectBody = z
  .object({
    note,
    earnings: z.enum(["release", "reverse"]).describe("release: unpaid again, for a later payout; reverse: the sessions are refunded to the shop and nobody is paid"),
  })
  .strict();

export const runResultSchema = z.object({
  payoutIds: z.array(z.uuid()),
  considered: z.number().int().describe("Experts (per currency) with earnings past the review window"),
});

export const refundBody = z
  .object({
    amountMinor: z
      .number()
      .int("must be whole minor units (cents), not a decimal")
      .min(1)
      .max(2_147_483_647)
      .optional()
      .describe("Unset: all that is left of the charge"),
    reason: text({ max: 500 }).optional(),
  })
  .strict()
  .default({});

export const refundSchema = z
  .object({
    id: z.uuid(),
    sessionId: z.uuid(),
    amountMinor: z.number().int(),
    currency: z.string(),
    earningReversedMinor: z.number().int(),
    feeReversedMinor: z.number().int(),
    earningRecovery: z.enum(["ledger", "clawback", "none"]).describe("ledger: the expert was not paid yet; clawback: reversed from the transfer"),
    clawbackStatus: z.string().nullable(),
    remainingMinor: z.number().int().describe("What is left of the charge to refund"),
    createdAt: z.date(),
  })
  .meta({ id: "Refund" });

export const retriedClawbackSchema = z.object({
  refundId: z.uuid(),
  attempt: z.number().int().describe("The new attempt (each takes its own Idempotency-Key)"),
});
