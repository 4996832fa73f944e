import { Queue, QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import {
  PURGE_IDEMPOTENCY,
  PURGE_PUBLISHED_OUTBOX,
  PURGE_SHOP_WEBHOOK_EVENTS,
  PURGE_WEBHOOK_RECEIPTS,
  SHOP_WEBHOOK_EVENT_RETENTION_MS,
  WEBHOOK_RECEIPT_RETENTION_MS,
} from "../../src/modules/maintenance/jobs.js";
import { REMIND_WAITING_EARNINGS } from "../../src/modules/payments/onboarding.js";
import { SWEEP_ROUTING, SWEEP_ROUTING_EVERY_MS } from "../../src/modules/routing/sweep.js";
import { SETTLE_STUCK_SMS } from "../../src/modules/telephony/stuck-sends.js";
import { SWEEP_WEBHOOKS } from "../../src/modules/webhooks/sweep.js";
import { startWorkers, type RunningWorkers } from "../../src/workers.js";
import { useTestContext } from "../helpers/context.js";
import { makeShop } from "../helpers/factories.js";

const ctx = useTestContext();
let workers: RunningWorkers | undefined;
let queue: Queue;
let events: QueueEvents;

beforeAll(async () => {
  const { deps } = ctx();
  workers = await startWorkers(deps);
  const connection = createRedis(deps.config.REDIS_URL, "worker");
  queue = new Queue(QUEUES.maintenance, { connection, prefix: deps.queuePrefix });
  events = new QueueEvents(QUEUES.maintenance, { connection: connection.duplicate(), prefix: deps.queuePrefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await workers?.close();
  await events?.close();  
  await queue?.close();
});

describe("maintenance worker", () => {
  it("schedules the purges, the stuck-SMS sweep, the routing sweep, the webhook sweep and the payout reminder on start", async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(Object.fromEntries(schedulers.map((scheduler) => [scheduler.key, scheduler.every]))).toEqual({
      [PURGE_IDEMPOTENCY]: 3600_000,
      [PURGE_WEBHOOK_RECEIPTS]: 3600_000,
      [PURGE_PUBLISHED_OUTBOX]: 3600_000,
      [PURGE_SHOP_WEBHOOK_EVENTS]: 3600_000,
      [SETTLE_STUCK_SMS]: 60_000,
      [SWEEP_ROUTING]: SWEEP_ROUTING_EVERY_MS,
      [SWEEP_WEBHOOKS]: 60_000,
      [REMIND_WAITING_EARNINGS]: 24 * 3600_000,
    });
  });

  it("restores its schedules when its Redis connection comes back (a Redis restarted empty loses them)", async () => {
    const { deps } = ctx();
    for (const scheduler of await queue.getJobSchedulers()) await queue.removeJobScheduler(scheduler.key);
    expect(await queue.getJobSchedulers()).toEqual([]);
    // Drop only this file's worker connection, by its client id.
    const id = await workers?.connection.client("ID");
    expect(id).toBeDefined();
    await deps.redis.client("KILL", "ID", String(id));
    const expected = [PURGE_IDEMPOTENCY, PURGE_PUBLISHED_OUTBOX, PURGE_SHOP_WEBHOOK_EVENTS, PURGE_WEBHOOK_RECEIPTS, SETTLE_STUCK_SMS, SWEEP_ROUTING, SWEEP_WEBHOOKS, REMIND_WAITING_EARNINGS];
    let restored: string[] = [];
    for (let i = 0; i < 100 && restored.length < expected.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      restored = (await queue.getJobSchedulers()).map((scheduler) => scheduler.key ?? "");
    }
    expect(restored.sort()).toEqual(expected.sort());
  });

  it("runs the webhook receipt purge it schedules", async () => {
    const { deps } = ctx();
    await deps.prisma.webhookReceipt.createMany({
      data: [
        { provider: "twilio", dedupeKey: "sms:SMold", receivedAt: new Date(Date.now() - WEBHOOK_RECEIPT_RETENTION_MS - 60_000) },
        { provider: "twilio", dedupeKey: "sms:SMfresh" },
      ],
    });
    const job = await queue.add(PURGE_WEBHOOK_RECEIPTS, {}, { jobId: "purge-receipts-now" });
    await job.waitUntilFinished(events, 10_000);
    const keys = (await deps.prisma.webhookReceipt.findMany()).map((row) => row.dedupeKey);
    expect(keys).toEqual(["sms:SMfresh"]);
  });

  it("purges shop webhook events past retention with their deliveries and attempts, unless a delivery is still pending", async () => {
    const { deps, app } = ctx();
    const { prisma } = deps;
    const shop = await makeShop(app);
    const endpoint = await prisma.webhookEndpoint.create({ data: { shopId: shop.id, url: "http://127.0.0.1:9/hooks", events: ["*"], secretSalt: "salt" } });
    const old = new Date(Date.now() - SHOP_WEBHOOK_EVENT_RETENTION_MS - 60_000);
    const recent = new Date(Date.now() - SHOP_WEBHOOK_EVENT_RETENTION_MS + 3600_000);
    const event = async (name: string, createdAt: Date, status?: "pending" | "succeeded" | "failed") => {
      const created = await prisma.webhookEvent.create({ data: { shopId: shop.id, type: "question.created", dedupeKey: `purge:${name}`, data: {}, createdAt } });
      if (status) {
        const delivery = await prisma.webhookDelivery.create({
          // A pending delivery's next try is ahead, so the webhook sweep, which runs too, leaves it be.
          data: { endpointId: endpoint.id, eventId: created.id, status, attempts: 1, createdAt, nextAttemptAt: status === "pending" ? new Date(Date.now() + 3600_000) : null },
        });
        await prisma.webhookAttempt.create({ data: { deliveryId: delivery.id, number: 1, trigger: "automatic", startedAt: createdAt, durationMs: 5, responseCode: 200 } });
      }
      return created.id;
    };
    const delivered = await event("old-delivered", old, "succeeded");
    const failed = await event("old-failed", old, "failed");
    const unwanted = await event("old-no-deliveries", old);
    const stillPending = await event("old-pending", old, "pending");
    const fresh = await event("recent-delivered", recent, "succeeded");

    const job = await queue.add(PURGE_SHOP_WEBHOOK_EVENTS, {}, { jobId: "purge-shop-webhook-events-now" });
    await job.waitUntilFinished(events, 10_000);

    const left = (await prisma.webhookEvent.findMany({ where: { shopId: shop.id }, select: { id: true } })).map((row) => row.id);
    expect(left.sort()).toEqual([stillPending, fresh].sort());
    for (const gone of [delivered, failed, unwanted]) expect(left).not.toContain(gone);
    // The cascade took the purged events' deliveries and attempts, and only theirs.
    const deliveries = await prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id }, select: { eventId: true, history: { select: { number: true } } } });
    expect(deliveries.map((row) => row.eventId).sort()).toEqual([stillPending, fresh].sort());
    expect(deliveries.every((row) => row.history.length === 1)).toBe(true);
    expect(await prisma.webhookAttempt.count({ where: { delivery: { endpointId: endpoint.id } } })).toBe(2);
  });

  it("purges idempotency records past retention and keeps recent ones", async () => {
    const { deps } = ctx();
    const record = (key: string, ageMs: number) => ({
      scope: "admin",
      key,
      method: "POST",
      path: "/x",
      requestHash: "0".repeat(64),
      statusCode: 201,
      body: "{}",
      createdAt: new Date(Date.now() - ageMs),
    });
    await deps.prisma.idempotencyRecord.createMany({
      data: [record("old", 25 * 3600_000), record("fresh", 60_000)],
    });
    const job = await queue.add(PURGE_IDEMPOTENCY, {}, { jobId: "purge-now" });
    await job.waitUntilFinished(events, 10_000);
    const keys = (await deps.prisma.idempotencyRecord.findMany({ where: { scope: "admin" } })).map((row) => row.key);
    expect(keys).toContain("fresh");
    expect(keys).not.toContain("old");
  });

  it("a job with no handler fails once, without retries", async () => {
    const job = await queue.add("no-such-job", {}, { attempts: 5 });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/no handler for job no-such-job/);
    const failed = await queue.getJob(job.id ?? "");
    expect(failed?.attemptsMade).toBe(1);
  });
});
