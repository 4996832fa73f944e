/**
 * The webhooks worker: fan events out to endpoints, and make each attempt.
 * Both are queued through the outbox (emit.ts, delivery.ts) with job ids
 * derived from rows, so replays are no-ops.
 */
import { z } from "zod";
import { defineJob, type JobDefinition } from "../../jobs/define.js";
import { attemptDelivery, fanOutEvent, WEBHOOK_ATTEMPT, type WebhookDeps } from "./delivery.js";
import { WEBHOOK_FAN_OUT } from "./emit.js";

export { webhookEvents } from "./emit.js";

export function webhookJobs(deps: WebhookDeps): JobDefinition[] {
  return [
    defineJob({
      name: WEBHOOK_FAN_OUT,
      payload: z.object({ eventId: z.uuid() }),
      async handle({ eventId }) {
        await fanOutEvent(deps, eventId);
      },
    }),
    defineJob({
      name: WEBHOOK_ATTEMPT,
      payload: z.object({ deliveryId: z.uuid(), attempt: z.number().int().min(1), manual: z.boolean().default(false) }),
      async handle(job, context) {
        await attemptDelivery(deps, job, context);
      },
    }),
  ];
}
