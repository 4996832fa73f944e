import { type Queue } from "bullmq";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import { IDEMPOTENCY_RETENTION_MS } from "../../plugins/idempotency.js";
import { REMIND_WAITING_EARNINGS, REMIND_WAITING_EARNINGS_EVERY_MS, remindWaitingEarningsJob } from "../payments/onboarding.js";
import { SWEEP_ROUTING, SWEEP_ROUTING_EVERY_MS, sweepRoutingJob } from "../routing/sweep.js";
import { settleStuckSmsJob, SETTLE_STUCK_SMS } from "../telephony/stuck-sends.js";
import { SWEEP_WEBHOOKS, SWEEP_WEBHOOKS_EVERY_MS, sweepWebhooksJob } from "../webhooks/sweep.js";

export const PURGE_IDEMPOTENCY = "purge-idempotency-records";
export const PURGE_WEBHOOK_RECEIPTS = "purge-webhook-receipts";
export const PURGE_PUBLISHED_OUTBOX = "purge-published-outbox";
export const PURGE_SHOP_WEBHOOK_EVENTS = "purge-shop-webhook-events";

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * A receipt answers a replayed webhook. Twilio retries for hours and Stripe
 * for up to three days, so a month is long past any provider's retry.
 */
export const WEBHOOK_RECEIPT_RETENTION_MS = 30 * DAY_MS;
/**
 * A published outbox row is only history: deduplication rests on the rows
 * that caused it (job ids derive from them) and on BullMQ, which keeps
 * finished jobs for a day. A week leaves time to look into an incident.
 */
export const PUBLISHED_OUTBOX_RETENTION_MS = 7 * DAY_MS;
/**
 * The events we sent to shops, with their deliveries and attempts (the
 * delivery log). Retries end after 3 days; a month leaves the shop time to
 * look at what happened and send an event again by hand.
 */
export const SHOP_WEBHOOK_EVENT_RETENTION_MS = 30 * DAY_MS;

type MaintenanceDeps = Pick<Deps, "prisma" | "clock" | "logger">;

export interface PurgeOptions {
  /** Rows per DELETE: each statement is short, so it never holds locks on a big table for long. */
  batchSize?: number;
  /** Statements per run; what is left waits for the next run. */
  maxBatches?: number;
}

/**
 * Deletes the rows `select` finds, `batchSize` at a time, until none are
 * left (or `maxBatches` ran). `select` is a constant query of this module,
 * never input. Returns how many rows went.
 */
async function deleteInBatches(
  prisma: Deps["prisma"],
  table: "WebhookReceipt" | "OutboxEvent" | "WebhookEvent",
  select: (limit: number) => Prisma.Sql,
  { batchSize = 1000, maxBatches = 100 }: PurgeOptions,
): Promise<number> {
  let total = 0;
  for (let round = 0; round < maxBatches; round++) {
    const deleted = await prisma.$executeRaw`DELETE FROM ${Prisma.raw(`"${table}"`)} WHERE id IN (${select(batchSize)})`;
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

/** Deletes stored Idempotency-Key responses past their retention. Safe to run twice. */
export function purgeIdempotencyRecordsJob({ prisma, clock, logger }: MaintenanceDeps) {
  return defineJob({
    name: PURGE_IDEMPOTENCY,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - IDEMPOTENCY_RETENTION_MS);
      const { count } = await prisma.idempotencyRecord.deleteMany({ where: { createdAt: { lt: cutoff } } });
      if (count > 0) logger.info({ count }, "purged expired idempotency records");
    },
  });
}

/** Deletes webhook receipts past their retention. Safe to run twice. */
export function purgeWebhookReceiptsJob({ prisma, clock, logger }: MaintenanceDeps, options: PurgeOptions = {}) {
  return defineJob({
    name: PURGE_WEBHOOK_RECEIPTS,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - WEBHOOK_RECEIPT_RETENTION_MS);
      const count = await deleteInBatches(
        prisma,
        "WebhookReceipt",
        (limit) => Prisma.sql`SELECT id FROM "WebhookReceipt" WHERE "receivedAt" < ${cutoff} LIMIT ${limit}`,
        options,
      );
      if (count > 0) logger.info({ count }, "purged old webhook receipts");
    },
  });
}

/** Deletes outbox rows published long ago; unpublished rows are never touched. Safe to run twice. */
export function purgePublishedOutboxJob({ prisma, clock, logger }: MaintenanceDeps, options: PurgeOptions = {}) {
  return defineJob({
    name: PURGE_PUBLISHED_OUTBOX,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - PUBLISHED_OUTBOX_RETENTION_MS);
      const count = await deleteInBatches(
        prisma,
        "OutboxEvent",
        (limit) => Prisma.sql`SELECT id FROM "OutboxEvent" WHERE "publishedAt" < ${cutoff} LIMIT ${limit}`,
        options,
      );
      if (count > 0) logger.info({ count }, "purged published outbox events");
    },
  });
}

/**
 * Deletes shop webhook events past their retention once none of their
 * deliveries is pending; their deliveries and attempts go with them
 * (ON DELETE CASCADE). An event can carry up to 16 deliveries of a few
 * dozen attempts each, hence smaller batches. Safe to run twice.
 */
export function purgeShopWebhookEventsJob({ prisma, clock, logger }: MaintenanceDeps, options: PurgeOptions = {}) {
  return defineJob({
    name: PURGE_SHOP_WEBHOOK_EVENTS,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - SHOP_WEBHOOK_EVENT_RETENTION_MS);
      const count = await deleteInBatches(
        prisma,
        "WebhookEvent",
        (limit) => Prisma.sql`
          SELECT e.id FROM "WebhookEvent" e
          WHERE e."createdAt" < ${cutoff}
            AND NOT EXISTS (SELECT 1 FROM "WebhookDelivery" d WHERE d."eventId" = e.id AND d.status = 'pending')
          LIMIT ${limit}`,
        { batchSize: 100, ...options },
      );
      if (count > 0) logger.info({ count }, "purged old shop webhook events and their deliveries");
    },
  });
}

/** Every job the maintenance queue runs. */
export function maintenanceJobs(deps: Pick<Deps, "prisma" | "sql" | "config" | "clock" | "logger" | "twilio" | "redis" | "queuePrefix">) {
  return [
    purgeIdempotencyRecordsJob(deps),
    purgeWebhookReceiptsJob(deps),
    purgePublishedOutboxJob(deps),
    purgeShopWebhookEventsJob(deps),
    settleStuckSmsJob(deps),
    sweepRoutingJob(deps),
    sweepWebhooksJob(deps),
    remindWaitingEarningsJob(deps),
  ];
}

const SCHEDULES: [name: string, everyMs: number][] = [
  [PURGE_IDEMPOTENCY, 60 * 60 * 1000],
  [PURGE_WEBHOOK_RECEIPTS, 60 * 60 * 1000],
  [PURGE_PUBLISHED_OUTBOX, 60 * 60 * 1000],
  [PURGE_SHOP_WEBHOOK_EVENTS, 60 * 60 * 1000],
  [SETTLE_STUCK_SMS, 60 * 1000],
  [SWEEP_ROUTING, SWEEP_ROUTING_EVERY_MS],
  [SWEEP_WEBHOOKS, SWEEP_WEBHOOKS_EVERY_MS],
  [REMIND_WAITING_EARNINGS, REMIND_WAITING_EARNINGS_EVERY_MS],
];

/** Schedules the repeating jobs; upserting a scheduler makes this safe on every worker start. */
export async function scheduleMaintenance(queue: Queue): Promise<void> {
  for (const [name, every] of SCHEDULES) await queue.upsertJobScheduler(name, { every }, { name, data: {} });
}

export const maintenanceQueueName = QUEUES.maintenance;
