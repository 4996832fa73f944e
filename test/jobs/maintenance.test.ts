import { Queue, QueueEvents } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { PURGE_IDEMPOTENCY } from "../../src/modules/maintenance/jobs.js";
import { startWorkers, type RunningWorkers } from "../../src/workers.js";
import { useTestContext } from "../helpers/context.js";

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
  it("schedules the idempotency purge on start", async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key)).toContain(PURGE_IDEMPOTENCY);
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
