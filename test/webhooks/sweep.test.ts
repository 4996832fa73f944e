/**
 * The sweep for webhook jobs that will never run: a fan-out or an attempt
 * whose BullMQ job failed for good (here: UnrecoverableError, as after
 * minutes of database trouble) is handed back to the outbox under its own
 * job id, and the real workers then deliver it. Jobs still on their way (an
 * unpublished outbox row, a job waiting in BullMQ) are left alone, and an
 * attempt that could not run for 3 days is given up.
 */
import { Queue, UnrecoverableError, Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { createLogger } from "../../src/lib/logger.js";
import { createOutboxRelay } from "../../src/modules/outbox/outbox.js";
import { attemptJobId, fanOutEvent } from "../../src/modules/webhooks/delivery.js";
import { createWebhookSweep, GIVEN_UP_UNRUN, WEBHOOK_OVERDUE_AFTER_MS } from "../../src/modules/webhooks/sweep.js";
import { startWorkers } from "../../src/workers.js";
import { makeShop, request } from "../helpers/factories.js";
import { startReceiver, useWebhookWorld } from "./world.js";

const world = useWebhookWorld({ workers: false });

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "warn", destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

/** Adds what the outbox holds to BullMQ, once, as the relay in the worker would. */
async function relayOnce() {
  const { deps } = world();
  const relay = createOutboxRelay({ prisma: deps.prisma, connection: deps.redis, prefix: deps.queuePrefix, clock: deps.clock, logger: deps.logger });
  try {
    await relay.relayOnce();
  } finally {
    await relay.close();
  }
}

/** Fails every webhook job now in BullMQ for good, as jobs that ran out of attempts end. */
async function failEveryQueuedJob(queue: Queue, expected: number) {
  const { deps } = world();
  const connection = createRedis(deps.config.REDIS_URL, "worker");
  const worker = new Worker(
    QUEUES.webhooks,
    () => {
      throw new UnrecoverableError("database unavailable");
    },
    { connection, prefix: deps.queuePrefix },
  );
  const failed = async () => (await queue.getJobCounts("failed")).failed ?? 0;
  try {
    for (let round = 0; round < 400 && (await failed()) < expected; round++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await failed()).toBe(expected);
  } finally {
    await worker.close();
    await connection.quit();
  }
}

describe("the webhook sweep", () => {
  it("re-queues a failed fan-out and a failed attempt through the outbox under the same job ids; the workers then deliver both", async () => {
    const { app, deps, clock } = world();
    const shop = await makeShop(app);
    const hooks = await startReceiver();
    const connection = createRedis(deps.config.REDIS_URL, "worker");
    const queue = new Queue(QUEUES.webhooks, { connection, prefix: deps.queuePrefix });
    try {
      const created = await request(app, shop, { method: "POST", url: "/v1/webhook-endpoints", payload: { url: `${hooks.url}/events`, events: ["*"] } });
      expect(created.statusCode, created.body).toBe(201);
      const endpoint = created.json<{ id: string }>();

      // A: its fan-out job fails. B: fanned out, then its first attempt's job fails.
      const eventA = (await world().emit(shop.id, "question.created", { name: "A" }))!;
      const eventB = (await world().emit(shop.id, "question.created", { name: "B" }))!;
      await fanOutEvent(deps, eventB);
      const deliveryB = await deps.prisma.webhookDelivery.findFirstOrThrow({ where: { eventId: eventB } });
      const attemptB = attemptJobId({ deliveryId: deliveryB.id, attempt: 1, manual: false });
      await relayOnce();
      // Fan-out A, fan-out B (which finds B's delivery made: nothing lost there), attempt 1 of B.
      await failEveryQueuedJob(queue, 3);
      expect(await queue.getJobState(attemptB)).toBe("failed");

      // On their way, and to be left alone: D's fan-out waits in BullMQ, C's outbox row is not relayed yet.
      const eventD = (await world().emit(shop.id, "question.created", { name: "D" }))!;
      await relayOnce();
      const eventC = (await world().emit(shop.id, "question.created", { name: "C" }))!;
      const outboxBefore = await deps.prisma.outboxEvent.findMany({ where: { jobId: { in: [`webhook-fan-out-${eventA}`, attemptB] } }, orderBy: { jobId: "asc" } });
      expect(outboxBefore.map((row) => row.publishedAt)).toEqual([expect.any(Date), expect.any(Date)]);

      clock.advance(2 * WEBHOOK_OVERDUE_AFTER_MS);
      const { logger, lines } = capturingLogger();
      const sweep = createWebhookSweep({ ...deps, logger });
      expect(await sweep()).toEqual({ attemptsRequeued: 1, fanOutsRequeued: 1, deliveriesGivenUp: 0 });
      expect(lines).toEqual([
        expect.objectContaining({ deliveryId: deliveryB.id, attempt: 1, jobState: "failed", msg: "webhook attempt job lost; re-queued" }),
        expect.objectContaining({ eventId: eventA, jobState: "failed", msg: "webhook fan-out job lost; re-queued" }),
      ]);
      // The same outbox rows, handed back to the relay; BullMQ's failed copies are gone, so adding them again is not ignored.
      const outboxAfter = await deps.prisma.outboxEvent.findMany({ where: { jobId: { in: [`webhook-fan-out-${eventA}`, attemptB] } }, orderBy: { jobId: "asc" } });
      expect(outboxAfter.map((row) => [row.id, row.publishedAt])).toEqual(outboxBefore.map((row) => [row.id, null]));
      expect(await queue.getJobState(attemptB)).toBe("unknown");
      expect(await queue.getJobState(`webhook-fan-out-${eventA}`)).toBe("unknown");
      expect(await queue.getJobState(`webhook-fan-out-${eventD}`)).toBe("waiting");
      expect(await deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId: `webhook-fan-out-${eventC}` } })).toMatchObject({ publishedAt: null });
      // Due now, as the delivery log says; a second sweep finds nothing more to do.
      expect((await deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryB.id } })).nextAttemptAt?.getTime()).toBeGreaterThan(deliveryB.nextAttemptAt!.getTime());
      expect(await sweep()).toEqual({ attemptsRequeued: 0, fanOutsRequeued: 0, deliveriesGivenUp: 0 });

      const workers = await startWorkers(deps);
      try {
        await world().settle();
      } finally {
        await workers.close();
      }
      const received = hooks.requests.map((sent) => (JSON.parse(sent.body) as { data: { name: string } }).data.name);
      expect(received.sort()).toEqual(["A", "B", "C", "D"]);
      const deliveries = await deps.prisma.webhookDelivery.findMany({ where: { endpointId: endpoint.id }, select: { status: true, attempts: true } });
      expect(deliveries).toEqual(Array.from({ length: 4 }, () => ({ status: "succeeded", attempts: 1 })));
      expect(await deps.prisma.webhookEvent.count({ where: { shopId: shop.id, fannedOutAt: null } })).toBe(0);
    } finally {
      await queue.close();
      await connection.quit();
      await hooks.close();
    }
  });

  it("gives up a delivery whose attempt could not run for 3 days, and leaves one due later alone", async () => {
    const { app, deps, clock } = world();
    const shop = await makeShop(app);
    const endpoint = await deps.prisma.webhookEndpoint.create({ data: { shopId: shop.id, url: "http://127.0.0.1:9/hooks", events: ["*"], secretSalt: "salt" } });
    const now = clock.now().getTime();
    const delivery = async (name: string, nextAttemptAt: Date) => {
      const event = await deps.prisma.webhookEvent.create({
        data: { shopId: shop.id, type: "question.created", dedupeKey: `sweep:${name}`, data: {}, createdAt: new Date(now - 4 * 24 * 3600_000), fannedOutAt: new Date(now) },
      });
      return deps.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: event.id, attempts: 3, nextAttemptAt } });
    };
    const stale = await delivery("stale", new Date(now - 3 * 24 * 3600_000 - 60_000));
    const later = await delivery("later", new Date(now + 3600_000));

    expect(await createWebhookSweep(deps)()).toEqual({ attemptsRequeued: 0, fanOutsRequeued: 0, deliveriesGivenUp: 1 });
    expect(await deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: stale.id } })).toMatchObject({ status: "failed", nextAttemptAt: null, lastError: GIVEN_UP_UNRUN });
    expect(await deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: later.id } })).toMatchObject({ status: "pending", attempts: 3 });
  });
});
