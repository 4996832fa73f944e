import { type Queue } from "bullmq";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import { IDEMPOTENCY_RETENTION_MS } from "../../plugins/idempotency.js";

export const PURGE_IDEMPOTENCY = "purge-idempotency-records";

/** Deletes stored Idempotency-Key responses past their retention. Safe to run twice. */
export function purgeIdempotencyRecordsJob({ prisma, clock, logger }: Pick<Deps, "prisma" | "clock" | "logger">) {
  return defineJob({
    name: PURGE_IDEMPOTENCY,
    payload: z.object({}).loose(),
    async handle() {
      const cutoff = new Date(clock.now().getTime() - IDEMPOTENCY_RETENTION_MS);
      const { count } = await prisma.idempotencyRecord.deleteMany({ where: { createdAt: { lt: cutoff } } });
      if (count > 0) logger.info({ count }, "purged expired idempotency records");
    },
  });
}

/** Schedules the hourly purge; upserting the scheduler makes this safe on every worker start. */
export async function scheduleMaintenance(queue: Queue): Promise<void> {
  await queue.upsertJobScheduler(PURGE_IDEMPOTENCY, { every: 60 * 60 * 1000 }, { name: PURGE_IDEMPOTENCY, data: {} });
}

export const maintenanceQueueName = QUEUES.maintenance;
