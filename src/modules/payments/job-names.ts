/**
 * The payments module's job names and the outbox jobs other files enqueue,
 * apart from the handlers (payment-jobs.ts) so that enqueuing a job does
 * not import the code that runs it. Job ids derive from rows: one transfer
 * job per payout and attempt, one clawback per refund.
 */
import { QUEUES } from "../../jobs/define.js";
import type { OutboxJob } from "../outbox/outbox.js";

export const PAYOUT_RUN = "payout-run";
export const PAYOUT_TRANSFER = "payout-transfer";
export const REFUND_CLAWBACK = "refund-clawback";

/** One job per payout and attempt; `run` names another run of the same attempt (the sweep's), which looks Stripe up first. */
export function transferJob(payoutId: string, attempt: number, run?: string): OutboxJob {
  const base = `payout-transfer-${payoutId}-${attempt}`;
  return run
    ? { queue: QUEUES.transfers, name: PAYOUT_TRANSFER, payload: { payoutId, lookFirst: true }, jobId: `${base}-${run}` }
    : { queue: QUEUES.transfers, name: PAYOUT_TRANSFER, payload: { payoutId }, jobId: base };
}

/**
 * One job per refund and attempt (an admin's retry of a failed clawback is a
 * new attempt); `run` names another run of the same attempt (after its
 * payout's transfer, an admin's nudge, the sweep), which reuses the
 * attempt's key after looking for a reversal an earlier run made.
 */
export function clawbackJob(refundId: string, attempt = 0, run?: string): OutboxJob {
  const base = attempt === 0 ? `refund-clawback-${refundId}` : `refund-clawback-${refundId}-${attempt}`;
  return run
    ? { queue: QUEUES.transfers, name: REFUND_CLAWBACK, payload: { refundId, lookFirst: true }, jobId: `${base}-${run}` }
    : { queue: QUEUES.transfers, name: REFUND_CLAWBACK, payload: { refundId }, jobId: base };
}
