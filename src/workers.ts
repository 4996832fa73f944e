import { Queue, type Worker } from "bullmq";
import { createRedis, type Deps } from "./deps.js";
import { QUEUES } from "./jobs/define.js";
import { startRunner } from "./jobs/runner.js";
import { maintenanceJobs, scheduleMaintenance } from "./modules/maintenance/jobs.js";
import { createOutboxRelay } from "./modules/outbox/outbox.js";
import { telephonyJobs } from "./modules/telephony/jobs.js";

export interface RunningWorkers {
  close(): Promise<void>;
}

/** How often an idle relay looks for new outbox rows. */
const RELAY_INTERVAL_MS = 100;

/** Starts the outbox relay and every queue's runner; exported so dev and tests can run them in-process. */
export async function startWorkers(deps: Deps): Promise<RunningWorkers> {
  const connection = createRedis(deps.config.REDIS_URL, "worker");
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix: deps.queuePrefix });
  await scheduleMaintenance(maintenanceQueue);
  const common = { connection, prefix: deps.queuePrefix, logger: deps.logger };
  const workers: Worker[] = [
    startRunner({ ...common, queue: QUEUES.maintenance, definitions: maintenanceJobs(deps), concurrency: 1 }),
    startRunner({ ...common, queue: QUEUES.telephony, definitions: telephonyJobs(deps), concurrency: 8 }),
  ];

  const relayConnection = createRedis(deps.config.REDIS_URL, "producer");
  relayConnection.on("error", () => {}); // reported by the relay loop's own failures
  const relay = createOutboxRelay({ ...common, connection: relayConnection, prisma: deps.prisma, clock: deps.clock });
  let running = true;
  const relayLoop = (async () => {
    while (running) {
      try {
        const moved = await relay.relayOnce();
        if (moved > 0) continue; // more may be waiting
      } catch (error) {
        deps.logger.warn({ err: error }, "outbox relay failed; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, RELAY_INTERVAL_MS));
    }
  })();

  deps.logger.info({ queues: Object.values(QUEUES) }, "workers started");
  return {
    async close() {
      running = false;
      await relayLoop;
      await Promise.all(workers.map((worker) => worker.close()));
      await relay.close();
      await relayConnection.quit();
      await maintenanceQueue.close();
      await connection.quit();
    },
  };
}
