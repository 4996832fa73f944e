import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

/** A module's routes: a Fastify plugin with zod typing and explicit options. */
export type RoutesPlugin<Options extends object> = FastifyPluginAsyncZod<Options>;

export const idParams = z.object({ id: z.uuid({ error: "must be a UUID" }) });

/** OpenAPI security requirement for routes behind a shop API key or the admin key. */
export const shopAuth = [{ shopApiKey: [] }];
export const adminAuth = [{ adminApiKey: [] }];

export const idempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .describe("Retry-safe key: the same key and body returns the first response; the same key with another body is 422"),
});
