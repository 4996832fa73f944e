import { z } from "zod";
import { pageQuery } from "../../lib/pagination.js";
import { text } from "../../lib/text.js";
import { MAX_URL_LENGTH } from "./address-policy.js";
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from "./event-types.js";

/** Endpoints a shop may have, as Stripe allows. */
export const MAX_ENDPOINTS_PER_SHOP = 16;
/** Longest grace period of a rotated secret. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;

const eventName = z.enum([...WEBHOOK_EVENT_TYPES, ALL_EVENTS], {
  error: `must be one of ${[...WEBHOOK_EVENT_TYPES, ALL_EVENTS].join(", ")}`,
});

const events = z
  .array(eventName)
  .min(1, "subscribe to at least one event")
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .transform((names) => [...new Set(names)])
  .describe(`Event types to receive, or "${ALL_EVENTS}" for all (including types added later)`);

const url = text({ min: 1, max: MAX_URL_LENGTH }).describe(
  "Where events are POSTed. In production: https, on a public address (checked now and at every delivery)",
);

export const createEndpointBody = z.object({
  url,
  events,
  description: text({ max: 500 }).optional(),
});

export const updateEndpointBody = z
  .object({
    url,
    events,
    description: text({ max: 500 }),
    enabled: z.boolean().describe("false stops deliveries (pending ones are given up); true turns the endpoint back on"),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

/** The body is optional: a POST without one (Fastify reads it as null) takes the default grace period. */
export const rotateSecretBody = z.preprocess(
  (body) => body ?? {},
  z.object({
    expiresInSeconds: z
      .number()
      .int("must be whole seconds")
      .min(0)
      .max(MAX_ROTATION_GRACE_SECONDS)
      .default(DEFAULT_ROTATION_GRACE_SECONDS)
      .describe("How long the current secret keeps signing beside the new one (0: it stops now). Default one day"),
  }),
);

export const endpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledAt: z.date().nullable(),
    disabledReason: z.string().nullable().describe("Why deliveries stopped: by the shop, or after 3 days of failures"),
    failingSince: z.date().nullable().describe("First failed attempt since the last success; after 3 days of failures the endpoint is disabled"),
    lastSuccessAt: z.date().nullable(),
    previousSecretExpiresAt: z.date().nullable().describe("While set and in the future, the secret before the last rotation signs too"),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "WebhookEndpoint" });

export const issuedEndpointSchema = endpointSchema
  .extend({
    secret: z.string().describe("The signing secret (whsec_...). Shown once: store it now; it cannot be read again, only rotated"),
  })
  .meta({ id: "WebhookEndpointWithSecret" });

export const deliveryStatuses = ["pending", "succeeded", "failed"] as const;

export const deliverySchema = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    event: z.object({ id: z.string().describe("evt_...: the same on every attempt, for deduplication"), type: z.string(), createdAt: z.date() }),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    lastAttemptAt: z.date().nullable(),
    lastResponseCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.date().nullable(),
    deliveredAt: z.date().nullable(),
    createdAt: z.date(),
  })
  .meta({ id: "WebhookDelivery" });

export const deliveryDetailSchema = deliverySchema
  .extend({
    payload: z.object({ id: z.string(), type: z.string(), createdAt: z.string(), data: z.record(z.string(), z.unknown()) }).describe("The body as POSTed"),
    history: z.array(
      z.object({
        number: z.number().int(),
        trigger: z.enum(["automatic", "manual"]),
        startedAt: z.date(),
        durationMs: z.number().int(),
        responseCode: z.number().int().nullable(),
        responseExcerpt: z.string().nullable().describe("The first 2 KB of the response body"),
        error: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "WebhookDeliveryDetail" });

export const listDeliveriesQuery = pageQuery.extend({ status: z.enum(deliveryStatuses).optional() });

export const deliveryParams = z.object({ id: z.uuid({ error: "must be a UUID" }), deliveryId: z.uuid({ error: "must be a UUID" }) });

export type CreateEndpoint = z.output<typeof createEndpointBody>;
export type UpdateEndpoint = z.output<typeof updateEndpointBody>;
