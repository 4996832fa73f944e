/**
 * The payments module's jobs:
 * - `payout-run` (payments queue, hourly, and POST /v1/admin/payouts/run):
 *   gathers due earnings into payouts for review; hourly, it also runs again
 *   the transfers and clawbacks a lost job left behind;
 * - `payout-transfer` (transfers queue): pays an approved payout;
 * - `refund-clawback` (transfers queue): reverses a paid earning's share.
 */
import type { Queue } from "bullmq";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob } from "../../jobs/define.js";
import { PAYOUT_RUN, PAYOUT_TRANSFER, REFUND_CLAWBACK } from "./job-names.js";
import { clawBackRefund, giveUpClawback, giveUpTransfer, requeueStuckMoney, transferPayout } from "./payout-transfer.js";
import { runPayouts } from "./payout-run.js";
import { onConnectedPayout, onTransferReversed } from "./payout-settlement.js";
import type { StripeEventHandlers } from "./stripe-events.js";

/** How often the payout run looks for earnings past the review window. */
export const PAYOUT_RUN_EVERY_MS = 60 * 60_000;

/** 5xx and dropped connections: the SDK retries twice at once; these retries come later, for longer outages. */
const STRIPE_RETRIES = { attempts: 8, backoff: { type: "exponential", delay: 5_000 } } as const;

type PaymentJobDeps = Pick<Deps, "prisma" | "stripe" | "clock" | "logger" | "config">;

export function transferJobs(deps: PaymentJobDeps) {
  return [
    defineJob({
      name: PAYOUT_TRANSFER,
      payload: z.object({ payoutId: z.uuid(), lookFirst: z.boolean().optional() }),
      options: STRIPE_RETRIES,
      handle: ({ payoutId, lookFirst }, context) => transferPayout(deps, payoutId, context, { lookFirst: lookFirst ?? false }),
      onGiveUp: ({ payoutId }, error) => giveUpTransfer(deps, payoutId, error),
    }),
    defineJob({
      name: REFUND_CLAWBACK,
      payload: z.object({ refundId: z.uuid(), lookFirst: z.boolean().optional() }),
      options: STRIPE_RETRIES,
      handle: ({ refundId, lookFirst }, context) => clawBackRefund(deps, refundId, context, { lookFirst: lookFirst ?? false }),
      onGiveUp: ({ refundId }, error) => giveUpClawback(deps, refundId, error),
    }),
  ];
}

export function payoutRunJobs(deps: PaymentJobDeps) {
  return [
    defineJob({
      name: PAYOUT_RUN,
      payload: z.object({}),
      options: { attempts: 3, backoff: { type: "exponential", delay: 60_000 } },
      handle: async () => {
        await runPayouts(deps);
        const requeued = await requeueStuckMoney(deps);
        if (requeued.transfers + requeued.clawbacks > 0) deps.logger.warn(requeued, "ran again transfers and clawbacks a lost job left behind");
      },
    }),
  ];
}

/** The hourly payout run; upserting the scheduler makes this safe on every worker start. */
export async function schedulePayoutRuns(queue: Queue): Promise<void> {
  await queue.upsertJobScheduler(PAYOUT_RUN, { every: PAYOUT_RUN_EVERY_MS }, { name: PAYOUT_RUN, data: {} });
}

/** What Stripe's events say about transfers and bank payouts (payout-settlement.ts), for the stripe-event job's table. */
export function payoutEventHandlers(deps: Pick<Deps, "prisma" | "clock" | "logger">): StripeEventHandlers {
  return {
    "transfer.reversed": (event) => onTransferReversed(deps, event),
    "payout.paid": (event) => onConnectedPayout(deps, event),
    "payout.failed": (event) => onConnectedPayout(deps, event),
  };
}
