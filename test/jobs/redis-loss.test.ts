/**
 * Redis carries work, never truth. When it comes back empty (a restart
 * without persistence), the jobs it held are gone although their outbox rows
 * say "published"; the workers notice on reconnect and hand those rows back
 * to the relay, so the work runs again (handlers are idempotent).
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { PURGE_IDEMPOTENCY } from "../../src/modules/maintenance/jobs.js";
import { redisEpochKey } from "../../src/modules/outbox/outbox.js";
import { startWorkers, type RunningWorkers } from "../../src/workers.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();
let workers: RunningWorkers | undefined;
let queue: Queue;

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const finished = (jobId: string) => async () => ((await (await queue.getJob(jobId))?.isCompleted()) ? true : null);

beforeAll(async () => {
  const { deps } = ctx();
  workers = await startWorkers(deps);
  queue = new Queue(QUEUES.maintenance, { connection: createRedis(deps.config.REDIS_URL, "worker"), prefix: deps.queuePrefix });
});

afterAll(async () => {
  await workers?.close();
  await queue?.close();
});

describe("a Redis that comes back empty", () => {
  it("gets the jobs it lost again from the outbox, and the ones it kept are left alone", async () => {
    const { deps } = ctx();
    const jobId = "purge-idempotency-once";
    await deps.prisma.outboxEvent.create({ data: { topic: `${QUEUES.maintenance}/${PURGE_IDEMPOTENCY}`, payload: {}, jobId } });
    await until("the job to run", finished(jobId));
    const published = (await deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId } })).publishedAt;
    expect(published).toBeInstanceOf(Date);

    // A reconnect to a Redis that kept its data changes nothing.
    await dropWorkerConnection();
    await until("the schedules after a reconnect", async () => (await queue.getJobSchedulers()).length > 0);
    expect((await deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId } })).publishedAt).toEqual(published);

    // Everything under our prefix gone, as after a restart without persistence.
    const keys = await deps.redis.keys(`${deps.queuePrefix}:*`);
    await deps.redis.del(...keys);
    expect(await queue.getJob(jobId)).toBeUndefined();
    await dropWorkerConnection();

    await until("the lost job to run again", finished(jobId));
    const republished = (await deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId } })).publishedAt;
    expect(republished?.getTime()).toBeGreaterThan(published?.getTime() ?? Infinity);
    expect(await deps.redis.exists(redisEpochKey(deps.queuePrefix))).toBe(1);
  });
});

/** Drops the workers' own Redis connection (by its client id); ioredis reconnects at once. */
async function dropWorkerConnection() {
  const id = await workers?.connection.client("ID");
  expect(id).toBeDefined();
  await ctx().deps.redis.client("KILL", "ID", String(id));
}
