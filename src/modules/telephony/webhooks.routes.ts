/**
 * Twilio's webhooks for texts and status callbacks (a call's voice URL and
 * its IVR are question intake's: questions/voice.routes.ts). Each one
 * verifies X-Twilio-Signature before anything else (403, no side effect,
 * when it fails), records what arrived in one transaction with a dedupe
 * receipt, hands the work to the worker, and answers at once. A replay
 * answers exactly as the first delivery did.
 */
import twilio from "twilio";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { CallStatus } from "../../generated/prisma/enums.js";
import type { RoutesPlugin } from "../../http.js";
import { QUEUES } from "../../jobs/define.js";
import { HANDLE_INBOUND_SMS } from "./jobs.js";
import { fromTwilioMessageStatus, statusesBefore } from "./message-status.js";
import { address, callForm, int4, sid, statusWord, text, parseForm, TWIML } from "./twilio-scope.js";
import { attachCallSid, recordCallStatus, recordInboundSms, recordMessageStatus } from "./webhook-writes.js";

type WebhookDeps = Pick<Deps, "sql" | "clock" | "logger">;

/** The answer to every inbound SMS, built once: the SDK's XML builder is a measurable cost per request. */
const EMPTY_MESSAGING_RESPONSE = new twilio.twiml.MessagingResponse().toString();

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

const smsForm = z.object({ MessageSid: sid, From: address.min(1), To: address.min(1), Body: text.default("") }).loose();
const messageStatusForm = z.object({ MessageSid: sid, MessageStatus: statusWord.min(1), ErrorCode: int4.optional() }).loose();

export const twilioWebhookRoutes: RoutesPlugin<{ deps: WebhookDeps }> = async (app, { deps }) => {
  const { sql, logger } = deps;
  app.post("/twilio/sms", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(smsForm, request, reply);
    if (!form) return reply;
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
    const form = parseForm(messageStatusForm, request, reply);
    if (!form) return reply;
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

  app.post("/twilio/status/call", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(callForm.extend({ CallDuration: int4.optional() }), request, reply);
    if (!form) return reply;
    const status = CALL_STATUS.get(form.CallStatus) ?? null;
    // Our own calls name their claimed row: the first callback ties the SID to it, so a worker that
    // died between Twilio's answer and writing the SID loses nothing (calls.ts).
    const callId = z.uuid().safeParse((request.query as { callId?: unknown }).callId);
    if (callId.success) await attachCallSid(sql, { callId: callId.data, callSid: form.CallSid });
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
