import { Queue, type Worker } from "bullmq";
import { createRedis, type Deps } from "./deps.js";
import { QUEUES } from "./jobs/define.js";
import { startRunner } from "./jobs/runner.js";
import { maintenanceJobs, scheduleMaintenance } from "./modules/maintenance/jobs.js";
import { createOutboxRelay } from "./modules/outbox/outbox.js";
import { listenForOutbox } from "./modules/outbox/outbox-wakeup.js";
import { telephonyJobs } from "./modules/telephony/jobs.js";

export interface RunningWorkers {
  close(): Promise<void>;
}

/**
 * How often an idle relay looks for new outbox rows. While it sleeps, committed
 * inserts wake it at once (LISTEN/NOTIFY); the poll only catches what a
 * notification missed, so it is slow while notifications are due, quick while the
 * listener is down, and quicker still (backing off) while an insert is committing.
 */
const RELAY_POLL_MS = { listening: 1_000, deaf: 100, busy: 10 } as const;

/** Starts the outbox relay and every queue's runner; exported so dev and tests can run them in-process. */
export async function startWorkers(deps: Deps): Promise<RunningWorkers> {
  const connection = createRedis(deps.config.REDIS_URL, "worker", `${deps.queuePrefix}-worker`);
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix: deps.queuePrefix });
  // Redis holds the schedules, and a Redis that restarted empty (no persistence) has lost
  // them: upsert them again on every reconnect, or the sweeps would never run again.
  const reschedule = () => {
    scheduleMaintenance(maintenanceQueue).then(
      () => deps.logger.info("maintenance schedules restored after a Redis reconnect"),
      (error: unknown) => deps.logger.warn({ err: error }, "could not restore the maintenance schedules; retrying at the next reconnect"),
    );
  };
  connection.on("ready", reschedule);
  await scheduleMaintenance(maintenanceQueue);
  const common = { connection, prefix: deps.queuePrefix, logger: deps.logger };
  const workers: Worker[] = [
    startRunner({ ...common, queue: QUEUES.maintenance, definitions: maintenanceJobs(deps), concurrency: 1 }),
    startRunner({ ...common, queue: QUEUES.telephony, definitions: telephonyJobs(deps), concurrency: 8 }),
  ];

  const relayConnection = createRedis(deps.config.REDIS_URL, "producer");
  relayConnection.on("error", () => {}); // reported by the relay loop's own failures
  const relay = createOutboxRelay({ ...common, connection: relayConnection, prisma: deps.prisma, clock: deps.clock });
  const wakeup = listenForOutbox(deps.sql.options, deps.logger);
  let running = true;
  /** Naps in a row while inserts were committing: each one longer, up to the deaf poll. */
  let busyNaps = 0;
  const relayLoop = (async () => {
    while (running) {
      try {
        const moved = await relay.relayOnce();
        if (moved > 0) {
          busyNaps = 0;
          continue; // more may be waiting
        }
      } catch (error) {
        deps.logger.warn({ err: error }, "outbox relay failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, RELAY_POLL_MS.deaf));
        continue;
      }
      // Inserts notify only while a relay sleeps (announced by a lock they check).
      const announced = await wakeup.announceSleep();
      if (announced === "busy") {
        // A transaction that wrote an outbox row is still open (usually for milliseconds;
        // a long one, or a stray BEGIN in psql, must not make this a fixed-rate poll).
        const nap = wakeup.listening ? Math.min(RELAY_POLL_MS.busy * 2 ** busyNaps, RELAY_POLL_MS.deaf) : RELAY_POLL_MS.deaf;
        busyNaps++;
        await wakeup.wait(nap);
        continue;
      }
      busyNaps = 0;
      if (announced === "another-relay-sleeps") {
        await wakeup.wait(RELAY_POLL_MS.listening);
        continue;
      }
      try {
        // A row committed just before the announcement was not notified: look once more.
        if ((await relay.relayOnce()) === 0) await wakeup.wait(RELAY_POLL_MS.listening);
      } catch (error) {
        deps.logger.warn({ err: error }, "outbox relay failed; retrying");
      } finally {
        await wakeup.endSleep();
      }
    }
  })();

  deps.logger.info({ queues: Object.values(QUEUES) }, "workers started");
  return {
    async close() {
      running = false;
      connection.off("ready", reschedule);
      await wakeup.close(); // also ends the relay's current wait
      await relayLoop;
      await Promise.all(workers.map((worker) => worker.close()));
      await relay.close();
      await relayConnection.quit();
      await maintenanceQueue.close();
      await connection.quit();
    },
  };
}
