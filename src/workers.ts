import { Queue, type Worker } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis, type Deps } from "./deps.js";
import { QUEUES, type JobDefinition, type QueueName } from "./jobs/define.js";
import { startRunner } from "./jobs/runner.js";
import { maintenanceJobs, scheduleMaintenance } from "./modules/maintenance/jobs.js";
import { createOutboxRelay, jobOptionsByTopic, republishIfRedisLostData } from "./modules/outbox/outbox.js";
import { payoutEventHandlers, payoutRunJobs, schedulePayoutRuns, transferJobs } from "./modules/payments/payment-jobs.js";
import { stripeEventJobs } from "./modules/payments/stripe-events.js";
import { listenForOutbox } from "./modules/outbox/outbox-wakeup.js";
import { routingJobs } from "./modules/routing/jobs.js";
import { sessionJobs } from "./modules/sessions/jobs.js";
import { telephonyJobs } from "./modules/telephony/jobs.js";
import { webhookJobs } from "./modules/webhooks/jobs.js";

export interface RunningWorkers {
  /** The workers' own Redis connection; tests drop it to act out a Redis restart. */
  readonly connection: Redis;
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
  // ioredis reconnects by itself; say so once per failure instead of an unhandled error event.
  connection.on("error", (error) => deps.logger.warn({ err: error }, "workers' Redis connection failed; reconnecting"));
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix: deps.queuePrefix });
  maintenanceQueue.on("error", () => {}); // the connection's own listener reports it
  const paymentsQueue = new Queue(QUEUES.payments, { connection, prefix: deps.queuePrefix });
  paymentsQueue.on("error", () => {});
  // Redis holds the schedules and the jobs, and a Redis that came back empty (no
  // persistence) has lost both: on every reconnect, upsert the schedules again and hand
  // the outbox rows of lost jobs back to the relay, or that work would never run.
  const recoverRedisLoss = async () => {
    await scheduleMaintenance(maintenanceQueue);
    await schedulePayoutRuns(paymentsQueue);
    const republished = await republishIfRedisLostData({ ...deps, connection, prefix: deps.queuePrefix });
    // No epoch key: the first start on this Redis, or it lost its data. Only the latter finds work to redo.
    if (republished) deps.logger.warn({ republished }, "Redis had lost its data: outbox jobs handed back to the relay");
  };
  const onReconnect = () => {
    recoverRedisLoss().then(
      () => deps.logger.info("maintenance schedules restored after a Redis reconnect"),
      (error: unknown) => deps.logger.warn({ err: error }, "could not recover after a Redis reconnect; retrying at the next one"),
    );
  };
  connection.on("ready", onReconnect);
  await recoverRedisLoss();
  const common = { connection, prefix: deps.queuePrefix, logger: deps.logger };
  const locks = { lockDuration: deps.config.JOB_LOCK_MS, stalledInterval: deps.config.JOB_STALLED_INTERVAL_MS ?? deps.config.JOB_LOCK_MS };
  const definitions = {
    [QUEUES.maintenance]: maintenanceJobs(deps),
    [QUEUES.telephony]: telephonyJobs(deps),
    [QUEUES.routing]: routingJobs(deps),
    [QUEUES.sessions]: sessionJobs(deps),
    [QUEUES.webhooks]: webhookJobs(deps),
    [QUEUES.payments]: [...stripeEventJobs(deps, payoutEventHandlers(deps)), ...payoutRunJobs(deps)],
    [QUEUES.transfers]: transferJobs(deps),
  } satisfies Record<QueueName, readonly JobDefinition[]>;
  const workers: Worker[] = [
    startRunner({ ...common, ...locks, queue: QUEUES.maintenance, definitions: definitions.maintenance, concurrency: 1 }),
    startRunner({ ...common, ...locks, queue: QUEUES.telephony, definitions: definitions.telephony, concurrency: 8 }),
    startRunner({ ...common, ...locks, queue: QUEUES.routing, definitions: definitions.routing, concurrency: 8 }),
    startRunner({ ...common, ...locks, queue: QUEUES.sessions, definitions: definitions.sessions, concurrency: 8 }),
    // Deliveries wait on shops' servers (up to WEBHOOK_TIMEOUT_MS each), not on us: more at once.
    startRunner({ ...common, ...locks, queue: QUEUES.webhooks, definitions: definitions.webhooks, concurrency: 16 }),
    startRunner({ ...common, ...locks, queue: QUEUES.payments, definitions: definitions.payments, concurrency: 4 }),
    // Money moves here: the limiter (in Redis, shared by every worker) keeps transfers under Stripe's rate.
    startRunner({
      ...common,
      ...locks,
      queue: QUEUES.transfers,
      definitions: definitions.transfers,
      concurrency: 8,
      limiter: { max: deps.config.STRIPE_TRANSFERS_PER_SECOND, duration: 1_000 },
    }),
  ];


  const relayConnection = createRedis(deps.config.REDIS_URL, "producer");
  relayConnection.on("error", () => {}); // reported by the relay loop's own failures
  const relay = createOutboxRelay({
    ...common,
    connection: relayConnection,
    prisma: deps.prisma,
    clock: deps.clock,
    // Each job's own retry policy, which the relay (not the runner) gives BullMQ when it adds the job.
    jobOptions: jobOptionsByTopic(definitions),
  });
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
    connection,
    async close() {
      running = false;
      connection.off("ready", onReconnect);
      await wakeup.close(); // also ends the relay's current wait
      await relayLoop;
      await Promise.all(workers.map((worker) => worker.close()));
      await relay.close();
      await relayConnection.quit();
      await maintenanceQueue.close();
      await paymentsQueue.close();
      await connection.quit();
    },
  };
}
