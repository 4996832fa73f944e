/**
 * Until src/workers.ts runs the payments queue, the onboarding and webhook
 * tests run its runner themselves (with exactly the jobs they exercise).
 * Once workers.ts registers it, this helper starts nothing.
 */
import { readFileSync } from "node:fs";
import type { Worker } from "bullmq";
import { afterAll, beforeAll } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { startRunner } from "../../src/jobs/runner.js";
import { stripeEventJobs } from "../../src/modules/payments/stripe-events.js";
import type { TelephonyContext } from "../helpers/telephony.js";

function workersRunPayments(): boolean {
  const source = readFileSync(new URL("../../src/workers.ts", import.meta.url), "utf8");
  return /queue:\s*QUEUES\.payments\b/.test(source);
}

export function usePaymentsRunner(ctx: () => TelephonyContext): void {
  let worker: Worker | undefined;
  let connection: ReturnType<typeof createRedis> | undefined;
  beforeAll(() => {
    if (workersRunPayments()) return;
    const { deps } = ctx();
    connection = createRedis(deps.config.REDIS_URL, "worker");
    worker = startRunner({ queue: QUEUES.payments, definitions: stripeEventJobs(deps), connection, prefix: deps.queuePrefix, logger: deps.logger });
  });
  afterAll(async () => {
    await worker?.close();
    await connection?.quit();
  });
}
