/**
 * Twilio's webhooks. Each one verifies X-Twilio-Signature before anything
 * else (403, no side effect, when it fails), records what arrived in one
 * transaction with a dedupe receipt, hands the work to the worker, and
 * answers at once. A replay answers exactly as the first delivery did.
 */
import formbody from "@fastify/formbody";
import type { FastifyReply, FastifyRequest } from "fastify";
import twilio from "twilio";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { type Prisma } from "../../generated/prisma/client.js";
import type { CallStatus } from "../../generated/prisma/enums.js";
import type { RoutesPlugin } from "../../http.js";
import { QUEUES } from "../../jobs/define.js";
import { sendProblem } from "../../plugins/errors.js";
import { problem } from "../../plugins/problem.js";
import { enqueue } from "../outbox/outbox.js";
import { copy } from "./copy.js";
import { HANDLE_INBOUND_SMS } from "./jobs.js";
import { fromTwilioMessageStatus, statusesBefore } from "./message-status.js";
import { queueSms } from "./sms.js";

type WebhookDeps = Pick<Deps, "prisma" | "config" | "clock" | "logger">;
type Form = Record<string, string>;

const TWIML = "text/xml; charset=utf-8";

/** The URL Twilio signed: our public base + the path and query it called. */
function signedUrl(publicBaseUrl: string, request: FastifyRequest): string {
  return `${publicBaseUrl}${request.url}`;
}

/** Stores the receipt; false when this delivery was seen before. */
async function firstDelivery(tx: Prisma.TransactionClient, dedupeKey: string): Promise<boolean> {
  const { count } = await tx.webhookReceipt.createMany({ data: [{ provider: "twilio", dedupeKey }], skipDuplicates: true });
  return count === 1;
}

const CALL_STATUS: Record<string, CallStatus> = {
  queued: "queued",
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "in_progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no_answer",
  failed: "failed",
  canceled: "canceled",
};
const CALL_RANK: Record<CallStatus, number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  in_progress: 3,
  completed: 4,
  busy: 4,
  no_answer: 4,
  failed: 4,
  canceled: 4,
};

/** PostgreSQL int columns; a bigger number in a webhook is nonsense, not a reason for a 500. */
const int4 = z.coerce.number().int().min(0).max(2_147_483_647);
// PostgreSQL text cannot hold NUL; a message is still worth keeping without it.
const text = z.string().transform((value) => value.replaceAll("\u0000", ""));
const smsForm = z
  .object({ MessageSid: z.string().min(1), From: z.string().min(1), To: z.string().min(1), Body: text.default("") })
  .loose();
const messageStatusForm = z.object({ MessageSid: z.string().min(1), MessageStatus: z.string().min(1), ErrorCode: int4.optional() }).loose();
const callForm = z
  .object({ CallSid: z.string().min(1), From: z.string().default(""), To: z.string().default(""), CallStatus: z.string().default("") })
  .loose();

export const twilioWebhookRoutes: RoutesPlugin<{ deps: WebhookDeps }> = async (app, { deps }) => {
  const { prisma, config, logger } = deps;
  await app.register(formbody);

  // Verify before the body is looked at by anything else.
  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    const signature = request.headers["x-twilio-signature"];
    const params = (request.body ?? {}) as Form;
    const valid =
      typeof signature === "string" &&
      twilio.validateRequest(config.TWILIO_AUTH_TOKEN, signature, signedUrl(config.PUBLIC_BASE_URL, request), params);
    if (!valid) {
      logger.warn({ path: request.url.split("?")[0] }, "rejected a webhook with a missing or wrong Twilio signature");
      return sendProblem(request, reply, problem(403, "invalid-signature", "X-Twilio-Signature is missing or does not match"));
    }
  });

  const badForm = (request: FastifyRequest, reply: FastifyReply, error: z.ZodError) =>
    sendProblem(
      request,
      reply,
      problem(
        400,
        "validation-error",
        "The webhook body is missing fields",
        error.issues.map((issue) => ({ path: `body.${issue.path.join(".")}`, message: issue.message })),
      ),
    );

  app.post("/twilio/sms", { schema: { hide: true } }, async (request, reply) => {
    const parsed = smsForm.safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    await prisma.$transaction(async (tx) => {
      if (!(await firstDelivery(tx, `sms:${form.MessageSid}`))) return;
      const line = await tx.phoneNumber.findUnique({ where: { e164: form.To }, select: { shopId: true } });
      const message = await tx.message.create({
        data: {
          shopId: line?.shopId ?? null,
          direction: "inbound",
          purpose: "inbound",
          from: form.From,
          to: form.To,
          body: form.Body,
          status: "received",
          twilioSid: form.MessageSid,
        },
      });
      await enqueue(tx, { queue: QUEUES.telephony, name: HANDLE_INBOUND_SMS, payload: { messageId: message.id }, jobId: `inbound-${message.id}` });
    });
    // Replies go out through the API (rate-limited, quiet-hours aware), never as TwiML.
    return reply.type(TWIML).send(new twilio.twiml.MessagingResponse().toString());
  });

  app.post("/twilio/status/message", { schema: { hide: true } }, async (request, reply) => {
    const parsed = messageStatusForm.safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const status = fromTwilioMessageStatus(form.MessageStatus);
    const ourId = z.uuid().safeParse((request.query as { messageId?: unknown }).messageId);
    await prisma.$transaction(async (tx) => {
      if (!(await firstDelivery(tx, `message-status:${form.MessageSid}:${form.MessageStatus}`)) || !status) return;
      // Our id (from the callback URL) finds a message whose SID we never got to store.
      const target = ourId.success
        ? { OR: [{ twilioSid: form.MessageSid }, { id: ourId.data, twilioSid: null }] }
        : { twilioSid: form.MessageSid };
      const { count } = await tx.message.updateMany({
        where: { ...target, direction: "outbound", status: { in: statusesBefore(status) } },
        data: { status, twilioSid: form.MessageSid, ...(form.ErrorCode ? { errorCode: form.ErrorCode } : {}) },
      });
      if (count === 0) logger.debug({ messageSid: form.MessageSid, status }, "stale or unknown message status ignored");
    });
    return reply.code(200).send();
  });

  app.post("/twilio/voice", { schema: { hide: true } }, async (request, reply) => {
    const parsed = callForm.safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const line = await prisma.phoneNumber.findUnique({ where: { e164: form.To }, include: { shop: true } });
    // A status callback for the same call may be creating the row right now: insert or leave it.
    await prisma.call.createMany({
      data: [{ twilioSid: form.CallSid, direction: "inbound", from: form.From, to: form.To, status: CALL_STATUS[form.CallStatus] ?? "ringing" }],
      skipDuplicates: true,
    });
    const twiml = new twilio.twiml.VoiceResponse();
    if (!line?.shop) {
      twiml.say("Sorry, this number is not in service.");
      twiml.hangup();
      return reply.type(TWIML).send(twiml.toString());
    }
    const menu = twiml.gather({ numDigits: 1, action: `${config.PUBLIC_BASE_URL}/twilio/voice/menu`, method: "POST", timeout: 6 });
    menu.say(`Thanks for calling the ${line.shop.name} expert line. Press 1 and we will text you, so you can type your question.`);
    twiml.say("We did not get a choice. Goodbye.");
    twiml.hangup();
    return reply.type(TWIML).send(twiml.toString());
  });

  app.post("/twilio/voice/menu", { schema: { hide: true } }, async (request, reply) => {
    const parsed = callForm.extend({ Digits: z.string().default("") }).safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const twiml = new twilio.twiml.VoiceResponse();
    const line = await prisma.phoneNumber.findUnique({ where: { e164: form.To }, include: { shop: true } });
    if (form.Digits === "1" && line?.shop) {
      const shop = line.shop;
      await prisma.$transaction((tx) =>
        queueSms(tx, {
          shopId: shop.id,
          from: form.To,
          to: form.From,
          body: copy.customerHint(shop.name),
          purpose: "voice_follow_up",
          isReply: true,
          dedupeKey: `voice-menu:${form.CallSid}`,
        }),
      );
      twiml.say("We have sent you a text message. Goodbye.");
    } else {
      twiml.say("Goodbye.");
    }
    twiml.hangup();
    return reply.type(TWIML).send(twiml.toString());
  });

  app.post("/twilio/status/call", { schema: { hide: true } }, async (request, reply) => {
    const parsed = callForm.extend({ CallDuration: int4.optional() }).safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const status = CALL_STATUS[form.CallStatus];
    await prisma.$transaction(async (tx) => {
      if (!(await firstDelivery(tx, `call-status:${form.CallSid}:${form.CallStatus}`)) || !status) return;
      const earlier = (Object.keys(CALL_RANK) as CallStatus[]).filter((candidate) => CALL_RANK[candidate] < CALL_RANK[status]);
      const final = CALL_RANK[status] === 4;
      const { count } = await tx.call.updateMany({
        where: { twilioSid: form.CallSid, status: { in: earlier } },
        data: {
          status,
          ...(status === "in_progress" ? { startedAt: deps.clock.now() } : {}),
          ...(final ? { endedAt: deps.clock.now() } : {}),
          ...(form.CallDuration !== undefined ? { durationSeconds: form.CallDuration } : {}),
        },
      });
      if (count === 0 && !(await tx.call.findUnique({ where: { twilioSid: form.CallSid }, select: { id: true } }))) {
        // First news of this call (a callback can beat the code that placed it): a call from one of our numbers is ours.
        const ours = await tx.phoneNumber.findUnique({ where: { e164: form.From }, select: { id: true } });
        await tx.call.createMany({
          skipDuplicates: true,
          data: {
            twilioSid: form.CallSid,
            direction: ours ? "outbound" : "inbound",
            from: form.From,
            to: form.To,
            status,
            ...(form.CallDuration !== undefined ? { durationSeconds: form.CallDuration } : {}),
          },
        });
      }
    });
    return reply.code(200).send();
  });
};
