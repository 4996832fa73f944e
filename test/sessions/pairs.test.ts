/**
 * Routing by the pair (sender, proxy number), as Twilio Proxy does: one
 * person in two conversations at once never has them crossed, proxy numbers
 * are bought when none fits, and replays (a webhook sent twice, a worker
 * killed and its job run again) relay and send everything once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { JobContext } from "../../src/jobs/define.js";
import { sessionJobs, START_SESSION } from "../../src/modules/sessions/jobs.js";
import { handleProxyText } from "../../src/modules/sessions/relay.js";
import { startSession } from "../../src/modules/sessions/start.js";
import { nextPhone } from "../helpers/factories.js";
import { signedTwilioWebhook } from "../helpers/signed-webhook.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld, proxyOf, textsFrom, type SessionWorld } from "./session-world.js";

const ctx = useTelephonyContext();
let brewBarn: SessionWorld;
let maltHouse: SessionWorld;

beforeAll(async () => {
  brewBarn = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Dan Brewer", maxConcurrentSessions: 2 }] });
  maltHouse = await makeSessionWorld(ctx(), { shopName: "Malt House", experts: [{ name: "Ann Maltster" }, { name: "Joe Hops" }], expertNoun: "malt nerd" });
  await ctx().settle();
});

const proxyCount = () => ctx().deps.prisma.phoneNumber.count({ where: { purpose: "proxy" } });
const noRetry: JobContext = {
  jobId: "test",
  attempt: 1,
  delayUntil: () => Promise.reject(new Error("not expected to wait")),
  rateLimited: () => Promise.reject(new Error("not expected to be rate limited")),
};

describe("one person in two conversations at once", () => {
  it("a customer talking to two shops' experts gets two proxy numbers, and each reply reaches its own expert", async () => {
    const { text } = ctx();
    const customer = nextPhone();
    const first = await acceptQuestion(ctx(), brewBarn, { customerPhone: customer });
    const second = await acceptQuestion(ctx(), maltHouse, { customerPhone: customer, expert: maltHouse.experts[0]! });
    await ctx().settle();
    const brewProxy = await proxyOf(ctx(), first.sessionId);
    const maltProxy = await proxyOf(ctx(), second.sessionId);
    expect(brewProxy).not.toBe(maltProxy);
    expect(textsFrom(ctx(), customer, brewProxy)).toEqual([expect.stringMatching(/^Brew Barn: Dan, a fellow Grainfather brewer,/)]);
    expect(textsFrom(ctx(), customer, maltProxy)).toEqual([expect.stringMatching(/^Malt House: Ann, a fellow malt nerd,/)]);

    await text(customer, brewProxy, "for Dan: mash question");
    await text(customer, maltProxy, "for Ann: malt question");
    await text(first.expertPhone, brewProxy, "Dan here");
    await text(second.expertPhone, maltProxy, "Ann here");
    expect(textsFrom(ctx(), first.expertPhone, brewProxy).slice(1)).toEqual(["Sam: for Dan: mash question"]);
    expect(textsFrom(ctx(), second.expertPhone, maltProxy).slice(1)).toEqual(["Sam: for Ann: malt question"]);
    expect(textsFrom(ctx(), customer, brewProxy).slice(1)).toEqual(["Dan: Dan here"]);
    expect(textsFrom(ctx(), customer, maltProxy).slice(1)).toEqual(["Ann: Ann here"]);

    // Ending one leaves the other going.
    await text(customer, maltProxy, "DONE");
    await text(customer, brewProxy, "still there?");
    expect(textsFrom(ctx(), first.expertPhone, brewProxy).at(-1)).toBe("Sam: still there?");
    const sessions = await ctx().deps.prisma.session.findMany({ where: { id: { in: [first.sessionId, second.sessionId] } }, orderBy: { createdAt: "asc" } });
    expect(sessions.map((session) => session.status)).toEqual(["active", "ended"]);
  });

  it("an expert in two sessions at once (maxConcurrentSessions 2) talks to each customer on its own number", async () => {
    const { text } = ctx();
    const expert = brewBarn.experts[0]!;
    const [ann, bob] = await Promise.all([
      acceptQuestion(ctx(), brewBarn, { customerName: "Ann" }),
      acceptQuestion(ctx(), brewBarn, { customerName: "Bob" }),
    ]);
    await ctx().settle();
    const annProxy = await proxyOf(ctx(), ann.sessionId);
    const bobProxy = await proxyOf(ctx(), bob.sessionId);
    expect(annProxy).not.toBe(bobProxy);
    await text(expert.phone, annProxy, "Hi Ann");
    await text(expert.phone, bobProxy, "Hi Bob");
    expect(textsFrom(ctx(), ann.customerPhone, annProxy).at(-1)).toBe("Dan: Hi Ann");
    expect(textsFrom(ctx(), bob.customerPhone, bobProxy).at(-1)).toBe("Dan: Hi Bob");
    expect(textsFrom(ctx(), ann.customerPhone, bobProxy)).toEqual([]);
    expect(textsFrom(ctx(), bob.customerPhone, annProxy)).toEqual([]);
    await text(ann.customerPhone, annProxy, "Hi Dan, Ann here");
    expect(textsFrom(ctx(), expert.phone, annProxy).at(-1)).toBe("Ann: Hi Dan, Ann here");
    expect(textsFrom(ctx(), expert.phone, bobProxy).some((body) => body.includes("Ann here"))).toBe(false);
  });
});

describe("proxy numbers", () => {
  it("are bought on need, only as many as the pairs need, and shared by pairs that do not overlap", async () => {
    const { deps, sandbox, settle } = ctx();
    const ann = maltHouse.experts[0]!;
    const joe = maltHouse.experts[1]!;
    const owned = await proxyCount();
    // Ann at once with one customer more than there are numbers: one number must be bought, and only one.
    const sessions = await Promise.all(Array.from({ length: owned + 1 }, () => acceptQuestion(ctx(), maltHouse, { expert: ann })));
    await settle();
    const proxies = await Promise.all(sessions.map((session) => proxyOf(ctx(), session.sessionId)));
    expect(new Set(proxies).size).toBe(owned + 1);
    expect(await proxyCount()).toBe(owned + 1);

    // Someone else entirely fits on a number already owned.
    const other = await acceptQuestion(ctx(), maltHouse, { expert: joe });
    await settle();
    expect(proxies).toContain(await proxyOf(ctx(), other.sessionId));
    expect(await proxyCount()).toBe(owned + 1);

    // Every number was bought from Twilio (the sandbox), pointed at our SMS webhook.
    for (const proxy of await deps.prisma.phoneNumber.findMany({ where: { purpose: "proxy" } })) {
      expect(proxy.twilioSid).toMatch(/^PN/);
      expect(sandbox.state.numbers.get(proxy.e164)?.smsUrl).toBe("http://expertline.test/twilio/sms");
    }
  });

  it("two starts at once that share both participants never put them on one number twice", async () => {
    const { deps, settle } = ctx();
    const customer = nextPhone();
    const sessions = await Promise.all([
      acceptQuestion(ctx(), brewBarn, { customerPhone: customer }),
      acceptQuestion(ctx(), brewBarn, { customerPhone: customer }),
    ]);
    // The workers start them from the outbox while this starts them too.
    await Promise.all(sessions.map((session) => startSession(deps, session.sessionId)));
    await settle();
    const proxies = await Promise.all(sessions.map((session) => proxyOf(ctx(), session.sessionId)));
    expect(new Set(proxies).size).toBe(2);
    for (const proxy of proxies) expect(textsFrom(ctx(), customer, proxy)).toHaveLength(1);
  });
});

describe("replays", () => {
  it("a webhook delivered twice is relayed once", async () => {
    const { app, deps, settle } = ctx();
    const session = await acceptQuestion(ctx(), maltHouse);
    await settle();
    const proxy = await proxyOf(ctx(), session.sessionId);
    const webhook = signedTwilioWebhook("/twilio/sms", { MessageSid: `SM${"ab".repeat(16)}`, From: session.customerPhone, To: proxy, Body: "is it the crush?" });
    expect((await app.inject(webhook)).statusCode).toBe(200);
    expect((await app.inject(webhook)).statusCode).toBe(200);
    await settle();
    expect(textsFrom(ctx(), session.expertPhone, proxy).filter((body) => body === "Sam: is it the crush?")).toHaveLength(1);
    expect(await deps.prisma.message.count({ where: { sessionId: session.sessionId, purpose: "relay" } })).toBe(1);
  });

  it("a worker killed after its work committed runs the job again and sends nothing twice", async () => {
    const { deps, text, settle } = ctx();
    const session = await acceptQuestion(ctx(), maltHouse);
    await settle();
    const proxy = await proxyOf(ctx(), session.sessionId);
    const start = sessionJobs(deps).find((job) => job.name === START_SESSION)!;
    await start.handle({ sessionId: session.sessionId }, noRetry);
    await settle();
    expect(textsFrom(ctx(), session.expertPhone, proxy)).toHaveLength(1);
    expect(textsFrom(ctx(), session.customerPhone, proxy)).toHaveLength(1);

    await text(session.customerPhone, proxy, "first question");
    const inbound = await deps.prisma.message.findFirstOrThrow({ where: { sessionId: session.sessionId, direction: "inbound" } });
    await handleProxyText(deps, inbound);
    await text(session.customerPhone, proxy, "DONE");
    const done = await deps.prisma.message.findFirstOrThrow({ where: { sessionId: session.sessionId, direction: "inbound", body: "DONE" } });
    await handleProxyText(deps, done);
    // The relayed text's job ran again after the end: nothing new, not even "this has ended".
    await handleProxyText(deps, inbound);
    await settle();
    expect(textsFrom(ctx(), session.expertPhone, proxy)).toEqual([
      expect.stringMatching(/^Malt House: Sam asks:/),
      "Sam: first question",
      "Sam ended the conversation. Thanks for helping!",
    ]);
    expect(textsFrom(ctx(), session.customerPhone, proxy)).toEqual([
      expect.stringMatching(/^Malt House: Ann, a fellow malt nerd,/),
      "Thanks for chatting with Ann! How did Ann do? Reply 1-5 (5 is best).",
    ]);
  });
});
