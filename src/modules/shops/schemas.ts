import { z } from "zod";
import { text } from "../../lib/text.js";

export const shopSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    status: z.enum(["active", "suspended"]),
    currency: z.string().length(3),
    createdAt: z.date(),
  })
  .meta({ id: "Shop" });

export const createShopBody = z.object({
  name: text({ min: 1, max: 120 }),
  slug: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be a lowercase slug like brew-barn")
    .max(63)
    .optional()
    .describe("URL-safe handle; derived from the name when omitted"),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code like USD")
    .transform((code) => code.toUpperCase())
    .default("USD"),
});

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe("Visible start of the key, to tell keys apart"),
    createdAt: z.date(),
    lastUsedAt: z.date().nullable(),
    revokedAt: z.date().nullable(),
  })
  .meta({ id: "ApiKey" });

export const issuedApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe("The secret key. Shown only in this response: store it now.") })
  .meta({ id: "IssuedApiKey" });

export const createShopResponse = z.object({ shop: shopSchema, apiKey: issuedApiKeySchema });

export const createApiKeyBody = z.object({ name: text({ min: 1, max: 80 }) });
