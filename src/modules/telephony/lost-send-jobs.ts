/**
 * The backstop for SMS left in `queued` with no send job. The outbox relay
 * marks an event published once BullMQ has the job, and Redis on these
 * machines keeps nothing across a restart: a job lost after that leaves its
 * row queued forever, with nothing to send it and nothing in the logs.
 *
 * An overdue queued row alone is no proof of a lost job. The send job holds
 * a row through its recipient's quiet hours in BullMQ's delayed set (without
 * writing sendAfter), retries with backoff after a Twilio 5xx, and a backlog
 * keeps jobs waiting. So for each overdue row the sweep looks where its job
 * can be: an unpublished outbox event (the relay will add it), or a job
 * BullMQ will still run. Only a row with neither is re-queued, through the
 * outbox, under a job id of its own (BullMQ ignores an id it still keeps as
 * completed). Should the lost job turn up after all, the send job's
 * conditional queued -> sending claim lets one of the two send.
 */
import { Queue, type JobState } from "bullmq";
import type { Deps } from "../../deps.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";
import { FAILURE_REASONS, LOST_SEND_JOB_LOG, MAX_INTERRUPTED_SENDS } from "./send-claims.js";
import { SEND_SMS } from "./sms.js";

/** A row whose send time is this far past is looked at; sooner, its job is normally still on its way. */
export const SEND_OVERDUE_AFTER_MS = 10 * 60_000;

/**
 * A message whose re-queued jobs keep vanishing points at a bug rather than
 * at Redis restarts: it is failed after this many re-queues instead of
 * being re-queued every minute forever.
 */
export const MAX_LOST_JOB_REQUEUES = 5;

/** States in which BullMQ will still run a job; completed, failed or unknown jobs send nothing more. */
const PENDING_STATES = new Set<JobState | "unknown">(["waiting", "delayed", "active", "prioritized", "waiting-children"]);

export const resendJobId = (messageId: string, resend: number) => `sms-${messageId}-resend-${resend}`;
export const requeueJobId = (messageId: string, requeue: number) => `sms-${messageId}-requeue-${requeue}`;

/** Every send job a message can have had: queueSms's (sms.ts), the stuck-send sweep's resends, and ours. */
function sendJobIds(messageId: string) {
  const resends = Array.from({ length: MAX_INTERRUPTED_SENDS }, (_, index) => resendJobId(messageId, index + 1));
  const requeues = Array.from({ length: MAX_LOST_JOB_REQUEUES }, (_, index) => requeueJobId(messageId, index + 1));
  return { all: [`sms-${messageId}`, ...resends, ...requeues], requeues };
}

type LostJobDeps = Pick<Deps, "prisma" | "redis" | "queuePrefix" | "clock" | "logger">;

export interface LostJobOptions {
  overdueAfterMs?: number;
  /** Overdue rows looked at per run, oldest first; the rest wait for the next run. */
  batch?: number;
}

interface QueuedRow {
  id: string;
  sendAfter: Date | null;
  updatedAt: Date;
}

export function createLostSendJobSweep({ prisma, redis, queuePrefix, clock, logger }: LostJobDeps, options: LostJobOptions = {}) {
  const overdueAfterMs = options.overdueAfterMs ?? SEND_OVERDUE_AFTER_MS;
  const batch = options.batch ?? 500;
  // Made on first use, so defining the job touches no Redis. It shares the connection, so has nothing of its own to close.
  let queue: Queue | undefined;
  const telephonyQueue = () => (queue ??= new Queue(QUEUES.telephony, { connection: redis, prefix: queuePrefix }));

  async function hasPendingJob(jobIds: string[], outbox: Map<string, Date | null>): Promise<boolean> {
    const known = jobIds.filter((jobId) => outbox.has(jobId));
    if (known.some((jobId) => outbox.get(jobId) === null)) return true; // the relay has yet to add it
    for (const jobId of known) {
      if (PENDING_STATES.has(await telephonyQueue().getJobState(jobId))) return true;
    }
    return false;
  }

  async function settle(row: QueuedRow, outbox: Map<string, Date | null>): Promise<{ outcome: string; requeue?: number } | null> {
    const ids = sendJobIds(row.id);
    if (await hasPendingJob(ids.all, outbox)) return null;
    // Requeue ids are used in order, so the next one follows the last one the outbox still holds.
    const requeue = ids.requeues.findLastIndex((jobId) => outbox.has(jobId)) + 2;
    // Conditional on the version we read: a send job or another sweep that touched the row since wins.
    const unchanged = { id: row.id, status: "queued" as const, twilioSid: null, updatedAt: row.updatedAt };
    if (requeue > MAX_LOST_JOB_REQUEUES) {
      const { count } = await prisma.message.updateMany({
        where: unchanged,
        data: { status: "failed", failureReason: FAILURE_REASONS.sendJobLost },
      });
      return count === 1 ? { outcome: "failed" } : null;
    }
    return prisma.$transaction(async (tx) => {
      // A stale sendAfter would let the new job skip the sender's throughput slot; it reserves a fresh one.
      const { count } = await tx.message.updateMany({ where: unchanged, data: { sendAfter: null } });
      if (count === 0) return null;
      await enqueue(tx, { queue: QUEUES.telephony, name: SEND_SMS, payload: { messageId: row.id }, jobId: requeueJobId(row.id, requeue) });
      return { outcome: "requeued", requeue };
    });
  }

  /** Re-queues (or, past the bound, fails) overdue queued SMS that no job will send; one warn line each. */
  return async function requeueLostSendJobs(): Promise<void> {
    const cutoff = new Date(clock.now().getTime() - overdueAfterMs);
    // sendAfter is never before createdAt, so the createdAt bound (the partial index) holds for both cases.
    const rows = await prisma.message.findMany({
      where: {
        status: "queued",
        direction: "outbound",
        createdAt: { lt: cutoff },
        OR: [{ sendAfter: null }, { sendAfter: { lt: cutoff } }],
      },
      orderBy: { createdAt: "asc" },
      take: batch,
      select: { id: true, sendAfter: true, updatedAt: true },
    });
    if (rows.length === 0) return;
    const events = await prisma.outboxEvent.findMany({
      where: { jobId: { in: rows.flatMap((row) => sendJobIds(row.id).all) } },
      select: { jobId: true, publishedAt: true },
    });
    const outbox = new Map(events.map((event) => [event.jobId, event.publishedAt]));
    for (const row of rows) {
      try {
        const settled = await settle(row, outbox);
        if (settled) logger.warn({ messageId: row.id, ...settled, by: "sweep" }, LOST_SEND_JOB_LOG);
      } catch (error) {
        // One bad row (or a Redis hiccup) must not stop the others; the next run looks again.
        logger.warn({ messageId: row.id, err: error }, "could not check a queued sms for a lost send job; will retry");
      }
    }
  };
}
