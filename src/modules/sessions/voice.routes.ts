/**
 * Twilio's requests for voice offers and voice sessions: the TwiML each leg
 * runs (whisper, keys, joining a bridge, goodbyes, the cap's warning) and
 * the conference and recording callbacks. Registered inside the verified
 * Twilio scope (twilio-scope.ts): a forged request is a 403 before any of
 * this runs. Callbacks are deduplicated by a receipt, so Twilio's retries
 * change nothing.
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";
import { offerAnswerTwiml, offerWhisperTwiml } from "../routing/voice-offers.js";
import { callForm, parseForm, sid, statusWord, TWIML } from "../telephony/twilio-scope.js";
import { parseTwilioTimestamp } from "./bridge-time.js";
import { connectCaller } from "./voice-connect.js";
import {
  capWarningTwiml,
  GOODBYE_REASONS,
  goodbyeTwiml,
  joinTwiml,
  PARTIES,
  recordConferenceEvent,
  recordRecording,
  ringAnswerTwiml,
  ringTwiml,
  type GoodbyeReason,
  type Party,
} from "./voice-bridge.js";

type VoiceDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

const idParam = z.object({ id: z.uuid() });
const keysForm = callForm.extend({ Digits: z.string().max(32).default("") });
const conferenceForm = z
  .object({
    ConferenceSid: sid,
    StatusCallbackEvent: statusWord.min(1),
    Timestamp: z.string().max(64).optional(),
    SequenceNumber: z.string().max(16).optional(),
    CallSid: sid.optional(),
    CallSidEndingConference: sid.optional(),
  })
  .loose();
const recordingForm = z.object({ RecordingSid: sid, RecordingUrl: z.url().max(1024), RecordingStatus: statusWord.default("completed") }).loose();

export const voiceSessionRoutes: RoutesPlugin<{ deps: VoiceDeps }> = async (app, { deps }) => {
  const params = (request: { params: unknown }) => idParam.safeParse(request.params);

  app.post("/twilio/voice/offers/:id/whisper", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    if (!id.success) return reply.code(404).send();
    return reply.type(TWIML).send(await offerWhisperTwiml(deps, id.data.id));
  });

  app.post("/twilio/voice/offers/:id/answer", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(keysForm, request, reply);
    if (!form) return reply;
    if (!id.success) return reply.code(404).send();
    const again = (request.query as { again?: unknown }).again === "1";
    return reply.type(TWIML).send(await offerAnswerTwiml(deps, id.data.id, form.Digits, form.CallSid, again));
  });

  app.post("/twilio/voice/bridges/:id/join", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    const party = z.enum(PARTIES as [Party, ...Party[]]).safeParse((request.query as { party?: unknown }).party);
    if (!id.success || !party.success) return reply.code(404).send();
    return reply.type(TWIML).send(await joinTwiml(deps, id.data.id, party.data, form.CallSid));
  });

  app.post("/twilio/voice/bridges/:id/ring", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    if (!id.success) return reply.code(404).send();
    return reply.type(TWIML).send(await ringTwiml(deps, id.data.id));
  });

  app.post("/twilio/voice/bridges/:id/ring/answer", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(keysForm, request, reply);
    if (!form) return reply;
    if (!id.success) return reply.code(404).send();
    return reply.type(TWIML).send(await ringAnswerTwiml(deps, id.data.id, form.Digits, form.CallSid));
  });

  app.post("/twilio/voice/bridges/:id/goodbye", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    const reason = z.enum(GOODBYE_REASONS as [GoodbyeReason, ...GoodbyeReason[]]).safeParse((request.query as { reason?: unknown }).reason);
    if (!id.success || !reason.success) return reply.code(404).send();
    return reply.type(TWIML).send(await goodbyeTwiml(deps, id.data.id, reason.data));
  });

  app.post("/twilio/voice/sessions/:id/connect", { schema: { hide: true } }, async (request, reply) => {
    const id = params(request);
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    if (!id.success) return reply.code(404).send();
    return reply.type(TWIML).send(await connectCaller(deps, { sessionId: id.data.id, callSid: form.CallSid, from: form.From }));
  });

  // Conference announcements carry no call; the form has AccountSid and ConferenceSid only.
  app.post("/twilio/voice/announcements/cap-warning", { schema: { hide: true } }, async (_request, reply) => reply.type(TWIML).send(capWarningTwiml()));

  app.post("/twilio/status/conference", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(conferenceForm, request, reply);
    if (!form) return reply;
    const bridgeId = z.uuid().safeParse((request.query as { bridgeId?: unknown }).bridgeId);
    const at = parseTwilioTimestamp(form.Timestamp);
    // A callback we cannot place is acknowledged (a retry would not make it placeable) and logged.
    if (!bridgeId.success || !at) {
      deps.logger.warn({ event: form.StatusCallbackEvent }, "a conference callback without a bridge or a timestamp was ignored");
      return reply.code(200).send();
    }
    await recordConferenceEvent(deps, {
      bridgeId: bridgeId.data,
      conferenceSid: form.ConferenceSid,
      event: form.StatusCallbackEvent,
      callSid: form.CallSid ?? null,
      callSidEndingConference: form.CallSidEndingConference ?? null,
      at,
      dedupeKey: `conference:${form.ConferenceSid}:${form.StatusCallbackEvent}:${form.CallSid ?? ""}`,
    });
    return reply.code(200).send();
  });

  app.post("/twilio/status/recording", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(recordingForm, request, reply);
    if (!form) return reply;
    const bridgeId = z.uuid().safeParse((request.query as { bridgeId?: unknown }).bridgeId);
    if (bridgeId.success && form.RecordingStatus === "completed") await recordRecording(deps, bridgeId.data, form.RecordingUrl);
    return reply.code(200).send();
  });
};
