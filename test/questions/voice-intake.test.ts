/**
 * Calling the expert line, through the sandbox's voice engine: the IVR
 * (product by key or by name, the question by speech, a recording when
 * speech fails) opens a voice question, the status link arrives by SMS and
 * routing starts; a caller with an open question hears where it stands and
 * can press 1 to reach the expert; experts hear their status or join their
 * session; anything wrong is a sentence and a hang-up.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { makeProduct, makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { signedTwilioWebhook } from "../helpers/signed-webhook.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld } from "../sessions/session-world.js";

const ctx = useTelephonyContext();
const BASE = "http://expertline.test";
const QUESTION = "Should I add hot acid water at mash-out?";
const signed = signedTwilioWebhook;

interface World {
  shop: TestShop;
  line: string;
  g30: { id: string };
  kettle: { id: string };
  expert: { id: string; phone: string };
}
let world: World;

/** A shop with two products, a pool for the G30 and one ready expert, as customers find it. */
async function makeShopWithLine(name: string): Promise<World> {
  const { app, deps } = ctx();
  const shop = await makeShop(app, name);
  const routing = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Dan Brewer" }] });
  const kettle = await makeProduct(app, shop, { name: "10 gallon brew kettle", aliases: ["kettle"], tags: ["kettles"] });
  return { shop, line: await expertLine(deps, shop.id), g30: routing.product, kettle, expert: routing.experts[0]! };
}

beforeAll(async () => {
  world = await makeShopWithLine("Malt House");
});

/** Places a call from a simulated phone with the given answers to the prompts, and lets everything run. */
async function call(from: string, to: string, inputs: ({ digits: string } | { speech: string; confidence?: number })[]) {
  const { sandbox, settle } = ctx();
  sandbox.state.phone(from).voice = { answer: "answer", inputs };
  const placed = sandbox.voice.placeInboundCall(from, to);
  await settle();
  return placed.sid;
}

/** What the caller heard, in order. */
function heard(callSid: string): string[] {
  return ctx()
    .sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === callSid)
    .map((event) => String(event.detail.text));
}

function errorsOf(callSid: string): unknown[] {
  return ctx().sandbox.state.events.filter((event) => event.kind === "call-error" && event.detail.callSid === callSid);
}

async function questionsOf(phone: string) {
  return ctx().deps.prisma.question.findMany({ where: { customerPhone: phone }, orderBy: { id: "asc" } });
}

describe("a customer calls in with a question", () => {
  it("picks the product by key, asks by speech, and the question opens by voice with the status link texted", async () => {
    const { deps, inbox, sandbox } = ctx();
    const caller = nextPhone();
    const sid = await call(caller, world.line, [{ digits: "1" }, { speech: QUESTION, confidence: 0.91 }]);

    expect(heard(sid)).toEqual([
      "Thanks for calling the Malt House expert line.",
      "Which product is your question about? For the Grainfather G30, press 1. For the 10 gallon brew kettle, press 2. Or say the product's name.",
      "Please ask your question about the Grainfather G30 in a few sentences.",
      // The pool's 120 s offers: two windows, as routing estimates.
      "Thanks. An expert will call you back within about 4 minutes; we'll text you updates. Goodbye.",
    ]);
    expect(sandbox.voice.getCall(sid)).toMatchObject({ status: "completed" });
    expect(errorsOf(sid)).toEqual([]);

    const [question, ...more] = await questionsOf(caller);
    expect(more).toEqual([]);
    expect(question).toMatchObject({
      shopId: world.shop.id,
      channel: "voice",
      preferredMode: "voice",
      body: QUESTION,
      productId: world.g30.id,
      tags: ["all-grain"],
      customerName: null,
      context: { source: "a phone call", speechConfidence: 0.91 },
    });
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ questionId: question!.id, direction: "inbound", from: caller });
    expect(inbox(caller)[0]).toMatch(
      new RegExp(`^Hi there! Malt House got your question about Grainfather G30\\. .* Follow along: ${BASE}/q/${question!.statusToken}$`),
    );
    // Routing started as for any question: the pool's expert was offered it.
    expect(await deps.prisma.offer.findMany({ where: { questionId: question!.id }, select: { expertId: true } })).toEqual([{ expertId: world.expert.id }]);
    expect(sandbox.state.contractViolations).toEqual([]);
  });

  it("picks the product by its spoken name", async () => {
    const caller = nextPhone();
    const sid = await call(caller, world.line, [{ speech: "It's about my kettle." }, { speech: "The ball valve drips when it's hot." }]);
    expect(heard(sid)).toContain("Please ask your question about the 10 gallon brew kettle in a few sentences.");
    const [question] = await questionsOf(caller);
    expect(question).toMatchObject({ productId: world.kettle.id, body: "The ball valve drips when it's hot.", channel: "voice", tags: ["kettles"] });
  });

  it("asks once more on a miss, then goes on without a product (no pool for it here: no minutes promised)", async () => {
    const caller = nextPhone();
    const sid = await call(caller, world.line, [{ speech: "the thing with the hose" }, { digits: "9" }, { speech: QUESTION }]);
    const said = heard(sid);
    expect(said.filter((line) => line.startsWith("Which product is your question about?"))).toHaveLength(2);
    expect(said).toContain("Sorry, I didn't get that.");
    expect(said).toContain("No problem, we'll find the right expert for you.");
    expect(said).toContain("Please ask your question in a few sentences.");
    // Its only pool lists the G30: no shop-wide pool, so no estimate to give.
    expect(said.at(-1)).toBe("Thanks. An expert will call you back as soon as one is free; we'll text you updates. Goodbye.");
    const [question] = await questionsOf(caller);
    expect(question).toMatchObject({ productId: null, poolId: null, tags: [], body: QUESTION, status: expect.stringMatching(/^(routing|offered)$/) });
  });

  it("a shop with one product skips the menu", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app, "One Kettle Shop");
    const { product } = await makeRoutingWorld(app, deps, shop, { product: { name: "Anvil Foundry" } });
    const line = await expertLine(deps, shop.id);
    const caller = nextPhone();
    const sid = await call(caller, line, [{ speech: QUESTION }]);
    expect(heard(sid)).toEqual([
      "Thanks for calling the One Kettle Shop expert line.",
      "Please ask your question about the Anvil Foundry in a few sentences.",
      "Thanks. An expert will call you back within about 4 minutes; we'll text you updates. Goodbye.",
    ]);
    expect(await questionsOf(caller)).toEqual([expect.objectContaining({ productId: product.id, body: QUESTION, channel: "voice" })]);
  });
});

describe("the recording fallback", () => {
  it("a transcript too unsure to route asks for a recording, which becomes the question", async () => {
    const caller = nextPhone();
    const sid = await call(caller, world.line, [{ digits: "2" }, { speech: "mmf hrm", confidence: 0.05 }]);
    const said = heard(sid);
    expect(said).toContain("Sorry, I didn't catch that. Please leave your question after the beep, then press the pound key or hang up.");
    // No pool lists the kettle and the shop has no shop-wide pool: no minutes promised.
    expect(said.at(-1)).toBe("Thanks. An expert will call you back as soon as one is free; we'll text you updates. Goodbye.");
    const recorded = ctx().sandbox.state.events.find((event) => event.kind === "call-record" && event.detail.callSid === sid);
    const [question] = await questionsOf(caller);
    // The sandbox's callers talk for 5 virtual seconds.
    expect(question).toMatchObject({
      productId: world.kettle.id,
      body: "Voice message (5 s)",
      channel: "voice",
      context: { source: "a phone call", recordingUrl: recorded?.detail.recordingUrl, recordingSeconds: 5 },
    });
    expect(String(recorded?.detail.recordingUrl)).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
  });

  it("a caller who says nothing to the menu and the question is recorded too", async () => {
    const caller = nextPhone();
    const sid = await call(caller, world.line, []);
    const said = heard(sid);
    expect(said.filter((line) => line.startsWith("Which product"))).toHaveLength(2);
    expect(said).toContain("Sorry, I didn't catch that. Please leave your question after the beep, then press the pound key or hang up.");
    expect(errorsOf(sid)).toEqual([]);
    expect(await questionsOf(caller)).toEqual([expect.objectContaining({ productId: null, body: "Voice message (5 s)" })]);
  });
});

describe("retried actions", () => {
  it("Twilio retrying the question's action (same CallSid), even at the same moment, opens one question and sends one text", async () => {
    const { app, deps, settle, inbox } = ctx();
    const caller = nextPhone();
    const params = { CallSid: `CA${"1a".repeat(16)}`, From: caller, To: world.line, CallStatus: "in-progress", SpeechResult: QUESTION, Confidence: "0.8" };
    const path = `/twilio/voice/question?product=${world.g30.id}`;
    const answers = await Promise.all([app.inject(signed(path, params)), app.inject(signed(path, params))]);
    const again = await app.inject(signed(path, params));
    await settle();
    for (const answer of [...answers, again]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.headers["content-type"]).toMatch(/^text\/xml/);
      expect(answer.body).toBe(answers[0].body);
    }
    expect(answers[0].body).toContain("An expert will call you back within about 4 minutes");
    expect(await questionsOf(caller)).toHaveLength(1);
    expect(inbox(caller).filter((text) => text.includes("got your question"))).toHaveLength(1);
    expect(await deps.prisma.message.count({ where: { to: caller, purpose: "question_received" } })).toBe(1);
  });

  it("and the recording's action likewise", async () => {
    const { app } = ctx();
    const caller = nextPhone();
    const params = {
      CallSid: `CA${"2b".repeat(16)}`,
      From: caller,
      To: world.line,
      CallStatus: "completed",
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/AC${"0".repeat(32)}/Recordings/RE${"3c".repeat(16)}`,
      RecordingDuration: "42",
      Digits: "hangup",
    };
    const first = await app.inject(signed("/twilio/voice/recording", params));
    const second = await app.inject(signed("/twilio/voice/recording", params));
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.body).toBe(first.body);
    expect(await questionsOf(caller)).toEqual([expect.objectContaining({ body: "Voice message (42 s)", productId: null, context: expect.objectContaining({ recordingSeconds: 42 }) })]);
  });
});

describe("a caller with an open question", () => {
  it("hears where it stands instead of the menu, and nothing new opens", async () => {
    const caller = nextPhone();
    await call(caller, world.line, [{ digits: "1" }, { speech: QUESTION }]);
    const sid = await call(caller, world.line, [{ digits: "1" }]);
    // The rest is the status page's "next", which depends on how the search goes.
    expect(heard(sid)).toEqual([expect.stringMatching(/^You have a question open with Malt House\. Looking for a Grainfather G30 expert\. \S/), "Goodbye."]);
    expect(await questionsOf(caller)).toHaveLength(1);
  });

  it("with a session open: first names only, and 1 goes to the session's bridge", async () => {
    const { deps, fakeRoutes, app } = ctx();
    const sessionWorld = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Maya Lind" }] });
    const accepted = await acceptQuestion(ctx(), sessionWorld);
    await ctx().settle();
    const line = await expertLine(deps, sessionWorld.shop.id);
    // Voice sessions' route (the lead's): a stand-in that proves the call got there.
    fakeRoutes.set(`/twilio/voice/sessions/${accepted.sessionId}/connect`, "<Response><Say>Bridge for the session</Say><Hangup/></Response>");

    const sid = await call(accepted.customerPhone, line, [{ digits: "1" }]);
    const said = heard(sid);
    expect(said[0]).toMatch(/^You have a question open with Brew Barn\. /);
    expect(said).toContain("Press 1 to be connected to Maya.");
    expect(said.at(-1)).toBe("Bridge for the session");
    expect(said.join(" ")).not.toMatch(/Lind|\d{4}/);

    const direct = await app.inject(signed("/twilio/voice/connect", { CallSid: `CA${"4d".repeat(16)}`, From: accepted.customerPhone, To: line, CallStatus: "in-progress", Digits: "1" }));
    expect(direct.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${BASE}/twilio/voice/sessions/${accepted.sessionId}/connect</Redirect></Response>`,
    );
    const other = await app.inject(signed("/twilio/voice/connect", { CallSid: `CA${"4d".repeat(16)}`, From: accepted.customerPhone, To: line, CallStatus: "in-progress", Digits: "2" }));
    expect(other.body).toContain("<Say>Goodbye.</Say><Hangup/>");

    // Once the session is over, 1 says so.
    await deps.prisma.session.update({ where: { id: accepted.sessionId }, data: { status: "ended", endedAt: new Date() } });
    const late = await app.inject(signed("/twilio/voice/connect", { CallSid: `CA${"4d".repeat(16)}`, From: accepted.customerPhone, To: line, CallStatus: "in-progress", Digits: "1" }));
    expect(late.body).toContain("That conversation has ended. Goodbye.");
  });
});

describe("an expert calls the line", () => {
  it("with an open session: straight to its bridge", async () => {
    const { deps, fakeRoutes } = ctx();
    const sessionWorld = await makeSessionWorld(ctx(), { shopName: "Hop Loft", experts: [{ name: "Ivo" }] });
    const accepted = await acceptQuestion(ctx(), sessionWorld);
    await ctx().settle();
    const line = await expertLine(deps, sessionWorld.shop.id);
    fakeRoutes.set(`/twilio/voice/sessions/${accepted.sessionId}/connect`, "<Response><Say>Expert bridge</Say><Hangup/></Response>");
    const sid = await call(accepted.expertPhone, line, []);
    expect(heard(sid)).toEqual(["Expert bridge"]);
  });

  it("without one: their availability, as STATUS says it, and goodbye", async () => {
    const { deps } = ctx();
    // Offers to Dan from the calls above may have paused him (missed in a row): start from available.
    await deps.prisma.expert.update({ where: { id: world.expert.id }, data: { paused: false, missedOffersInRow: 0 } });
    const sid = await call(world.expert.phone, world.line, []);
    expect(heard(sid)).toEqual([
      expect.stringMatching(/^Hi Dan! You're available: questions come to you by text\. Text OFF to pause\.( You have \d+ open offers? by text\.)? Goodbye\.$/),
    ]);
    await deps.prisma.expert.update({ where: { id: world.expert.id }, data: { paused: true } });
    const paused = await call(world.expert.phone, world.line, []);
    expect(heard(paused)[0]).toMatch(/^Hi Dan! You're paused: no questions come to you until you text ON to this number\./);
    await deps.prisma.expert.update({ where: { id: world.expert.id }, data: { paused: false } });
    expect(await questionsOf(world.expert.phone)).toEqual([]);
  });
});

describe("a call to a session's proxy number", () => {
  it("puts a participant through to the session, and tells others the number is not in service", async () => {
    const { deps, fakeRoutes } = ctx();
    const sessionWorld = await makeSessionWorld(ctx(), { shopName: "Proxy Cellar", experts: [{ name: "Lea" }] });
    const accepted = await acceptQuestion(ctx(), sessionWorld);
    await ctx().settle();
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { id: accepted.sessionId }, include: { proxyNumber: true } });
    const proxy = session.proxyNumber?.e164;
    if (!proxy) throw new Error("the session has no proxy number");
    fakeRoutes.set(`/twilio/voice/sessions/${accepted.sessionId}/connect`, "<Response><Say>Proxy bridge</Say><Hangup/></Response>");
    expect(heard(await call(accepted.customerPhone, proxy, []))).toEqual(["Proxy bridge"]);
    expect(heard(await call(accepted.expertPhone, proxy, []))).toEqual(["Proxy bridge"]);
    expect(heard(await call(nextPhone(), proxy, []))).toEqual(["Sorry, this number is not in service. Goodbye."]);
    await deps.prisma.session.update({ where: { id: accepted.sessionId }, data: { status: "ended", endedAt: new Date() } });
    expect(heard(await call(accepted.customerPhone, proxy, []))).toEqual(["That conversation has ended. Goodbye."]);
  });
});

describe("anything wrong is a sentence and a hang-up, with nothing written", () => {
  async function nothingFor(phone: string) {
    const { deps } = ctx();
    expect(await questionsOf(phone)).toEqual([]);
    expect(await deps.prisma.shopCustomer.count({ where: { phone } })).toBe(0);
    expect(await deps.prisma.message.count({ where: { to: phone } })).toBe(0);
  }

  it("a number that is not an expert line", async () => {
    const caller = nextPhone();
    const answer = await ctx().app.inject(signed("/twilio/voice", { CallSid: `CA${"5e".repeat(16)}`, From: caller, To: "+14155550999", CallStatus: "ringing" }));
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, this number is not in service. Goodbye.</Say><Hangup/></Response>');
    await nothingFor(caller);
  });

  it("a withheld caller ID", async () => {
    const sid = await call("anonymous", world.line, [{ digits: "1" }, { speech: QUESTION }]);
    expect(heard(sid)).toEqual(["Sorry, we can only take a question from a number we can call back. Please call again without hiding your number. Goodbye."]);
    // Other shapes carriers give a withheld number.
    for (const from of ["+266696687", "Restricted", ""]) {
      const answer = await ctx().app.inject(signed("/twilio/voice", { CallSid: `CA${"6f".repeat(16)}`, From: from, To: world.line, CallStatus: "ringing" }));
      expect(answer.body).toMatch(/<Say>Sorry, we can only take a question from a number we can call back\. .*<\/Say><Hangup\/><\/Response>$/);
    }
    expect(await ctx().deps.prisma.question.count({ where: { customerPhone: { in: ["anonymous", "+266696687", "Restricted", ""] } } })).toBe(0);
  });

  it("a shop that is not active", async () => {
    const { deps } = ctx();
    const closed = await makeShopWithLine("Closed Cellar");
    await deps.prisma.shop.update({ where: { id: closed.shop.id }, data: { status: "suspended" } });
    const caller = nextPhone();
    const sid = await call(caller, closed.line, [{ digits: "1" }, { speech: QUESTION }]);
    expect(heard(sid)).toEqual(["Sorry, the Closed Cellar expert line is not taking calls right now. Goodbye."]);
    await nothingFor(caller);
  });

  it("a number from a country the shop does not serve", async () => {
    const caller = "+447400123456";
    const sid = await call(caller, world.line, [{ digits: "1" }, { speech: QUESTION }]);
    expect(heard(sid)).toEqual(["Sorry, the Malt House expert line cannot take questions from this number. Goodbye."]);
    await nothingFor(caller);
  });

  it("a shop past its daily cap of new numbers: refused when the question would open, nothing half-written", async () => {
    const { deps } = ctx();
    const capped = await makeShopWithLine("Capped Cellar");
    await deps.prisma.shop.update({ where: { id: capped.shop.id }, data: { dailyNewCustomerCap: 0 } });
    const caller = nextPhone();
    const sid = await call(caller, capped.line, [{ digits: "1" }, { speech: QUESTION }]);
    expect(heard(sid).at(-1)).toBe("Sorry, the Capped Cellar expert line cannot take more questions from this number right now. Please try again later. Goodbye.");
    await nothingFor(caller);
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ questionId: null });
  });

  it("a caller who opted out of the line's texts is not promised texts", async () => {
    const { deps } = ctx();
    const caller = nextPhone();
    await deps.prisma.optOut.create({ data: { phone: caller, platformNumber: world.line } });
    const sid = await call(caller, world.line, [{ digits: "1" }, { speech: QUESTION }]);
    expect(heard(sid).at(-1)).toBe("Thanks. An expert will call you back within about 4 minutes. Goodbye.");
    expect(await questionsOf(caller)).toHaveLength(1);
  });
});

describe("requests that are not Twilio's", () => {
  it.each(["/twilio/voice", "/twilio/voice/product", "/twilio/voice/question", "/twilio/voice/recording", "/twilio/voice/connect"])(
    "%s without a signature is 403, with a form lacking CallSid 400",
    async (path) => {
      const { app } = ctx();
      const unsigned = await app.inject({ method: "POST", url: path, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "CallSid=CA" + "0".repeat(32) });
      expect(unsigned.statusCode).toBe(403);
      const bad = await app.inject(signed(path, { From: nextPhone(), To: world.line }));
      expect(bad.statusCode).toBe(400);
      expect(bad.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(bad.json()).toMatchObject({ errors: [{ path: "body.CallSid" }] });
    },
  );

  it.each([
    ["/twilio/voice/question?product=not-a-product", "query.product"],
    ["/twilio/voice/recording?product=1", "query.product"],
    ["/twilio/voice/product?attempt=9", "query.attempt"],
    ["/twilio/voice/product?attempt=x", "query.attempt"],
  ])("%s is a 400 naming %s", async (path, field) => {
    const caller = nextPhone();
    const answer = await ctx().app.inject(signed(path, { CallSid: `CA${"7a".repeat(16)}`, From: caller, To: world.line, CallStatus: "in-progress", SpeechResult: QUESTION }));
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ errors: [{ path: field }] });
    expect(await questionsOf(caller)).toEqual([]);
  });

  it("an out-of-range Confidence is no score, not a failed call", async () => {
    const caller = nextPhone();
    const answer = await ctx().app.inject(
      signed(`/twilio/voice/question?product=${world.g30.id}`, { CallSid: `CA${"8b".repeat(16)}`, From: caller, To: world.line, CallStatus: "in-progress", SpeechResult: QUESTION, Confidence: "NaN" }),
    );
    expect(answer.statusCode).toBe(200);
    expect(await questionsOf(caller)).toEqual([expect.objectContaining({ body: QUESTION, context: { source: "a phone call" } })]);
  });
});
