/**
 * The expert line's voice webhooks: the number's voice URL (/twilio/voice)
 * and the actions of its IVR. Registered inside the verified Twilio scope
 * (twilio-scope.ts): a bad signature is a 403 before any of this runs.
 * Thin: parse the form (400 with field detail when it is not Twilio's),
 * let intake-voice.ts decide the step, answer its TwiML. A business miss
 * (unknown number, closed shop, refused caller) is a polite sentence and a
 * hang-up, never an error status: Twilio would only read its own error
 * message to the caller.
 */
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";
import { callForm, int4, parseForm, parseQuery, TWIML } from "../telephony/twilio-scope.js";
import { chooseProduct, connectCaller, PRODUCT_ATTEMPTS, recordInboundCall, startCall, takeRecordedQuestion, takeSpokenQuestion } from "./intake-voice.js";
import { ivrUrls, renderStep, type IvrStep } from "./ivr-script.js";

type VoiceRouteDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

// Bounded: a speech transcript is a few sentences; PostgreSQL text cannot hold NUL.
const spoken = z
  .string()
  .max(10_000)
  .transform((value) => value.replaceAll("\u0000", ""));
/** 0 to 1 as Twilio sends it; anything else is no score rather than a failed call. */
const confidence = z
  .string()
  .optional()
  .transform((value) => {
    const score = value === undefined || value.trim() === "" ? Number.NaN : Number(value);
    return Number.isFinite(score) && score >= 0 && score <= 1 ? score : undefined;
  });
const digits = z.string().max(32).optional();

const productForm = callForm.extend({ Digits: digits, SpeechResult: spoken.optional() });
const questionForm = callForm.extend({ SpeechResult: spoken.optional(), Confidence: confidence });
const recordingForm = callForm.extend({
  RecordingUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  RecordingDuration: int4.optional(),
  Digits: digits,
});
const connectForm = callForm.extend({ Digits: digits });

const attemptQuery = z.object({ attempt: z.coerce.number().int().min(1).max(PRODUCT_ATTEMPTS).default(1) }).loose();
const productQuery = z.object({ product: z.uuid({ error: "must be a product id" }).optional() }).loose();

export const voiceIntakeRoutes: RoutesPlugin<{ deps: VoiceRouteDeps }> = async (app, { deps }) => {
  const urls = ivrUrls(deps.config.PUBLIC_BASE_URL);
  const answer = (reply: FastifyReply, step: IvrStep) => reply.type(TWIML).send(renderStep(step, urls));

  app.post("/twilio/voice", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(callForm, request, reply);
    if (!form) return reply;
    await recordInboundCall(deps.prisma, { callSid: form.CallSid, from: form.From, to: form.To, callStatus: form.CallStatus });
    return answer(reply, await startCall(deps, { from: form.From, to: form.To }));
  });

  app.post("/twilio/voice/product", { schema: { hide: true } }, async (request, reply) => {
    const query = parseQuery(attemptQuery, request, reply);
    const form = query && parseForm(productForm, request, reply);
    if (!query || !form) return reply;
    return answer(reply, await chooseProduct(deps, { from: form.From, to: form.To, attempt: query.attempt, digits: form.Digits, speech: form.SpeechResult }));
  });

  app.post("/twilio/voice/question", { schema: { hide: true } }, async (request, reply) => {
    const query = parseQuery(productQuery, request, reply);
    const form = query && parseForm(questionForm, request, reply);
    if (!query || !form) return reply;
    const step = await takeSpokenQuestion(deps, {
      callSid: form.CallSid,
      from: form.From,
      to: form.To,
      productId: query.product ?? null,
      speech: form.SpeechResult,
      confidence: form.Confidence,
    });
    return answer(reply, step);
  });

  app.post("/twilio/voice/recording", { schema: { hide: true } }, async (request, reply) => {
    const query = parseQuery(productQuery, request, reply);
    const form = query && parseForm(recordingForm, request, reply);
    if (!query || !form) return reply;
    // A caller who hangs up mid-recording still sends it here (Digits=hangup): the question opens all the same.
    const step = await takeRecordedQuestion(deps, {
      callSid: form.CallSid,
      from: form.From,
      to: form.To,
      productId: query.product ?? null,
      recordingUrl: form.RecordingUrl,
      seconds: form.RecordingDuration,
    });
    return answer(reply, step);
  });

  app.post("/twilio/voice/connect", { schema: { hide: true } }, async (request, reply) => {
    const form = parseForm(connectForm, request, reply);
    if (!form) return reply;
    return answer(reply, await connectCaller(deps, { from: form.From, to: form.To, digits: form.Digits }));
  });
};
