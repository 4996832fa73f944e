import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { JobDefinition, QueueName } from "./define.js";

/**
 * How many times a job may be taken over from a worker that died (or froze
 * past its lock) while running it, before BullMQ fails it for good. BullMQ's
 * default, 1, fails a job whose worker died twice under it, and such a job is
 * lost work: its outbox row says published, so nothing runs it again (an
 * expert's YES, an acceptance's notices to the others). Handlers are
 * idempotent, so running a job again is safe; the limit remains only to stop
 * a job that itself crashes its workers from doing so forever.
 */
export const MAX_STALLED_RUNS = 5;

export interface RunnerOptions {
  queue: QueueName;
  definitions: JobDefinition[];
  /** A connection with maxRetriesPerRequest: null (BullMQ requires it for workers). */
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  /** BullMQ's lockDuration: how long a dead worker's job stays locked before it is run elsewhere. */
  lockDuration?: number;
  /** BullMQ's stalledInterval: how often expired locks are looked for. */
  stalledInterval?: number;
  /** At most `max` jobs start per `duration` ms across every worker of the queue (BullMQ's limiter, kept in Redis). */
  limiter?: { max: number; duration: number };
}

/**
 * Starts a BullMQ worker for one queue. Jobs whose name has no definition
 * fail as unrecoverable (and are logged), rather than being silently dropped.
 */
export function startRunner({
  queue,
  definitions,
  connection,
  prefix,
  logger,
  concurrency = 4,
  lockDuration = 30_000,
  stalledInterval = 30_000,
  limiter,
}: RunnerOptions): Worker {
  const byName = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name)) throw new Error(`job ${definition.name} is defined twice`);
    byName.set(definition.name, definition);
  }

  const worker = new Worker(
    queue,
    async (job: Job, token?: string) => {
      const definition = byName.get(job.name);
      if (!definition) throw new UnrecoverableError(`no handler for job ${job.name} on queue ${queue}`);
      const parsed = definition.payload.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.error.issues[0]?.message ?? "?"}`);
      }
      await definition.handle(parsed.data, {
        jobId: job.id ?? "",
        attempt: job.attemptsMade + 1,
        started: job.attemptsStarted,
        async delayUntil(until) {
          await job.moveToDelayed(until.getTime(), token);
          throw new DelayedError();
        },
        async rateLimited(forMs) {
          // The whole queue waits (every worker), and the job goes back without using an attempt.
          await worker.rateLimit(forMs);
          throw Worker.RateLimitError();
        },
      });
    },
    { connection, prefix, concurrency, lockDuration, stalledInterval, maxStalledCount: MAX_STALLED_RUNS, autorun: true, ...(limiter ? { limiter } : {}) },
  );
  worker.on("failed", (job, error) => {
    logger.warn({ queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, "job failed");
    const definition = job ? byName.get(job.name) : undefined;
    const outOfAttempts = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    if (job && definition?.onGiveUp && outOfAttempts && !(error instanceof UnrecoverableError)) {
      const parsed = definition.payload.safeParse(job.data);
      if (parsed.success) {
        definition.onGiveUp(parsed.data, error).catch((giveUpError: unknown) => {
          logger.error({ queue, job: job.name, err: giveUpError }, "could not record giving up on a job");
        });
      }
    }
  });
  worker.on("error", (error) => logger.error({ queue, err: error }, "worker error"));
  return worker;
}
