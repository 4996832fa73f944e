/**
 * Work for the queue is written to the OutboxEvent table in the same
 * transaction as the state change that causes it, then relayed to BullMQ.
 * A crash or a Redis outage between the two loses nothing: the relay picks
 * the row up again, and the deterministic job id makes a second add a no-op.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { Clock } from "../../lib/clock.js";
import { QUEUES, type QueueName } from "../../jobs/define.js";

export interface OutboxJob {
  queue: QueueName;
  name: string;
  payload: Prisma.InputJsonObject;
  /** Deterministic (derived from row ids): BullMQ ignores a second add while the job is kept. */
  jobId: string;
  runAt?: Date;
}

export async function enqueue(tx: Prisma.TransactionClient, job: OutboxJob): Promise<void> {
  await tx.outboxEvent.createMany({
    data: [{ topic: `${job.queue}/${job.name}`, payload: job.payload, jobId: job.jobId, ...(job.runAt ? { runAt: job.runAt } : {}) }],
    // The same job twice (a replayed webhook) is one job.
    skipDuplicates: true,
  });
}

/** Completed jobs are kept this long, so a late duplicate add is still recognised. */
const KEEP_COMPLETED_SECONDS = 24 * 3600;

export interface OutboxRelay {
  /** Moves pending events to BullMQ; returns how many. Safe to call concurrently from many processes. */
  relayOnce(): Promise<number>;
  close(): Promise<void>;
}

export function createOutboxRelay(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix: string;
  clock: Clock;
  logger: Logger;
}): OutboxRelay {
  const queues = new Map<string, Queue>(
    Object.values(QUEUES).map((name) => [name, new Queue(name, { connection: deps.connection, prefix: deps.prefix })]),
  );
  return {
    async relayOnce() {
      return deps.prisma.$transaction(async (tx) => {
        // SKIP LOCKED: several relays (api fast path, each worker) share the table without waiting on each other.
        const events = await tx.$queryRaw<{ id: string; topic: string; payload: Prisma.JsonObject; jobId: string; runAt: Date }[]>`
          SELECT id, topic, payload, "jobId", "runAt" FROM "OutboxEvent"
          WHERE "publishedAt" IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`;
        if (events.length === 0) return 0;
        const now = deps.clock.now();
        for (const event of events) {
          const [queueName, name] = event.topic.split("/");
          const queue = queueName ? queues.get(queueName) : undefined;
          if (!queue || !name) {
            deps.logger.error({ topic: event.topic }, "outbox event for an unknown queue; left unpublished");
            continue;
          }
          await queue.add(name, event.payload, {
            jobId: event.jobId,
            delay: Math.max(0, event.runAt.getTime() - now.getTime()),
            // Handlers decide what is permanent (UnrecoverableError); everything else is retried.
            attempts: 8,
            backoff: { type: "exponential", delay: 1_000 },
            removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
            removeOnFail: { age: 7 * KEEP_COMPLETED_SECONDS },
          });
          await tx.outboxEvent.update({ where: { id: event.id }, data: { publishedAt: now } });
        }
        return events.length;
      });
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}
