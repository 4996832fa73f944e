/**
 * The sandbox's own API, for the /sandbox page and for tests: read what
 * each simulated phone received, text or call a platform number from any
 * phone, decide how a phone answers calls, end calls, and make status
 * callbacks arrive out of order or twice.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toE164 } from "./e164.js";
import type { MessageDelivery } from "./messaging.js";
import type { SandboxState } from "./state.js";
import { TwilioApiError, type VoiceEngine } from "./voice/engine.js";

const e164 = z.string().transform((value, ctx) => {
  const number = toE164(value);
  if (!number) {
    ctx.addIssue({ code: "custom", message: "must be a phone number in +E.164 form" });
    return z.NEVER;
  }
  return number;
});

const behaviorBody = z.object({
  answer: z.enum(["answer", "busy", "no-answer", "fail"]).default("answer"),
  inputs: z.array(z.union([z.object({ digits: z.string().regex(/^[0-9*#]+$/) }), z.object({ speech: z.string().min(1) })])).default([]),
  ringSeconds: z.number().int().min(0).max(600).optional(),
  failMessagesWith: z.number().int().nullable().default(null).describe("Twilio error code for messages to this phone, e.g. 30003"),
});

export function registerPhoneApi(app: FastifyInstance, { state, messaging, voice }: { state: SandboxState; messaging: MessageDelivery; voice: VoiceEngine }) {
  const parse = <T extends z.ZodType>(schema: T, value: unknown): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw Object.assign(new Error(result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")), { statusCode: 400 });
    }
    return result.data;
  };

  app.get("/sandbox/api/state", async () => ({
    accountSid: state.accountSid,
    numbers: [...state.numbers.values()].map((number) => ({ phoneNumber: number.phoneNumber, smsUrl: number.smsUrl, voiceUrl: number.voiceUrl })),
    phones: [...state.phones.values()].filter((phone) => !state.numbers.has(phone.number)),
    calls: voice.listCalls(),
    settings: state.settings,
    contractViolations: state.contractViolations,
  }));

  app.get("/sandbox/api/phones/:number/messages", async (request) => {
    const number = parse(e164, (request.params as { number: string }).number);
    return { number, messages: state.phones.get(number)?.messages ?? [] };
  });

  app.post("/sandbox/api/phones/:number/sms", async (request) => {
    const from = parse(e164, (request.params as { number: string }).number);
    const { to, body } = parse(z.object({ to: e164, body: z.string().min(1).max(1600) }), request.body);
    return messaging.receive(from, to, body);
  });

  app.post("/sandbox/api/phones/:number/calls", async (request, reply) => {
    const from = parse(e164, (request.params as { number: string }).number);
    const { to } = parse(z.object({ to: e164 }), request.body);
    try {
      return reply.code(201).send(voice.placeInboundCall(from, to));
    } catch (error) {
      if (error instanceof TwilioApiError) return reply.code(error.status).send({ code: error.code, message: error.message });
      throw error;
    }
  });

  app.put("/sandbox/api/phones/:number/behavior", async (request) => {
    const number = parse(e164, (request.params as { number: string }).number);
    const { failMessagesWith, ringSeconds, ...voiceBehavior } = parse(behaviorBody, request.body);
    const phone = state.phone(number);
    phone.voice = { ...voiceBehavior, ...(ringSeconds !== undefined ? { ringSeconds } : {}) };
    phone.failWith = failMessagesWith;
    state.changed();
    return phone;
  });

  app.post("/sandbox/api/calls/:sid/hangup", async (request) => {
    const { afterSeconds } = parse(z.object({ afterSeconds: z.number().int().min(0).max(86_400).default(0) }), request.body ?? {});
    await voice.hangup((request.params as { sid: string }).sid, { afterSeconds });
    return voice.getCall((request.params as { sid: string }).sid);
  });

  app.put("/sandbox/api/settings", async (request) => {
    const settings = parse(
      z.object({ callbackOrder: z.enum(["in-order", "reversed", "duplicated"]).optional(), autoReplies: z.boolean().optional() }),
      request.body,
    );
    Object.assign(state.settings, settings);
    return state.settings;
  });

  app.post("/sandbox/api/faults", async (request) => {
    const fault = parse(
      z.object({
        status: z.number().int().min(400).max(599),
        code: z.number().int().default(20500),
        message: z.string().default("Injected failure"),
        count: z.number().int().min(1).max(100).default(1),
      }),
      request.body,
    );
    state.faults.push(fault);
    return state.faults;
  });

  app.get("/sandbox/api/events", async () => state.events.slice(-200));
}
