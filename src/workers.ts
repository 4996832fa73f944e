import { Queue, type Worker } from "bullmq";
import { createRedis, type Deps } from "./deps.js";
import { QUEUES } from "./jobs/define.js";
import { startRunner } from "./jobs/runner.js";
import { purgeIdempotencyRecordsJob, scheduleMaintenance } from "./modules/maintenance/jobs.js";

export interface RunningWorkers {
  close(): Promise<void>;
}

/** Starts every queue's runner; exported so the dev process and tests can run workers in-process. */
export async function startWorkers(deps: Deps): Promise<RunningWorkers> {
  const connection = createRedis(deps.config.REDIS_URL, "worker");
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix: deps.queuePrefix });
  await scheduleMaintenance(maintenanceQueue);
  const workers: Worker[] = [
    startRunner({
      queue: QUEUES.maintenance,
      definitions: [purgeIdempotencyRecordsJob(deps)],
      connection,
      prefix: deps.queuePrefix,
      logger: deps.logger,
      concurrency: 1,
    }),
  ];
  deps.logger.info({ queues: Object.values(QUEUES) }, "workers started");
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await maintenanceQueue.close();
      await connection.quit();
    },
  };
}
