/**
 * The backstop for webhook work no job will do. A fan-out or attempt job
 * that used up its BullMQ attempts (a few minutes of database trouble) ends
 * failed in BullMQ, and Redis may lose jobs outright; either way the rows
 * still say what is owed: a pending delivery whose nextAttemptAt is well
 * past, an event whose fan-out never committed (fannedOutAt still null).
 *
 * Overdue is not lost: a backlog keeps jobs waiting, and BullMQ retries a
 * failing job for about two minutes. So for each overdue row the sweep looks
 * where its job can be: an unpublished outbox row (the relay will add it) or
 * a job BullMQ will still run. Only when there is neither is the job handed
 * back to the outbox under its own deterministic id: BullMQ's finished copy
 * (kept a day, or a week when failed, and a second add of a kept id is
 * ignored) is removed first, and the outbox row is marked unpublished again
 * (or written anew once purged). A copy that turned up after all would only
 * run a job that records once: attempts are recorded only as the delivery's
 * next, and a fan-out's deliveries are unique per endpoint.
 *
 * Every query runs on a partial index of the few rows owed work, so a sweep
 * with nothing to do costs two index lookups.
 */
import { Queue, type JobState } from "bullmq";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import { enqueue, type OutboxJob } from "../outbox/outbox.js";
import { RETRY_WINDOW_MS } from "./backoff.js";
import { attemptJobId, attemptOutboxJob } from "./delivery.js";
import { fanOutOutboxJob } from "./emit.js";

export const SWEEP_WEBHOOKS = "sweep-webhooks";
/** The sweep runs this often (see maintenance SCHEDULES). */
export const SWEEP_WEBHOOKS_EVERY_MS = 60_000;
/** Past BullMQ's own retries of a job (about two minutes) and a short backlog: sooner, the job is normally on its way. */
export const WEBHOOK_OVERDUE_AFTER_MS = 5 * 60_000;
export const GIVEN_UP_UNRUN = "given up: its attempt could not be run for 3 days";

/** States in which BullMQ will still run a job; completed, failed or unknown jobs do nothing more. */
const PENDING_STATES = new Set<JobState | "unknown">(["waiting", "delayed", "active", "prioritized", "waiting-children"]);
const FINISHED_STATES = new Set<JobState | "unknown">(["completed", "failed"]);

type SweepDeps = Pick<Deps, "prisma" | "redis" | "queuePrefix" | "clock" | "logger">;

export interface WebhookSweepOptions {
  overdueAfterMs?: number;
  /** Rows looked at per kind and run, most overdue first; the rest wait for the next run. */
  batch?: number;
}

export interface WebhookSweepFindings {
  attemptsRequeued: number;
  fanOutsRequeued: number;
  deliveriesGivenUp: number;
}

/** Marks the job's outbox row unpublished again, or writes it anew when it was purged. */
async function handBack(tx: Prisma.TransactionClient, job: OutboxJob, now: Date): Promise<void> {
  const { count } = await tx.outboxEvent.updateMany({ where: { jobId: job.jobId }, data: { publishedAt: null, runAt: now } });
  if (count === 0) await enqueue(tx, { ...job, runAt: now });
}

export function createWebhookSweep({ prisma, redis, queuePrefix, clock, logger }: SweepDeps, options: WebhookSweepOptions = {}) {
  const overdueAfterMs = options.overdueAfterMs ?? WEBHOOK_OVERDUE_AFTER_MS;
  const batch = options.batch ?? 100;
  // Made on first use, so defining the job touches no Redis. It shares the connection, so has nothing of its own to close.
  let queue: Queue | undefined;
  const webhooksQueue = () => (queue ??= new Queue(QUEUES.webhooks, { connection: redis, prefix: queuePrefix }));

  /**
   * Whether one of `jobIds` is on its way (unpublished, or a job BullMQ will
   * run); if not, removes BullMQ's finished copy of `requeueId`, so that
   * adding it again is not ignored. Returns the state it found, or null when a job is on its way.
   */
  async function lostJobState(jobIds: string[], requeueId: string): Promise<string | null> {
    const unpublished = await prisma.outboxEvent.count({ where: { jobId: { in: jobIds }, publishedAt: null } });
    if (unpublished > 0) return null;
    const states = new Map<string, JobState | "unknown">();
    for (const jobId of jobIds) states.set(jobId, await webhooksQueue().getJobState(jobId));
    if ([...states.values()].some((state) => PENDING_STATES.has(state))) return null;
    const state = states.get(requeueId) ?? "unknown";
    if (FINISHED_STATES.has(state)) await webhooksQueue().remove(requeueId);
    return state;
  }

  async function requeueAttempt(row: { id: string; attempts: number; nextAttemptAt: Date | null }, now: Date): Promise<string | null> {
    const attempt = row.attempts + 1;
    const automatic = { deliveryId: row.id, attempt, manual: false };
    // A redelivery the shop asked for is the same attempt by another job id: either one on its way will do.
    const state = await lostJobState([attemptJobId(automatic), attemptJobId({ ...automatic, manual: true })], attemptJobId(automatic));
    if (state === null) return null;
    return prisma.$transaction(async (tx) => {
      // Conditional on what we read: an attempt that ran meanwhile wins. Due now, so the log says when it will be tried.
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: row.id, status: "pending", attempts: row.attempts, nextAttemptAt: row.nextAttemptAt },
        data: { nextAttemptAt: now },
      });
      if (count === 0) return null;
      await handBack(tx, attemptOutboxJob(automatic), now);
      return state;
    });
  }

  async function requeueFanOut(eventId: string, now: Date): Promise<string | null> {
    const job = fanOutOutboxJob(eventId);
    const state = await lostJobState([job.jobId], job.jobId);
    if (state === null) return null;
    return prisma.$transaction(async (tx) => {
      const event = await tx.webhookEvent.findUnique({ where: { id: eventId }, select: { fannedOutAt: true } });
      if (!event || event.fannedOutAt) return null;
      await handBack(tx, job, now);
      return state;
    });
  }

  /** One run: gives up deliveries overdue past the retry window, then re-queues lost attempts and fan-outs. One warn line each. */
  return async function sweepWebhooks(): Promise<WebhookSweepFindings> {
    const now = clock.now();
    const overdue = new Date(now.getTime() - overdueAfterMs);
    // Attempts are due within 3 days of the event: one overdue by more than that was re-queued for days in vain (a bug,
    // not an outage). Given up, it stops costing each sweep, and its event can be purged.
    const stale = new Date(now.getTime() - RETRY_WINDOW_MS);
    const givenUp = await prisma.webhookDelivery.updateMany({
      where: { status: "pending", nextAttemptAt: { lt: stale } },
      data: { status: "failed", nextAttemptAt: null, lastError: GIVEN_UP_UNRUN },
    });
    if (givenUp.count > 0) logger.warn({ count: givenUp.count }, "webhook deliveries given up: their attempts could not be run for 3 days");

    const findings: WebhookSweepFindings = { attemptsRequeued: 0, fanOutsRequeued: 0, deliveriesGivenUp: givenUp.count };
    const deliveries = await prisma.webhookDelivery.findMany({
      where: { status: "pending", nextAttemptAt: { lt: overdue } },
      orderBy: { nextAttemptAt: "asc" },
      take: batch,
      select: { id: true, attempts: true, nextAttemptAt: true },
    });
    for (const row of deliveries) {
      try {
        const state = await requeueAttempt(row, now);
        if (state === null) continue;
        findings.attemptsRequeued++;
        logger.warn({ deliveryId: row.id, attempt: row.attempts + 1, jobState: state, nextAttemptAt: row.nextAttemptAt }, "webhook attempt job lost; re-queued");
      } catch (error) {
        // One bad row (or a Redis hiccup) must not stop the others; the next run looks again.
        logger.warn({ deliveryId: row.id, err: error }, "could not check a webhook delivery for a lost attempt job; will retry");
      }
    }

    // An event older than the retry window is not sent any more: it waits for the retention purge.
    const events = await prisma.webhookEvent.findMany({
      where: { fannedOutAt: null, createdAt: { lt: overdue, gt: stale } },
      orderBy: { createdAt: "asc" },
      take: batch,
      select: { id: true },
    });
    for (const event of events) {
      try {
        const state = await requeueFanOut(event.id, now);
        if (state === null) continue;
        findings.fanOutsRequeued++;
        logger.warn({ eventId: event.id, jobState: state }, "webhook fan-out job lost; re-queued");
      } catch (error) {
        logger.warn({ eventId: event.id, err: error }, "could not check a webhook event for a lost fan-out job; will retry");
      }
    }
    return findings;
  };
}

export function sweepWebhooksJob(deps: SweepDeps, options: WebhookSweepOptions = {}) {
  const sweep = createWebhookSweep(deps, options);
  return defineJob({
    name: SWEEP_WEBHOOKS,
    payload: z.object({}).loose(),
    async handle() {
      await sweep();
    },
  });
}
