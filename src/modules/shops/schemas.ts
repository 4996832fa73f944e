import { isSupportedCountry } from "libphonenumber-js/max";
import { z } from "zod";
import { text } from "../../lib/text.js";

export const shopSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    status: z.enum(["active", "suspended"]),
    currency: z.string().length(3),
    country: z.string().length(2).describe("ISO 3166 alpha-2: where the shop is; customers' numbers from here can be texted"),
    smsCountries: z
      .array(z.string().length(2))
      .describe("Countries whose phone numbers this shop's questions may text (SMS pumping guard); set by the platform admin"),
    dailyNewCustomerCap: z
      .number()
      .int()
      .describe("New customer phone numbers the shop may take per UTC day (SMS pumping guard); the platform admin raises it"),
    frameAncestors: z.array(z.string()).describe("Origins allowed to embed the question status page in a frame"),
    recordCalls: z.boolean().describe("Bridged calls are recorded; both sides hear a consent notice first (off by default)"),
    createdAt: z.date(),
  })
  .meta({ id: "Shop" });

/**
 * ISO 3166 alpha-2, of a country with its own phone numbering rules: a code
 * the guard could never match a number to (AQ, or a typo like UK) is refused
 * here rather than silently blocking every text.
 */
export const countryCodeSchema = z
  .string()
  .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166 alpha-2 country code like US")
  .transform((code) => code.toUpperCase())
  .refine((code) => isSupportedCountry(code), "is not a country code phone numbers belong to (GB, not UK)");

const MAX_FRAME_ANCESTORS = 10;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1"]);
/** DNS labels of letters, digits and inner hyphens, at least two (no bare "intranet"), no trailing dot. */
const HOSTNAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

/**
 * One CSP frame-ancestors source, normalised to its origin: scheme, host and
 * port only (https; http for local development), lowercase, IDN in punycode,
 * default port dropped. The value goes into a response header, so nothing
 * beyond those characters passes. Wildcards ("https://*.example.com") are
 * refused: without the public suffix list "*.co.uk" cannot be told from
 * "*.brewbarn.example", and a wildcard also admits subdomains the shop does
 * not control (hosted stores, previews); ten exact origins cover a shop.
 */
export function normaliseFrameAncestor(value: string): { origin: string } | { error: string } {
  if (value.includes("*")) return { error: "wildcards are not accepted: list each origin, e.g. https://shop.example.com" };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: "must be an origin like https://shop.example.com" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname))) {
    return { error: "must use https (http only for localhost and 127.0.0.1)" };
  }
  if (url.username || url.password) return { error: "must not carry a user name or password" };
  if (url.pathname !== "/" || url.search || url.hash || /[?#]/.test(value)) {
    return { error: "must be an origin only: scheme, host and optional port, without a path, query or fragment" };
  }
  if (!LOCAL_HOSTS.has(url.hostname) && !HOSTNAME.test(url.hostname)) {
    return { error: "must name a host like shop.example.com" };
  }
  return { origin: url.origin };
}

const frameAncestorSchema = text({ min: 1, max: 300 }).transform((value, context) => {
  const result = normaliseFrameAncestor(value);
  if ("origin" in result) return result.origin;
  context.addIssue({ code: "custom", message: result.error });
  return z.NEVER;
});

export const frameAncestorsSchema = z
  .array(frameAncestorSchema)
  .max(MAX_FRAME_ANCESTORS)
  .transform((origins) => [...new Set(origins)])
  .describe(
    "Origins allowed to embed the status page (CSP frame-ancestors), e.g. https://brewbarn.example; " +
      `https (http only for localhost), no paths or wildcards, at most ${MAX_FRAME_ANCESTORS}; [] forbids framing`,
  );

/**
 * What a shop may change about itself. Strict: a shop sending an admin
 * setting (dailyNewCustomerCap) is told so, instead of seeing a 200 that
 * silently ignored it.
 */
export const updateShopBody = z
  .strictObject({
    name: text({ min: 1, max: 120 }),
    frameAncestors: frameAncestorsSchema,
    recordCalls: z.boolean().describe("Record bridged calls; both sides hear a consent notice before the bridge, and recording starts after it"),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

/** What only the platform admin may change: the SMS pumping guard's settings and suspension. */
export const adminUpdateShopBody = z
  .strictObject({
    dailyNewCustomerCap: z
      .number()
      .int("must be a whole number")
      .min(0)
      .max(1_000_000)
      .describe("New customer phone numbers per UTC day; 0 takes no new customers"),
    smsCountries: z
      .array(countryCodeSchema)
      .max(250)
      .transform((codes) => [...new Set(codes)].sort())
      .describe("Countries the shop may text; [] means only the shop's own country"),
    country: countryCodeSchema.describe("The shop's own country"),
    status: z.enum(["active", "suspended"]).describe("A suspended shop's API keys are refused"),
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

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
  country: countryCodeSchema.default("US").describe("The shop's own country: its customers' numbers can be texted"),
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
