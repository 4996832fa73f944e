/**
 * The sandbox's own API, for the /sandbox page and for tests: read what
 * each simulated phone received, text or call a platform number from any
 * phone, decide how a phone answers calls and what it says or presses when
 * prompted, end calls, and make status callbacks arrive out of order or twice.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toE164 } from "./e164.js";
import type { MessageDelivery } from "./messaging.js";
import type { SandboxEvent, SandboxState } from "./state.js";
import { TwilioApiError, type PhoneBehavior, type VoiceEngine } from "./voice/engine.js";

const e164 = z.string().transform((value, ctx) => {
  const number = toE164(value);
  if (!number) {
    ctx.addIssue({ code: "custom", message: "must be a phone number in +E.164 form" });
    return z.NEVER;
  }
  return number;
});

const answerMode = z.enum(["answer", "busy", "no-answer", "fail"]);
/** Keys pressed at one prompt, or words said at one (they reach the app as SpeechResult with a Confidence). */
const input = z.union([
  z.object({ digits: z.string().regex(/^[0-9*#]+$/, "keys are 0-9, * and #") }).strict(),
  z.object({ speech: z.string().trim().min(1).max(500), confidence: z.number().min(0).max(1).optional() }).strict(),
]);

const behaviorBody = z.object({
  answer: answerMode.default("answer"),
  inputs: z.array(input).default([]),
  ringSeconds: z.number().int().min(0).max(600).optional(),
  failMessagesWith: z.number().int().nullable().default(null).describe("Twilio error code for messages to this phone, e.g. 30003"),
});

/** Only what is given changes (the page sets one thing at a time). */
const behaviorPatch = z.object({
  answer: answerMode.optional(),
  inputs: z.array(input).max(50).optional(),
  ringSeconds: z.number().int().min(0).max(600).optional(),
  failMessagesWith: z.number().int().nullable().optional(),
});

function phoneInput(entry: z.output<typeof input>): NonNullable<PhoneBehavior["inputs"]>[number] {
  if ("digits" in entry) return { digits: entry.digits };
  return { speech: entry.speech, ...(entry.confidence !== undefined ? { confidence: entry.confidence } : {}) };
}

/** One line of what happened on a call, as the page shows it. */
interface CallLogLine {
  kind: "heard" | "gave" | "conference";
  text: string;
}

/**
 * What each call heard (<Say>, <Play>), gave at its prompts (<Gather>) and
 * which rooms it joined, from the event log (which keeps the last 2000 events:
 * an old call's lines may be gone).
 */
export function callLogs(events: readonly SandboxEvent[]): Map<string, CallLogLine[]> {
  const logs = new Map<string, CallLogLine[]>();
  for (const { kind, detail } of events) {
    const callSid = detail.callSid;
    if (typeof callSid !== "string") continue;
    let line: CallLogLine | undefined;
    if (kind === "call-say") line = { kind: "heard", text: String(detail.text) };
    else if (kind === "call-play") line = { kind: "heard", text: `(audio) ${String(detail.url)}` };
    else if (kind === "call-gather") line = { kind: "gave", text: typeof detail.input === "string" ? detail.input : "(nothing)" };
    else if (kind === "call-conference") line = { kind: "conference", text: `${detail.action === "join" ? "joined" : "left"} ${String(detail.name)}` };
    if (!line) continue;
    const log = logs.get(callSid) ?? [];
    log.push(line);
    logs.set(callSid, log);
  }
  return logs;
}

export function registerPhoneApi(app: FastifyInstance, { state, messaging, voice }: { state: SandboxState; messaging: MessageDelivery; voice: VoiceEngine }) {
  const parse = <T extends z.ZodType>(schema: T, value: unknown): z.output<T> => {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw Object.assign(new Error(result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")), { statusCode: 400 });
    }
    return result.data;
  };

  app.get("/sandbox/api/state", async () => {
    const logs = callLogs(state.events);
    return {
      accountSid: state.accountSid,
      numbers: [...state.numbers.values()].map((number) => ({ phoneNumber: number.phoneNumber, smsUrl: number.smsUrl, voiceUrl: number.voiceUrl })),
      phones: [...state.phones.values()].filter((phone) => !state.numbers.has(phone.number)),
      // Twilio's call resources, with what each leg heard and gave (not a Twilio field: the page's own).
      calls: voice.listCalls().map((call) => ({ ...call, log: logs.get(call.sid) ?? [] })),
      conferences: voice.listConferences(),
      settings: state.settings,
      contractViolations: state.contractViolations,
    };
  });

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
    const { failMessagesWith, ringSeconds, inputs, answer } = parse(behaviorBody, request.body);
    const phone = state.phone(number);
    phone.voice = { answer, inputs: inputs.map(phoneInput), ...(ringSeconds !== undefined ? { ringSeconds } : {}) };
    phone.failWith = failMessagesWith;
    state.changed();
    return phone;
  });

  /** Changes only what the body names; a phone not seen before is created (and appears on the page). */
  app.patch("/sandbox/api/phones/:number/behavior", async (request) => {
    const number = parse(e164, (request.params as { number: string }).number);
    if (state.numbers.has(number)) {
      throw Object.assign(new Error(`${number} is a platform number of this account, not a phone`), { statusCode: 400 });
    }
    const { failMessagesWith, ...patch } = parse(behaviorPatch, request.body ?? {});
    const phone = state.phone(number);
    const voiceBehavior = { ...phone.voice };
    if (patch.answer !== undefined) voiceBehavior.answer = patch.answer;
    if (patch.inputs !== undefined) voiceBehavior.inputs = patch.inputs.map(phoneInput);
    if (patch.ringSeconds !== undefined) voiceBehavior.ringSeconds = patch.ringSeconds;
    // A new object: a call already under way keeps the behaviour it started with.
    phone.voice = voiceBehavior;
    if (failMessagesWith !== undefined) phone.failWith = failMessagesWith;
    state.changed();
    return phone;
  });

  app.post("/sandbox/api/calls/:sid/hangup", async (request) => {
    const { afterSeconds } = parse(z.object({ afterSeconds: z.number().int().min(0).max(86_400).optional() }), request.body ?? {});
    await voice.hangup((request.params as { sid: string }).sid, afterSeconds === undefined ? {} : { afterSeconds });
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
