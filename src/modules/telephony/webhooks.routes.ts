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
import type { CallStatus } from "../../generated/prisma/enums.js";
import type { RoutesPlugin } from "../../http.js";
import { QUEUES } from "../../jobs/define.js";
import { sendProblem } from "../../plugins/errors.js";
import { problem } from "../../plugins/problem.js";
import { copy } from "./copy.js";
import { HANDLE_INBOUND_SMS } from "./jobs.js";
import { fromTwilioMessageStatus, statusesBefore } from "./message-status.js";
import { queueSms } from "./sms.js";
import { recordCallStatus, recordInboundSms, recordMessageStatus } from "./webhook-writes.js";

type WebhookDeps = Pick<Deps, "prisma" | "sql" | "config" | "clock" | "logger">;
type Form = Record<string, string>;

const TWIML = "text/xml; charset=utf-8";
/** The answer to every inbound SMS, built once: the SDK's XML builder is a measurable cost per request. */
const EMPTY_MESSAGING_RESPONSE = new twilio.twiml.MessagingResponse().toString();

/** The URL Twilio signed: our public base + the path and query it called. */
function signedUrl(publicBaseUrl: string, request: FastifyRequest): string {
  return `${publicBaseUrl}${request.url}`;
}

// Maps, not object literals: a status word from the form ("constructor",
// "toString") must not find an inherited property.
const CALL_STATUS = new Map<string, CallStatus>([
  ["queued", "queued"],
  ["initiated", "initiated"],
  ["ringing", "ringing"],
  ["in-progress", "in_progress"],
  ["completed", "completed"],
  ["busy", "busy"],
  ["no-answer", "no_answer"],
  ["failed", "failed"],
  ["canceled", "canceled"],
]);
const CALL_RANK = new Map<CallStatus, number>([
  ["queued", 0],
  ["initiated", 1],
  ["ringing", 2],
  ["in_progress", 3],
  ["completed", 4],
  ["busy", 4],
  ["no_answer", 4],
  ["failed", 4],
  ["canceled", 4],
]);
const FINAL_RANK = 4;

/** The stored call statuses that `next` may replace: status only moves forward. */
function callStatusesBefore(next: CallStatus): CallStatus[] {
  const rank = CALL_RANK.get(next) ?? 0;
  return [...CALL_RANK].filter(([, other]) => other < rank).map(([status]) => status);
}

/** PostgreSQL int columns; a bigger number in a webhook is nonsense, not a reason for a 500. */
const int4 = z.coerce.number().int().min(0).max(2_147_483_647);
// PostgreSQL text cannot hold NUL; a message is still worth keeping without it.
const text = z.string().transform((value) => value.replaceAll("\u0000", ""));
/**
 * Twilio's SIDs: two letters and 32 hex digits. Bounded because they land in unique indexes,
 * whose entries PostgreSQL caps at a few kilobytes (a longer value would be a 500).
 */
const sid = z.string().regex(/^[A-Z]{2}[0-9a-fA-F]{32}$/, "must be a Twilio SID (two letters and 32 hex digits)");
/** A status word ("delivered", "in-progress"): part of a dedupe key, so bounded too. */
const statusWord = z.string().max(32);
/** Phone numbers, client identifiers (client:alice) or SIP addresses: short in practice. */
const address = z.string().max(256);
const smsForm = z.object({ MessageSid: sid, From: address.min(1), To: address.min(1), Body: text.default("") }).loose();
const messageStatusForm = z.object({ MessageSid: sid, MessageStatus: statusWord.min(1), ErrorCode: int4.optional() }).loose();
const callForm = z
  .object({ CallSid: sid, From: address.default(""), To: address.default(""), CallStatus: statusWord.default("") })
  .loose();

export const twilioWebhookRoutes: RoutesPlugin<{ deps: WebhookDeps }> = async (app, { deps }) => {
  const { prisma, sql, config, logger } = deps;
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
    await recordInboundSms(sql, {
      messageSid: form.MessageSid,
      from: form.From,
      to: form.To,
      body: form.Body,
      topic: `${QUEUES.telephony}/${HANDLE_INBOUND_SMS}`,
      jobIdPrefix: "inbound-",
    });
    // Replies go out through the API (rate-limited, quiet-hours aware), never as TwiML.
    return reply.type(TWIML).send(EMPTY_MESSAGING_RESPONSE);
  });

  app.post("/twilio/status/message", { schema: { hide: true } }, async (request, reply) => {
    const parsed = messageStatusForm.safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const status = fromTwilioMessageStatus(form.MessageStatus);
    const ourId = z.uuid().safeParse((request.query as { messageId?: unknown }).messageId);
    const { fresh, updated } = await recordMessageStatus(sql, {
      messageSid: form.MessageSid,
      twilioStatus: form.MessageStatus,
      status,
      replaces: status ? statusesBefore(status) : [],
      errorCode: form.ErrorCode || undefined,
      ourId: ourId.success ? ourId.data : undefined,
    });
    if (fresh && status && updated === 0) logger.debug({ messageSid: form.MessageSid, status }, "stale or unknown message status ignored");
    return reply.code(200).send();
  });

  app.post("/twilio/voice", { schema: { hide: true } }, async (request, reply) => {
    const parsed = callForm.safeParse(request.body);
    if (!parsed.success) return badForm(request, reply, parsed.error);
    const form = parsed.data;
    const line = await prisma.phoneNumber.findUnique({ where: { e164: form.To }, include: { shop: true } });
    // A status callback for the same call may be creating the row right now: insert or leave it.
    await prisma.call.createMany({
      data: [{ twilioSid: form.CallSid, direction: "inbound", from: form.From, to: form.To, status: CALL_STATUS.get(form.CallStatus) ?? "ringing" }],
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
    const status = CALL_STATUS.get(form.CallStatus) ?? null;
    await recordCallStatus(sql, {
      callSid: form.CallSid,
      twilioStatus: form.CallStatus,
      status,
      replaces: status ? callStatusesBefore(status) : [],
      final: status !== null && CALL_RANK.get(status) === FINAL_RANK,
      from: form.From,
      to: form.To,
      durationSeconds: form.CallDuration,
      now: deps.clock.now(),
    });
    return reply.code(200).send();
  });
};
