/**
 * The backstop for SMS no job will finish. The send job takes over its own
 * dead claims (send-claims.ts), but a job can vanish too (its stall limit
 * reached, Redis lost). Every minute this settles rows left in `sending`
 * whose claim is far past the lease, each with one warn line operators can
 * alert on:
 *   - Twilio has the message (we stored its SID) but no callback reached us:
 *     fetch it from Twilio by SID and take its status;
 *   - no SID: re-queue it through the outbox as a new send job, or fail it
 *     once it has been interrupted too often.
 * Then, in the same run, it re-queues overdue `queued` rows whose send job
 * is gone (lost-send-jobs.ts).
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import { isTwilioRestError } from "../../lib/twilio-errors.js";
import { enqueue } from "../outbox/outbox.js";
import { createLostSendJobSweep, resendJobId, type LostJobOptions } from "./lost-send-jobs.js";
import { fromTwilioMessageStatus } from "./message-status.js";
import { FAILURE_REASONS, MAX_INTERRUPTED_SENDS, SENDING_LEASE_MS, STUCK_SMS_LOG } from "./send-claims.js";
import { SEND_SMS } from "./sms.js";

export const SETTLE_STUCK_SMS = "settle-stuck-sms";

/** Well past the lease, so a send job that is about to take over its own claim goes first. */
export const STUCK_AFTER_MS = 5 * SENDING_LEASE_MS;

type SweepDeps = Pick<Deps, "prisma" | "twilio" | "clock" | "logger" | "redis" | "queuePrefix">;

export interface SweepOptions {
  stuckAfterMs?: number;
  /** Rows settled per run; the rest wait for the next minute. */
  batch?: number;
  lostJobs?: LostJobOptions;
}

interface StuckRow {
  id: string;
  twilioSid: string | null;
  sendingClaimedAt: Date | null;
  interruptedSends: number;
}

export function settleStuckSmsJob(deps: SweepDeps, options: SweepOptions = {}) {
  const { prisma, twilio, clock, logger } = deps;
  const stuckAfterMs = options.stuckAfterMs ?? STUCK_AFTER_MS;
  const batch = options.batch ?? 100;
  const requeueLostSendJobs = createLostSendJobSweep(deps, options.lostJobs);

  /** Every write below is conditional on the claim we read: a send job that moved the row first wins. */
  const stillStuck = (row: StuckRow) => ({ id: row.id, status: "sending" as const, sendingClaimedAt: row.sendingClaimedAt });

  async function settleFromTwilio(row: StuckRow & { twilioSid: string }): Promise<string | null> {
    let fetched;
    try {
      fetched = await twilio.messages(row.twilioSid).fetch();
    } catch (error) {
      if (isTwilioRestError(error) && error.status === 404) {
        const { count } = await prisma.message.updateMany({
          where: stillStuck(row),
          data: { status: "failed", failureReason: FAILURE_REASONS.unknownAtTwilio },
        });
        return count === 1 ? "failed" : null;
      }
      throw error;
    }
    const status = fromTwilioMessageStatus(fetched.status);
    if (!status || status === "sending") {
      // Still queued at Twilio (it holds messages for hours under load): look again a sweep period later.
      await prisma.message.updateMany({ where: stillStuck(row), data: { sendingClaimedAt: clock.now() } });
      return null;
    }
    const { count } = await prisma.message.updateMany({
      where: stillStuck(row),
      data: { status, ...(fetched.errorCode ? { errorCode: fetched.errorCode } : {}) },
    });
    return count === 1 ? `${status} at twilio` : null;
  }

  async function settleUnsent(row: StuckRow): Promise<string | null> {
    if (row.interruptedSends >= MAX_INTERRUPTED_SENDS) {
      const { count } = await prisma.message.updateMany({
        where: { ...stillStuck(row), twilioSid: null },
        data: { status: "failed", failureReason: FAILURE_REASONS.sendInterrupted },
      });
      return count === 1 ? "failed" : null;
    }
    const interruptedSends = row.interruptedSends + 1;
    return prisma.$transaction(async (tx) => {
      const { count } = await tx.message.updateMany({
        where: { ...stillStuck(row), twilioSid: null },
        data: { status: "queued", sendingClaimedAt: null, sendAfter: null, interruptedSends },
      });
      if (count === 0) return null;
      // A job id of its own: the first send job's id may still be kept by BullMQ, which would ignore it.
      await enqueue(tx, { queue: QUEUES.telephony, name: SEND_SMS, payload: { messageId: row.id }, jobId: resendJobId(row.id, interruptedSends) });
      return "requeued";
    });
  }

  return defineJob({
    name: SETTLE_STUCK_SMS,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - stuckAfterMs);
      const rows = await prisma.message.findMany({
        where: { status: "sending", sendingClaimedAt: { lt: cutoff } },
        orderBy: { sendingClaimedAt: "asc" },
        take: batch,
        select: { id: true, twilioSid: true, sendingClaimedAt: true, interruptedSends: true },
      });
      for (const row of rows) {
        try {
          const outcome = row.twilioSid ? await settleFromTwilio({ ...row, twilioSid: row.twilioSid }) : await settleUnsent(row);
          if (outcome) logger.warn({ messageId: row.id, outcome, by: "sweep", interruptedSends: row.interruptedSends }, STUCK_SMS_LOG);
        } catch (error) {
          // One bad row (or a Twilio outage) must not stop the others; the next sweep tries again.
          logger.warn({ messageId: row.id, err: error }, "could not settle an sms stuck in sending; will retry");
        }
      }
      await requeueLostSendJobs();
    },
  });
}
