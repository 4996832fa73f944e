import { z } from "zod";
import { pageQuery } from "../../lib/pagination.js";
import { toE164 } from "../../lib/phone.js";
import { availabilityWindowSchema, canonicalTimeZone, quietHoursSchema } from "../../lib/schedule.js";
import { tagSchema } from "../../lib/tags.js";
import { text } from "../../lib/text.js";
import type { CountryCode } from "libphonenumber-js";

const skillSchema = z.object({
  tag: tagSchema,
  level: z.number().int().min(1).max(5).describe("1 = knows it, 5 = authority"),
});

const skillsSchema = z
  .array(skillSchema)
  .max(50)
  .superRefine((skills, ctx) => {
    const seen = new Set<string>();
    skills.forEach((skill, index) => {
      if (seen.has(skill.tag)) ctx.addIssue({ code: "custom", path: [index, "tag"], message: "tag listed twice" });
      seen.add(skill.tag);
    });
  });

const expertFields = {
  phone: text({ min: 3, max: 32 }).describe("E.164 (+14155550123), or national with phoneCountry"),
  phoneCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 country code like US")
    .optional()
    .describe("Country for a phone number written in national format"),
  name: text({ min: 1, max: 120 }),
  // The longest IANA name is 32 characters; the limit stops megabyte strings before Intl sees them.
  timeZone: z
    .string()
    .max(64, { abort: true })
    .transform((zone, ctx) => {
      const canonical = canonicalTimeZone(zone);
      if (canonical === null) {
        ctx.addIssue({ code: "custom", message: "must be an IANA time zone like America/Chicago" });
        return z.NEVER;
      }
      return canonical;
    }),
  skills: skillsSchema,
  weeklyAvailability: z
    .array(availabilityWindowSchema)
    .max(70)
    .nullable()
    .describe("Local weekly windows; null = any time (outside quiet hours)"),
  quietHours: quietHoursSchema.nullable().describe("Local hours with no messages, e.g. 22:00-07:00"),
  maxConcurrentSessions: z.number().int().min(1).max(10),
};

/** Normalises `phone` to E.164 in place, failing the field when it is not a real number. */
function normalisePhone<T extends { phone?: string | undefined; phoneCountry?: string | undefined }>(
  body: T,
  ctx: z.RefinementCtx,
) {
  const { phoneCountry, ...rest } = body;
  if (rest.phone === undefined) return rest;
  const e164 = toE164(rest.phone, phoneCountry as CountryCode | undefined);
  if (!e164) {
    ctx.addIssue({
      code: "custom",
      path: ["phone"],
      message: phoneCountry
        ? "is not a valid phone number"
        : "is not a valid phone number (use +countrycode, or send phoneCountry)",
    });
    return z.NEVER;
  }
  return { ...rest, phone: e164 };
}

export const createExpertBody = z
  .object({
    ...expertFields,
    skills: expertFields.skills.default([]),
    weeklyAvailability: expertFields.weeklyAvailability.default(null),
    quietHours: expertFields.quietHours.default(null),
    maxConcurrentSessions: expertFields.maxConcurrentSessions.default(1),
  })
  .transform(normalisePhone);

export const updateExpertBody = z
  .object(expertFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" })
  // Alone it would change nothing and answer 200: the country only says how to read `phone`.
  .refine((body) => body.phoneCountry === undefined || body.phone !== undefined, {
    message: "only applies to a phone sent in the same request; send phone too",
    path: ["phoneCountry"],
  })
  .transform(normalisePhone);

export const expertStatuses = ["invited", "active", "suspended"] as const;
export const vettingStatuses = ["pending", "approved", "rejected"] as const;

export const listExpertsQuery = pageQuery.extend({
  status: z.enum(expertStatuses).optional(),
  vettingStatus: z.enum(vettingStatuses).optional(),
  tag: tagSchema.optional().describe("Only experts holding this skill"),
  poolId: z.uuid().optional().describe("Only members of this pool"),
});

export const adminListExpertsQuery = listExpertsQuery.extend({
  shopId: z.uuid().optional().describe("Only this shop's experts"),
});

export const expertSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    phone: z.string().describe("E.164"),
    name: z.string(),
    timeZone: z.string(),
    skills: z.array(z.object({ tag: z.string(), level: z.number().int() })),
    weeklyAvailability: z.array(z.object({ day: z.string(), start: z.string(), end: z.string() })).nullable(),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
    maxConcurrentSessions: z.number().int(),
    status: z.enum(expertStatuses),
    vettingStatus: z.enum(vettingStatuses),
    vettingNote: z.string().nullable(),
    paused: z.boolean(),
    phoneVerifiedAt: z.date().nullable(),
    payoutsEnabled: z.boolean(),
    rating: z.object({ average: z.number().nullable(), count: z.number().int() }),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Expert" });

export const vettingBody = z.object({
  decision: z.enum(["approved", "rejected"]),
  note: text({ max: 2000 }).default(""),
});
