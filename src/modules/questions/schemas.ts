import { z } from "zod";
import { pageQuery } from "../../lib/pagination.js";
import { toE164 } from "../../lib/phone.js";
import { tagListSchema } from "../../lib/tags.js";
import { text } from "../../lib/text.js";

export const questionStatuses = ["received", "routing", "offered", "matched", "in_session", "answered", "expired", "cancelled"] as const;

const customerPhone = text({ min: 3, max: 32 })
  .describe("The customer's mobile number, E.164 (+14155550123)")
  .transform((phone, ctx) => {
    const e164 = toE164(phone);
    if (!e164) {
      ctx.addIssue({ code: "custom", message: "is not a valid phone number (use +countrycode)" });
      return z.NEVER;
    }
    return e164;
  });

export const createQuestionBody = z
  .object({
    text: text({ min: 1, max: 2000 }).describe("The customer's question, as they asked it"),
    customer: z.object({
      phone: customerPhone,
      name: text({ min: 1, max: 80 }).optional().describe("Shown to the expert as a first name"),
    }),
    productId: z.uuid({ error: "must be a product id" }).optional(),
    tags: tagListSchema.optional().describe("Skills every expert must hold; default: the product's tags"),
    optionalTags: tagListSchema.optional().describe("Wanted at first, dropped when the search widens"),
    preferredMode: z.enum(["sms", "voice"]).default("sms"),
    context: z
      .object({
        source: text({ max: 60 }).optional().describe("Where the hand-off comes from, e.g. chat-bot"),
        url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2000).optional(),
        transcript: text({ max: 20_000 }).optional().describe("The conversation so far; the expert sees a summary"),
      })
      .optional()
      .describe("A hand-off from the shop's own chat or bot"),
    ttlMinutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(24 * 60)
      .describe("How long to look for an expert before the question expires"),
  })
  .meta({ id: "CreateQuestion" });

export type CreateQuestion = z.output<typeof createQuestionBody>;

export const questionSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(questionStatuses),
    channel: z.enum(["api", "sms", "voice"]),
    preferredMode: z.enum(["sms", "voice"]),
    text: z.string(),
    productId: z.uuid().nullable(),
    tags: z.array(z.string()),
    optionalTags: z.array(z.string()),
    customer: z.object({ phone: z.string(), name: z.string().nullable() }),
    context: z.record(z.string(), z.unknown()).nullable(),
    statusUrl: z.string().describe("The customer's public status page"),
    expertId: z.uuid().nullable().describe("The expert who accepted"),
    widenLevel: z.number().int().describe("0 as asked, 1 optional tags dropped, 2 shop-wide pools too"),
    expiresAt: z.date().nullable(),
    closedAt: z.date().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Question" });

const reasonSchema = z.object({
  factor: z.string(),
  weight: z.number(),
  value: z.number(),
  points: z.number(),
  detail: z.string(),
});

export const questionDetailSchema = questionSchema
  .extend({
    timeline: z.array(z.object({ kind: z.string(), at: z.date(), data: z.record(z.string(), z.unknown()).nullable() })),
    offers: z.array(
      z.object({
        id: z.uuid(),
        expertId: z.uuid(),
        expertName: z.string(),
        status: z.enum(["pending", "accepted", "declined", "expired", "cancelled", "lost"]),
        round: z.number().int(),
        widenLevel: z.number().int(),
        rank: z.number().int().describe("1 = the best candidate of its round"),
        score: z.number(),
        reasons: z.array(reasonSchema).describe("Why this expert ranked where they did"),
        sentAt: z.date().nullable(),
        expiresAt: z.date(),
        respondedAt: z.date().nullable(),
      }),
    ),
    session: z
      .object({
        id: z.uuid(),
        status: z.enum(["connecting", "active", "ended"]),
        mode: z.enum(["sms", "voice"]),
        startedAt: z.date().nullable(),
        endedAt: z.date().nullable(),
        endedBy: z.string().nullable(),
        rating: z.object({ score: z.number().int(), comment: z.string().nullable() }).nullable(),
      })
      .nullable(),
  })
  .meta({ id: "QuestionDetail" });

export const listQuestionsQuery = pageQuery.extend({
  status: z.enum(questionStatuses).optional(),
  productId: z.uuid().optional(),
});
