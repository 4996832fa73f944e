/**
 * A job is a name, a zod payload schema and a handler. The payload is
 * validated before the handler runs; a payload that can never be valid is an
 * UnrecoverableError (no retries), anything else the handler throws is
 * retried with the definition's backoff.
 */
import type { JobsOptions } from "bullmq";
import type { z } from "zod";

export interface JobContext {
  jobId: string;
  /** 1 + the attempts that failed; a run after a worker crash (a stall) has the same number. */
  attempt: number;
  /** Every start, stalls included: above `attempt` when an earlier run died mid-way (absent in hand-made contexts). */
  started?: number;
  /** Puts the job back to run at `until` (not a failure, no attempt used); never returns. */
  delayUntil(until: Date): Promise<never>;
  /** The provider said "too many requests": the whole queue pauses for `forMs` and the job runs again after (no attempt used); never returns. */
  rateLimited(forMs: number): Promise<never>;
}

export interface JobDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string;
  payload: Schema;
  options?: Pick<JobsOptions, "attempts" | "backoff" | "removeOnComplete" | "removeOnFail">;
  handle(payload: z.output<Schema>, context: JobContext): Promise<void>;
  /** Runs once when the last attempt has failed, to leave the rows it owns in an honest state. */
  onGiveUp?(payload: z.output<Schema>, error: Error): Promise<void>;
}

export function defineJob<Schema extends z.ZodType>(definition: JobDefinition<Schema>): JobDefinition<Schema> {
  return definition;
}

/**
 * Every queue the project uses: one per concern, so a flood of one cannot
 * starve another. `transfers` holds the calls that move money at Stripe,
 * behind a rate limiter; `payments` the rest (Stripe events, payout runs).
 */
export const QUEUES = { maintenance: "maintenance", telephony: "telephony", routing: "routing", sessions: "sessions", webhooks: "webhooks", payments: "payments", transfers: "transfers" } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
