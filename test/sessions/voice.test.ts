/**
 * Voice sessions through the sandbox's voice engine, in virtual time: the
 * expert is rung first with a whisper and presses 1, the customer is rung
 * and bridged through a conference, both see platform numbers, and the
 * billable seconds are exactly the bridged time, from Twilio's timestamps.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUES } from "../../src/jobs/define.js";
import { CALL_BACK_AFTER_MS } from "../../src/modules/sessions/voice-bridge.js";
import { nextPhone } from "../helpers/factories.js";
import { expertLine, makeReadyExpert } from "../helpers/routing.js";
import type { PhoneBehavior } from "../../src/sandbox/twilio/voice/engine.js";
import { useTelephonyContext, type TelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld, proxyOf, textsFrom, type SessionWorld } from "./session-world.js";

const ctx = useTelephonyContext();
let sessionsQueue: Queue;
let routingQueue: Queue;

beforeAll(() => {
  sessionsQueue = new Queue(QUEUES.sessions, { connection: ctx().deps.redis, prefix: ctx().deps.queuePrefix });
  routingQueue = new Queue(QUEUES.routing, { connection: ctx().deps.redis, prefix: ctx().deps.queuePrefix });
});
afterAll(async () => {
  await sessionsQueue.close();
  await routingQueue.close();
});

/** What a phone's calls said to it, in order. */
function heardBy(context: TelephonyContext, phone: string): string[] {
  const legs = new Set(context.sandbox.voice.listCalls().filter((call) => call.to === phone || call.from === phone).map((call) => call.sid));
  return context.sandbox.state.events.filter((event) => event.kind === "call-say" && legs.has(String(event.detail.callSid))).map((event) => String(event.detail.text));
}

function callsTo(context: TelephonyContext, phone: string) {
  return context.sandbox.voice.listCalls().filter((call) => call.to === phone);
}

/** Runs the delayed jobs of the sessions queue now (a call back two minutes later), then settles. */
async function runDelayedNow(context: TelephonyContext): Promise<void> {
  await context.settle();
  await sessionsQueue.promoteJobs();
  await context.settle();
}

const PRESSES_1: PhoneBehavior = { answer: "answer", inputs: [{ digits: "1" }] };

/**
 * A shop with its expert line, Dan (the first expert) and a customer's phone,
 * set to answer as given (by default Dan presses 1 and the customer picks up).
 */
async function voiceWorld(context: TelephonyContext, phones: { shopName?: string; expert?: PhoneBehavior; customer?: PhoneBehavior } = {}) {
  const world = await makeSessionWorld(context, phones.shopName ? { shopName: phones.shopName } : {});
  const line = await expertLine(context.deps, world.shop.id);
  const expert = world.experts[0]!;
  const customer = nextPhone();
  context.sandbox.state.phone(expert.phone).voice = phones.expert ?? PRESSES_1;
  context.sandbox.state.phone(customer).voice = phones.customer ?? { answer: "answer" };
  return { world, line, expert, customer };
}

async function askByVoice(context: TelephonyContext, world: SessionWorld, customerPhone: string) {
  const response = await context.app.inject({
    method: "POST",
    url: "/v1/questions",
    headers: world.shop.headers,
    payload: { productId: world.product.id, text: "Should I add hot acid water at mash-out?", customer: { phone: customerPhone, name: "Sam Taylor" }, preferredMode: "voice" },
  });
  expect(response.statusCode, response.body).toBe(201);
  await context.settle();
  return response.json<{ id: string }>().id;
}

describe("a voice question", () => {
  it("rings the expert first, bridges the customer after 1, and bills exactly the bridged seconds", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { world, line, expert, customer } = await voiceWorld(context, { shopName: "Brew Barn" });

    const questionId = await askByVoice(context, world, customer);

    expect(textsFrom(context, customer, line)[0]).toMatch(/^Hi Sam! Brew Barn got your question about Grainfather G30\. We're finding an expert to call you back/);
    // The offer is the call: no "Reply YES" text went to the expert.
    expect(textsFrom(context, expert.phone, line).filter((text) => text.includes("YES"))).toEqual([]);
    expect(heardBy(context, expert.phone)).toContain("Question about Grainfather G30 from Sam. Press 1 to take the call, 2 to pass.");
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    expect(session).toMatchObject({ mode: "voice", status: "active", expertId: expert.id });
    const proxy = await proxyOf(context, session.id);

    // Caller ID: the platform's numbers on both legs, never the other person's.
    const [offerCall] = callsTo(context, expert.phone);
    const [customerCall] = callsTo(context, customer);
    expect(offerCall).toMatchObject({ from: line, status: "in-progress" });
    expect(customerCall).toMatchObject({ from: proxy, status: "in-progress" });
    expect(heardBy(context, customer)[0]).toBe("Hi Sam, this is the Brew Barn expert line. Connecting you with Dan, a fellow Grainfather brewer, about your question.");
    const bridge = await deps.prisma.voiceBridge.findFirstOrThrow({ where: { sessionId: session.id } });
    expect(bridge.bridgedAt).toEqual(expect.any(Date));
    expect(bridge.bridgedAt).toEqual(bridge.customerJoinedAt);

    await sandbox.voice.hangup(customerCall!.sid, { afterSeconds: 95 });
    await context.settle();

    const ended = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
    expect(ended).toMatchObject({ status: "ended", endedBy: "customer", endReason: "hangup", durationSeconds: 95, bridgedSeconds: 95, callLiveSince: null });
    expect(await deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: bridge.id } })).toMatchObject({ billableSeconds: 95, endedBy: "customer" });
    // Both legs are down: the expert's ended with the conference.
    expect(sandbox.voice.getCall(offerCall!.sid)?.status).toBe("completed");
    expect(textsFrom(context, customer, proxy).at(-1)).toMatch(/Reply 1-5/);

    await context.text(customer, proxy, "5");
    expect(await deps.prisma.rating.findUnique({ where: { sessionId: session.id } })).toMatchObject({ score: 5 });
    expect(sandbox.state.contractViolations).toEqual([]);
  });

  it("a stray key repeats the question once, then 1 takes it", async () => {
    const context = ctx();
    const { world, expert, customer } = await voiceWorld(context, { expert: { answer: "answer", inputs: [{ digits: "9" }, { digits: "1" }] } });
    const questionId = await askByVoice(context, world, customer);
    const whisper = "Question about Grainfather G30 from Sam. Press 1 to take the call, 2 to pass.";
    expect(heardBy(context, expert.phone).filter((text) => text === whisper)).toHaveLength(2);
    expect(await context.deps.prisma.session.findUniqueOrThrow({ where: { questionId } })).toMatchObject({ expertId: expert.id, status: "active" });
  });

  it("two stray keys are a miss", async () => {
    const { offers } = await firstPassesThenSecondTakes(ctx(), { answer: "answer", inputs: [{ digits: "9" }, { digits: "7" }] });
    expect(offers.map((offer) => offer.status)).toEqual(["expired", "accepted"]);
  });

  it("an expert who presses 2 is skipped, and the next expert takes it", async () => {
    const { questionId, offers, later } = await firstPassesThenSecondTakes(ctx(), { answer: "answer", inputs: [{ digits: "2" }] });
    expect(offers.map((offer) => offer.status)).toEqual(["declined", "accepted"]);
    expect(heardBy(ctx(), offers[0]!.phone)).toContain("No problem, we will ask someone else. Goodbye.");
    const session = await ctx().deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    expect(session).toMatchObject({ expertId: later.id, status: "active", mode: "voice" });
  });

  it("an expert who does not answer is skipped like a missed offer", async () => {
    const { offers } = await firstPassesThenSecondTakes(ctx(), { answer: "no-answer", ringSeconds: 600 });
    expect(offers.map((offer) => offer.status)).toEqual(["expired", "accepted"]);
    expect(await ctx().deps.prisma.expert.findUniqueOrThrow({ where: { id: offers[0]!.expertId } })).toMatchObject({ offersTimedOut: 1, missedOffersInRow: 1 });
  });

  it("an expert who is busy is skipped too", async () => {
    const { offers } = await firstPassesThenSecondTakes(ctx(), { answer: "busy" });
    expect(offers.map((offer) => offer.status)).toEqual(["expired", "accepted"]);
  });
});

/**
 * Dan, alone in the pool, gets the voice offer and behaves as `dan` does;
 * then Ann joins the pool, the search's retry finds her, and she presses 1.
 */
async function firstPassesThenSecondTakes(context: TelephonyContext, dan: PhoneBehavior) {
  const { app, deps, sandbox } = context;
  const world = await makeSessionWorld(context);
  await expertLine(deps, world.shop.id);
  const customer = nextPhone();
  sandbox.state.phone(customer).voice = { answer: "answer" };
  sandbox.state.phone(world.experts[0]!.phone).voice = dan;
  const questionId = await askByVoice(context, world, customer);
  expect(callsTo(context, world.experts[0]!.phone)).toHaveLength(1);
  expect(await deps.prisma.session.findUnique({ where: { questionId } })).toBeNull();

  const later = await makeReadyExpert(app, deps, world.shop, { name: "Ann Malt" });
  const added = await app.inject({ method: "POST", url: `/v1/pools/${world.pool.id}/members`, headers: world.shop.headers, payload: { expertId: later.id } });
  expect(added.statusCode).toBe(201);
  sandbox.state.phone(later.phone).voice = { answer: "answer", inputs: [{ digits: "1" }] };
  await context.settle();
  await routingQueue.promoteJobs();
  await context.settle();
  const offers = await deps.prisma.offer.findMany({ where: { questionId }, orderBy: { createdAt: "asc" }, include: { expert: { select: { phone: true } } } });
  return { questionId, later, offers: offers.map((offer) => ({ ...offer, phone: offer.expert.phone })) };
}

describe("a voice message", () => {
  it("left by a caller who did not speak is played to the expert before the keys", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const world = await makeSessionWorld(context);
    const line = await expertLine(deps, world.shop.id);
    const expert = world.experts[0]!;
    const caller = nextPhone();
    // Says nothing at the prompt: the IVR records a message instead.
    sandbox.state.phone(caller).voice = { answer: "answer" };
    sandbox.state.phone(expert.phone).voice = { answer: "answer", inputs: [{ digits: "2" }] };
    sandbox.voice.placeInboundCall(caller, line);
    await context.settle();
    const question = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: caller } });
    const recording = (question.context as { recordingUrl?: string } | null)?.recordingUrl;
    expect(recording).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
    const [offerCall] = callsTo(context, expert.phone);
    const played = sandbox.state.events.filter((event) => event.kind === "call-play" && event.detail.callSid === offerCall!.sid).map((event) => event.detail.url);
    expect(played).toEqual([recording]);
    expect(heardBy(context, expert.phone)).toContain("Here is the customer's message.");
  });
});

describe("a voice session's customer", () => {
  it("who does not answer is called back once after two minutes, then bridged", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { world, expert, customer } = await voiceWorld(context, { expert: { answer: "answer", inputs: [{ digits: "1" }, { digits: "1" }] }, customer: { answer: "no-answer", ringSeconds: 600 } });
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    expect(callsTo(context, customer).map((call) => call.status)).toEqual(["no-answer"]);
    expect(heardBy(context, expert.phone)).toContain("Sam did not pick up. We will call again in two minutes and ring you when they answer. Goodbye.");
    const callback = await deps.prisma.voiceBridge.findUniqueOrThrow({ where: { name: `vb-${session.id}-callback` } });
    const ring = await sessionsQueue.getJob(`ring-${callback.id}-customer`);
    expect(ring?.delay).toBeGreaterThan(CALL_BACK_AFTER_MS - 10_000);

    // Two minutes later the customer picks up, and the expert is rung into the call with a whisper.
    sandbox.state.phone(customer).voice = { answer: "answer" };
    await runDelayedNow(context);
    expect(callsTo(context, customer).map((call) => call.status).sort()).toEqual(["in-progress", "no-answer"]);
    expect(heardBy(context, expert.phone)).toContain("Sam would like to talk now, about Grainfather G30. Press 1 to take the call, 2 to keep texting.");
    expect(await deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: callback.id } })).toMatchObject({ bridgedAt: expect.any(Date), endedAt: null });
    expect((await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).customerCallAttempts).toBe(2);
  });

  it("who misses the call back too is texted, and the session stays open", async () => {
    const context = ctx();
    const { deps } = context;
    const { world, expert, customer } = await voiceWorld(context, { customer: { answer: "busy" } });
    const questionId = await askByVoice(context, world, customer);
    await runDelayedNow(context);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    const proxy = await proxyOf(context, session.id);
    expect(callsTo(context, customer).map((call) => call.status)).toEqual(["busy", "busy"]);
    expect(textsFrom(context, customer, proxy).at(-1)).toMatch(/we tried to call you twice\. Dan can still help/);
    expect(textsFrom(context, expert.phone, proxy).at(-1)).toMatch(/Sam did not pick up twice/);
    expect(session.status).toBe("active");
    // The conversation goes on by text.
    await context.text(customer, proxy, "Sorry, I was driving. Still there?");
    expect(textsFrom(context, expert.phone, proxy).at(-1)).toBe("Sam: Sorry, I was driving. Still there?");
  });
});

describe("during a voice session", () => {
  it("DONE by text hangs up the live call, and the session ends with the call's seconds", async () => {
    const context = ctx();
    const { deps } = context;
    const { world, customer } = await voiceWorld(context);
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    const proxy = await proxyOf(context, session.id);
    expect(session.callLiveSince).toEqual(expect.any(Date));

    await context.text(customer, proxy, "DONE");
    const ended = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
    expect(ended).toMatchObject({ status: "ended", callLiveSince: null });
    expect(ended.durationSeconds).toBe(ended.bridgedSeconds);
    expect(callsTo(context, customer).map((call) => call.status)).toEqual(["completed"]);
    expect(textsFrom(context, customer, proxy).at(-1)).toMatch(/Reply 1-5/);
  });

  it("a customer who missed the call and calls back is connected, and the scheduled call back rings nobody", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { world, customer } = await voiceWorld(context, { customer: { answer: "no-answer", ringSeconds: 600 } });
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    const proxy = await proxyOf(context, session.id);

    // Sam sees the missed call and rings the number back before the call back is due: we call him
    // right back on the number the session holds, and he is bridged from that call.
    sandbox.state.phone(customer).voice = { answer: "answer" };
    const inbound = sandbox.voice.placeInboundCall(customer, proxy);
    await context.settle();
    expect(heardBy(context, customer)).toContain("Thanks. We will call you right back on this number and connect you with Dan. Goodbye.");
    expect(sandbox.voice.getCall(inbound.sid)?.status).toBe("completed");
    expect(callsTo(context, customer).map((call) => call.status).sort()).toEqual(["in-progress", "no-answer"]);
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ callLiveSince: expect.any(Date) });

    await runDelayedNow(context);
    // The call back that was due rang nobody: Sam is in the middle of the conversation.
    expect(callsTo(context, customer)).toHaveLength(2);
    expect(sandbox.voice.listCalls().filter((call) => call.from === customer)).toHaveLength(1);
  });
});

/** An SMS session already talking (accepted and started), with both phones set to answer as given. */
async function smsSession(context: TelephonyContext, customer: PhoneBehavior = { answer: "answer" }) {
  const world = await makeSessionWorld(context);
  const accepted = await acceptQuestion(context, world);
  await context.settle();
  const proxy = await proxyOf(context, accepted.sessionId);
  context.sandbox.state.phone(accepted.expertPhone).voice = PRESSES_1;
  context.sandbox.state.phone(accepted.customerPhone).voice = customer;
  return { accepted, proxy };
}

describe("an SMS session", () => {
  it("upgrades to a bridged call when either side texts CALL", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { accepted, proxy } = await smsSession(context);

    await context.text(accepted.customerPhone, proxy, "call");
    expect(textsFrom(context, accepted.customerPhone, proxy).at(-1)).toBe("Calling you both now.");
    const [expertCall] = callsTo(context, accepted.expertPhone);
    const [customerCall] = callsTo(context, accepted.customerPhone);
    // Both legs come from the session's number: neither sees the other's.
    expect(expertCall).toMatchObject({ from: proxy, status: "in-progress" });
    expect(customerCall).toMatchObject({ from: proxy, status: "in-progress" });
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: accepted.sessionId } })).toMatchObject({ mode: "voice", callLiveSince: expect.any(Date) });

    // The expert hangs up first, 42 virtual seconds into the call.
    await sandbox.voice.hangup(expertCall!.sid, { afterSeconds: 42 });
    await context.settle();
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: accepted.sessionId } })).toMatchObject({
      status: "ended",
      endedBy: "expert",
      durationSeconds: 42,
    });
  });

  it("calls back a participant who calls the session's number, on the number it holds, and bridges them", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { accepted, proxy } = await smsSession(context);
    const inbound = sandbox.voice.placeInboundCall(accepted.customerPhone, proxy);
    await context.settle();
    expect(sandbox.voice.getCall(inbound.sid)?.status).toBe("completed");
    const [customerCall] = callsTo(context, accepted.customerPhone);
    const [expertCall] = callsTo(context, accepted.expertPhone);
    expect(customerCall).toMatchObject({ from: proxy, status: "in-progress" });
    expect(expertCall).toMatchObject({ from: proxy, status: "in-progress" });
    const bridge = await deps.prisma.voiceBridge.findUniqueOrThrow({ where: { name: `vb-${accepted.sessionId}-in-${inbound.sid}` } });
    expect(bridge.bridgedAt).toEqual(expect.any(Date));
  });

  it("never puts a caller who only shows a participant's number into the conversation", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    // The real customer does not pick up: whoever forged their caller ID is not the one we ring.
    const { accepted, proxy } = await smsSession(context, { answer: "no-answer", ringSeconds: 600 });
    const forged = sandbox.voice.placeInboundCall(accepted.customerPhone, proxy);
    await context.settle();
    expect(sandbox.voice.getCall(forged.sid)?.status).toBe("completed");
    // Nothing bridged, the expert was never rung, and no bridge leg is the forged call.
    expect(callsTo(context, accepted.expertPhone)).toEqual([]);
    const bridges = await deps.prisma.voiceBridge.findMany({ where: { sessionId: accepted.sessionId } });
    expect(bridges.every((bridge) => bridge.bridgedAt === null && bridge.customerCallSid !== forged.sid)).toBe(true);
  });
});

describe("recording and the call-time cap", () => {
  it("records only when the shop turned it on, after both sides heard the notice", async () => {
    const context = ctx();
    const { app, deps, sandbox } = context;
    const world = await makeSessionWorld(context);
    const turnedOn = await app.inject({ method: "PATCH", url: "/v1/shop", headers: world.shop.headers, payload: { recordCalls: true } });
    expect(turnedOn.statusCode, turnedOn.body).toBe(200);
    expect(turnedOn.json()).toMatchObject({ recordCalls: true });
    await expertLine(deps, world.shop.id);
    const expert = world.experts[0]!;
    const customer = nextPhone();
    sandbox.state.phone(expert.phone).voice = { answer: "answer", inputs: [{ digits: "1" }] };
    sandbox.state.phone(customer).voice = { answer: "answer" };
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    const [customerCall] = callsTo(context, customer);
    const [expertCall] = callsTo(context, expert.phone);

    // Each side heard the notice before it entered the conference; recording began when the customer, the second, joined.
    for (const leg of [expertCall!, customerCall!]) {
      const events = sandbox.state.events.filter((event) => event.detail.callSid === leg.sid);
      const notice = events.findIndex((event) => event.kind === "call-say" && event.detail.text === "This call will be recorded. If that is not OK with you, please hang up now.");
      const joined = events.findIndex((event) => event.kind === "call-conference" && event.detail.action === "join");
      expect(notice).toBeGreaterThanOrEqual(0);
      expect(joined).toBeGreaterThan(notice);
    }
    await sandbox.voice.hangup(customerCall!.sid, { afterSeconds: 30 });
    await context.settle();
    const bridge = await deps.prisma.voiceBridge.findFirstOrThrow({ where: { sessionId: session.id } });
    expect(bridge).toMatchObject({ billableSeconds: 30, recordingUrl: expect.stringMatching(/\/Recordings\/RE[0-9a-f]{32}$/) });
    const recorded = sandbox.state.events.filter((event) => event.kind === "call-conference-record");
    expect(recorded.at(-1)?.detail).toMatchObject({ seconds: 30 });
  });

  it("does not record by default, and nobody hears a notice", async () => {
    const context = ctx();
    const { deps, sandbox } = context;
    const { world, customer } = await voiceWorld(context);
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    await sandbox.voice.hangup(callsTo(context, customer)[0]!.sid, { afterSeconds: 10 });
    await context.settle();
    expect(heardBy(context, customer).some((text) => text.includes("recorded"))).toBe(false);
    expect(await deps.prisma.voiceBridge.findFirstOrThrow({ where: { sessionId: session.id } })).toMatchObject({ billableSeconds: 10, recordingUrl: null });
  });

  it("warns both sides a minute before the pool's cap, then ends the call at the cap", async () => {
    const context = ctx();
    const { app, deps, sandbox } = context;
    const world = await makeSessionWorld(context);
    const capped = await app.inject({ method: "PATCH", url: `/v1/pools/${world.pool.id}`, headers: world.shop.headers, payload: { callCapMinutes: 2 } });
    expect(capped.statusCode, capped.body).toBe(200);
    expect(capped.json()).toMatchObject({ callCapMinutes: 2 });
    await expertLine(deps, world.shop.id);
    const expert = world.experts[0]!;
    const customer = nextPhone();
    sandbox.state.phone(expert.phone).voice = { answer: "answer", inputs: [{ digits: "1" }] };
    sandbox.state.phone(customer).voice = { answer: "answer" };
    const questionId = await askByVoice(context, world, customer);
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId } });
    const bridge = await deps.prisma.voiceBridge.findFirstOrThrow({ where: { sessionId: session.id } });
    const warn = await sessionsQueue.getJob(`call-cap-warn-${bridge.id}`);
    const end = await sessionsQueue.getJob(`call-cap-end-${bridge.id}`);
    // Scheduled from Twilio's bridge time: the warning at 60 s, the end at 120 s.
    expect(warn?.timestamp !== undefined && end?.timestamp !== undefined).toBe(true);
    expect((end!.timestamp + end!.delay) - (warn!.timestamp + warn!.delay)).toBe(60_000);

    await warn!.promote();
    await context.settle();
    expect(heardBy(context, customer)).toContain("One minute left on this call.");
    expect(heardBy(context, expert.phone)).toContain("One minute left on this call.");

    // Nobody hangs up: Twilio's time limit ends the call at the cap exactly.
    await sandbox.voice.hangup(callsTo(context, customer)[0]!.sid, { afterSeconds: 3600 });
    await context.settle();
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ status: "ended", durationSeconds: 120 });
  });
});
