import { z } from "zod";
import { adminAuth, idempotencyHeaders, type RoutesPlugin } from "../../http.js";
import { pageOf, pageQuery } from "../../lib/pagination.js";
import { toE164 } from "../../lib/phone.js";
import { commonErrors } from "../../plugins/problem.js";
import type { NumberService } from "./numbers.js";

const phoneNumberSchema = z
  .object({
    id: z.uuid(),
    e164: z.string(),
    purpose: z.enum(["expert_line", "proxy"]),
    shopId: z.uuid().nullable(),
    twilioSid: z.string().nullable(),
    createdAt: z.date(),
  })
  .meta({ id: "PhoneNumber" });

const registerBody = z.object({
  e164: z
    .string()
    .max(32, "is too long for a phone number")
    .transform((value, ctx) => {
      const e164 = toE164(value);
      if (!e164) {
        ctx.addIssue({ code: "custom", message: "is not a valid phone number in +E.164 form" });
        return z.NEVER;
      }
      return e164;
    })
    .describe("The number as +E.164"),
  purpose: z.enum(["expert_line", "proxy"]),
  shopId: z.uuid().optional().describe("The shop whose expert line this is (expert_line only)"),
});

/** Admin: the platform's numbers. Configure each number's webhooks in Twilio to /twilio/sms and /twilio/voice. */
export const phoneNumberRoutes: RoutesPlugin<{ numbers: NumberService }> = async (app, { numbers }) => {
  const tags = ["admin"];
  app.post(
    "/phone-numbers",
    {
      schema: {
        tags,
        security: adminAuth,
        summary: "Register a platform number: a shop's expert line or a proxy number",
        headers: idempotencyHeaders,
        body: registerBody,
        response: { 201: phoneNumberSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await numbers.registerNumber(request.body)),
  );

  app.get(
    "/phone-numbers",
    {
      schema: {
        tags,
        security: adminAuth,
        querystring: pageQuery.extend({ purpose: z.enum(["expert_line", "proxy"]).optional() }),
        response: { 200: pageOf(phoneNumberSchema), ...commonErrors },
      },
    },
    async (request) => numbers.listNumbers(request.query),
  );
};
