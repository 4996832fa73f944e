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
import { QUEUES, type JobDefinition, type QueueName } from "../../jobs/define.js";

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
  /** Moves pending events to BullMQ; returns how many were published. Safe to run in many processes at once. */
  relayOnce(): Promise<number>;
  close(): Promise<void>;
}

const BATCH = 100;

/** Handlers decide what is permanent (UnrecoverableError); everything else is retried, unless the job's definition says otherwise. */
export const DEFAULT_JOB_RETRIES = { attempts: 8, backoff: { type: "exponential", delay: 1_000 } } as const;

/** The retry policies the definitions declare, by outbox topic, for the relay. */
export function jobOptionsByTopic(definitions: Partial<Record<QueueName, readonly JobDefinition[]>>): Map<string, JobDefinition["options"]> {
  const byTopic = new Map<string, JobDefinition["options"]>();
  for (const [queue, list] of Object.entries(definitions)) {
    for (const definition of list ?? []) if (definition.options) byTopic.set(`${queue}/${definition.name}`, definition.options);
  }
  return byTopic;
}

/**
 * No transaction is held while Redis is written: rows are read, added to
 * BullMQ (idempotent thanks to the job ids, so two relays racing on the same
 * rows add each job once), then marked published. A crash in between only
 * means the rows are added again later, which BullMQ ignores.
 */
export function createOutboxRelay(deps: {
  prisma: PrismaClient;
  /** A fail-fast connection: with Redis down the relay should error and retry, not hang. */
  connection: Redis;
  prefix: string;
  clock: Clock;
  logger: Logger;
  /**
   * Each job's own retry policy (its definition's `options`), by topic
   * ("queue/name"). Topics without one get DEFAULT_JOB_RETRIES.
   */
  jobOptions?: ReadonlyMap<string, JobDefinition["options"]>;
}): OutboxRelay {
  const queues = new Map<string, Queue>(
    Object.values(QUEUES).map((name) => {
      const queue = new Queue(name, { connection: deps.connection, prefix: deps.prefix });
      queue.on("error", () => {}); // a failed add surfaces in relayOnce, which the relay loop reports
      return [name, queue];
    }),
  );
  const unroutable = new Set<string>();
  return {
    async relayOnce() {
      const events = await deps.prisma.outboxEvent.findMany({
        where: { publishedAt: null, ...(unroutable.size > 0 ? { id: { notIn: [...unroutable] } } : {}) },
        orderBy: { id: "asc" },
        take: BATCH,
      });
      if (events.length === 0) return 0;
      const now = deps.clock.now();
      const published: string[] = [];
      const byQueue = new Map<Queue, Parameters<Queue["addBulk"]>[0]>();
      for (const event of events) {
        const [queueName, name] = event.topic.split("/");
        const queue = queueName ? queues.get(queueName) : undefined;
        if (!queue || !name) {
          // A bug, not a transient failure: keep the row for a human, and stop picking it up.
          unroutable.add(event.id);
          deps.logger.error({ topic: event.topic, eventId: event.id }, "outbox event for an unknown queue; left unpublished");
          continue;
        }
        const jobs = byQueue.get(queue) ?? [];
        jobs.push({
          name,
          data: event.payload,
          opts: {
            jobId: event.jobId,
            delay: Math.max(0, event.runAt.getTime() - now.getTime()),
            ...DEFAULT_JOB_RETRIES,
            removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
            removeOnFail: { age: 7 * KEEP_COMPLETED_SECONDS },
            ...deps.jobOptions?.get(event.topic),
          },
        });
        byQueue.set(queue, jobs);
        published.push(event.id);
      }
      for (const [queue, jobs] of byQueue) await queue.addBulk(jobs);
      if (published.length > 0) {
        await deps.prisma.outboxEvent.updateMany({ where: { id: { in: published }, publishedAt: null }, data: { publishedAt: now } });
      }
      return published.length;
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
    },
  };
}

/**
 * The key whose absence tells that Redis lost its data (a restart without
 * persistence, a failover to an empty replica, a flush): set once by the
 * first worker that finds it missing.
 */
export function redisEpochKey(prefix: string): string {
  return `${prefix}:outbox:redis-epoch`;
}

/**
 * Redis carries work, never truth: when it comes back empty, the jobs it held
 * are gone although their outbox rows say "published". Those rows are handed
 * back to the relay: every row whose job BullMQ would still keep (completed
 * ones for a day) or that has yet to run. Re-adding is safe either way: a job
 * BullMQ still has is ignored (same job id), and handlers are idempotent, so
 * one that had already run does nothing new.
 *
 * Returns how many rows go back, or null when Redis kept its data (the epoch
 * key was there). Run at worker start and on every reconnect.
 */
export async function republishIfRedisLostData(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix: string;
  clock: Clock;
}): Promise<number | null> {
  const fresh = await deps.connection.set(redisEpochKey(deps.prefix), deps.clock.now().toISOString(), "NX");
  if (fresh !== "OK") return null;
  const now = deps.clock.now();
  const keptSince = new Date(now.getTime() - KEEP_COMPLETED_SECONDS * 1000);
  const { count } = await deps.prisma.outboxEvent.updateMany({
    where: { publishedAt: { not: null }, OR: [{ publishedAt: { gt: keptSince } }, { runAt: { gt: now } }] },
    data: { publishedAt: null },
  });
  return count;
}

