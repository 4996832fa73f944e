import { z } from "zod";
import { pageQuery } from "../../lib/pagination.js";
import { tagListSchema, tagSchema } from "../../lib/tags.js";
import { text } from "../../lib/text.js";

export const currencySchema = z
  .string()
  .regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code like USD")
  .transform((code) => code.toUpperCase());

export const pricingSchema = z
  .object({
    mode: z.enum(["per_session", "per_minute"]),
    amountMinor: z
      .number()
      .int("must be whole minor units (cents), not a decimal")
      .min(0)
      // x 240 minutes (the longest call cap) still fits a ledger row.
      .max(5_000_000)
      .describe("Price per session or per started minute, in minor units (cents)"),
    minimumMinor: z
      .number()
      .int("must be whole minor units (cents), not a decimal")
      .min(0)
      .max(5_000_000)
      .default(0)
      .describe("per_minute: the least an answered session is charged (a session that only texted is charged this), in minor units"),
    currency: currencySchema.optional().describe("Defaults to the shop's currency"),
    platformFeeBps: z.number().int().min(0).max(10_000).describe("Platform fee in basis points: 1500 = 15%"),
  })
  .meta({ id: "Pricing" });

export const offerPolicySchema = z
  .object({
    mode: z.enum(["sequential", "broadcast"]).describe("One expert at a time, or several at once (first to accept wins)"),
    timeoutSeconds: z.number().int().min(15).max(3600).default(120),
    fanout: z.number().int().min(1).max(20).default(1).describe("Experts per round; must be 1 when sequential"),
  })
  .refine((policy) => policy.mode === "broadcast" || policy.fanout === 1, {
    message: "fanout must be 1 for sequential offers (use broadcast to reach several experts at once)",
    path: ["fanout"],
  })
  .meta({ id: "OfferPolicy" });

export const poolSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    tags: z.array(z.string()),
    productIds: z.array(z.uuid()),
    pricing: z.object({
      mode: z.enum(["per_session", "per_minute"]),
      amountMinor: z.number().int(),
      minimumMinor: z.number().int(),
      currency: z.string(),
      platformFeeBps: z.number().int(),
    }),
    offerPolicy: z.object({
      mode: z.enum(["sequential", "broadcast"]),
      timeoutSeconds: z.number().int(),
      fanout: z.number().int(),
    }),
    callCapMinutes: z.number().int().describe("Longest talk time of a session's calls: a warning a minute before, then the call ends"),
    memberCount: z.number().int(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Pool" });

const poolFields = {
  name: text({ min: 1, max: 120 }),
  tags: tagListSchema,
  productIds: z
    .array(z.uuid({ error: "must be a product id" }))
    .max(500)
    .transform((ids) => [...new Set(ids)]),
  pricing: pricingSchema,
  offerPolicy: offerPolicySchema,
  callCapMinutes: z.number().int("must be a whole number of minutes").min(2).max(240).describe("Longest talk time of a session's calls, in minutes (default 60)"),
};

export const createPoolBody = z.object({
  ...poolFields,
  tags: poolFields.tags.default([]),
  productIds: poolFields.productIds.default([]),
  offerPolicy: poolFields.offerPolicy.default({ mode: "sequential", timeoutSeconds: 120, fanout: 1 }),
  callCapMinutes: poolFields.callCapMinutes.default(60),
});

export const updatePoolBody = z
  .object(poolFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

export const listPoolsQuery = pageQuery.extend({
  tag: tagSchema.optional(),
  productId: z.uuid().optional().describe("Only pools covering this product"),
});

export const addMemberBody = z.object({ expertId: z.uuid({ error: "must be an expert id" }) });

export const memberParams = z.object({ id: z.uuid(), expertId: z.uuid() });

export const poolMemberSchema = z
  .object({
    poolId: z.uuid(),
    expertId: z.uuid(),
    expertName: z.string(),
    createdAt: z.date(),
  })
  .meta({ id: "PoolMember" });
