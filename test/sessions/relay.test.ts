/**
 * The masked SMS conversation, through the sandbox's phones and the real
 * workers: intros from a proxy number, relays both ways with first names,
 * the transcript, keywords that are never relayed, and DONE from each side.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { useTelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld, proxyOf, sendersTo, textsFrom, type SessionWorld } from "./session-world.js";

const ctx = useTelephonyContext();
let world: SessionWorld;

beforeAll(async () => {
  world = await makeSessionWorld(ctx(), { shopName: "Brew Barn" });
  await ctx().settle(); // the expert's invite from the shop's line
});

async function started(input: Parameters<typeof acceptQuestion>[2] = {}) {
  const accepted = await acceptQuestion(ctx(), world, input);
  await ctx().settle();
  return { ...accepted, proxy: await proxyOf(ctx(), accepted.sessionId) };
}

describe("starting a session", () => {
  it("texts both sides from one proxy number, neither text carrying the other's number", async () => {
    const { deps } = ctx();
    const session = await started({
      context: { source: "Brew Barn chat", transcript: "Bot: Hi! How can I help?\nCustomer: my mash is stuck, call me on 415-555-0199\nBot: Let me find an expert." },
    });
    const customerTexts = textsFrom(ctx(), session.customerPhone, session.proxy);
    const expertTexts = textsFrom(ctx(), session.expertPhone, session.proxy);
    expect(customerTexts).toEqual([
      "Brew Barn: Dan, a fellow Grainfather brewer, will answer you here. Your number stays private. Text DONE when you're finished, STOP to opt out.",
    ]);
    expect(expertTexts).toHaveLength(1);
    expect(expertTexts[0]).toMatch(/^Brew Barn: Sam asks: "My mash is stuck at 60C, what should I do\?" Earlier \(Brew Barn chat\): "/);
    expect(expertTexts[0]).toContain("Bot: Let me find an expert.");
    expect(expertTexts[0]).toContain("Reply here to talk to Sam");
    // Masked: the number typed in the chat, and each side's own number, never reach the other.
    expect(expertTexts[0]).not.toContain("555-0199");
    expect(expertTexts[0]).not.toContain(session.customerPhone);
    expect(customerTexts[0]).not.toContain(session.expertPhone);
    expect(sendersTo(ctx(), session.customerPhone)).toEqual([session.proxy]);

    const row = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId }, include: { proxyNumber: true } });
    expect(row).toMatchObject({ status: "active", proxyNumber: { purpose: "proxy" } });
    expect(row.startedAt).not.toBeNull();
    expect(row.lastActivityAt).not.toBeNull();
    const question = await deps.prisma.question.findUniqueOrThrow({ where: { id: session.questionId }, include: { events: true } });
    expect(question.status).toBe("in_session");
    expect(question.events.map((event) => [event.kind, event.data])).toEqual([["session_started", { expertFirstName: "Dan" }]]);
    const intros = await deps.prisma.message.findMany({ where: { sessionId: session.sessionId }, orderBy: { dedupeKey: "asc" } });
    expect(intros.map((message) => [message.purpose, message.dedupeKey, message.shopId, message.questionId])).toEqual([
      ["session_intro", `session-intro-customer:${session.sessionId}`, world.shop.id, session.questionId],
      ["session_intro", `session-intro-expert:${session.sessionId}`, world.shop.id, session.questionId],
    ]);
  });

  it("names the product when it has no expert noun, and the shop when there is no product", async () => {
    const { deps } = ctx();
    await deps.prisma.product.update({ where: { id: world.product.id }, data: { expertNoun: null } });
    try {
      const withProduct = await started();
      expect(textsFrom(ctx(), withProduct.customerPhone, withProduct.proxy)[0]).toMatch(/^Brew Barn: Dan, a Grainfather G30 expert, will answer you here\./);
      const withoutProduct = await started({ withProduct: false, customerName: null });
      expect(textsFrom(ctx(), withoutProduct.customerPhone, withoutProduct.proxy)[0]).toMatch(/^Brew Barn: Dan, a Brew Barn expert, will answer you here\./);
      expect(textsFrom(ctx(), withoutProduct.expertPhone, withoutProduct.proxy).at(-1)).toMatch(/^Brew Barn: A customer asks: /);
    } finally {
      await deps.prisma.product.update({ where: { id: world.product.id }, data: { expertNoun: "Grainfather brewer" } });
    }
  });
});

describe("relaying", () => {
  it("relays both ways with the sender's first name, keeps the transcript and the activity time", async () => {
    const { deps, text } = ctx();
    const session = await started();
    const before = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });

    await text(session.customerPhone, session.proxy, "The temperature dropped and the pump sounds odd");
    expect(textsFrom(ctx(), session.expertPhone, session.proxy).at(-1)).toBe("Sam: The temperature dropped and the pump sounds odd");
    await text(session.expertPhone, session.proxy, "Check the pump filter for grain first");
    expect(textsFrom(ctx(), session.customerPhone, session.proxy).at(-1)).toBe("Dan: Check the pump filter for grain first");
    // Words that are keywords elsewhere are conversation here.
    await text(session.customerPhone, session.proxy, "yes");
    expect(textsFrom(ctx(), session.expertPhone, session.proxy).at(-1)).toBe("Sam: yes");

    const transcript = await deps.prisma.message.findMany({ where: { sessionId: session.sessionId }, orderBy: { id: "asc" } });
    const conversation = transcript.filter((message) => message.purpose !== "session_intro");
    expect(conversation.map((message) => [message.direction, message.purpose, message.body])).toEqual([
      ["inbound", "inbound", "The temperature dropped and the pump sounds odd"],
      ["outbound", "relay", "Sam: The temperature dropped and the pump sounds odd"],
      ["inbound", "inbound", "Check the pump filter for grain first"],
      ["outbound", "relay", "Dan: Check the pump filter for grain first"],
      ["inbound", "inbound", "yes"],
      ["outbound", "relay", "Sam: yes"],
    ]);
    expect(conversation.every((message) => message.shopId === world.shop.id && message.questionId === session.questionId)).toBe(true);
    expect(conversation.filter((message) => message.direction === "outbound").every((message) => message.status === "delivered")).toBe(true);
    const after = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });
    expect(after.lastActivityAt!.getTime()).toBeGreaterThan(before.lastActivityAt!.getTime());
  });

  it("never relays STOP or HELP; HELP is answered, STOP silences the pair and ends the conversation", async () => {
    const { deps, text, inbox } = ctx();
    const session = await started();
    const expertInboxBefore = inbox(session.expertPhone).length;

    await text(session.customerPhone, session.proxy, "HELP");
    expect(textsFrom(ctx(), session.customerPhone, session.proxy).at(-1)).toMatch(/^expertline for Brew Barn: .*Reply STOP to opt out\.$/);
    await text(session.customerPhone, session.proxy, "STOP");
    expect(inbox(session.expertPhone).slice(expertInboxBefore).some((body) => body.includes("STOP"))).toBe(false);
    expect(await deps.prisma.message.count({ where: { sessionId: session.sessionId, purpose: "relay" } })).toBe(0);
    expect(await deps.prisma.optOut.count({ where: { phone: session.customerPhone, platformNumber: session.proxy } })).toBe(1);

    // Nothing can reach the customer any more: the conversation ends, the expert is told, and nothing is relayed to the customer.
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } })).toMatchObject({ status: "ended", endedBy: "customer" });
    expect(inbox(session.expertPhone).at(-1)).toMatch(/ended the conversation/);
    await text(session.expertPhone, session.proxy, "Are you still there?");
    expect(await deps.prisma.message.count({ where: { sessionId: session.sessionId, purpose: "relay" } })).toBe(0);
    expect(textsFrom(ctx(), session.customerPhone, session.proxy).some((body) => body.includes("Are you still there?"))).toBe(false);
  });
});

describe("DONE", () => {
  it("from the customer: ends once, tells the expert, asks the customer for a rating", async () => {
    const { deps, text } = ctx();
    const session = await started();
    await text(session.customerPhone, session.proxy, "thanks, fixed it");
    await text(session.customerPhone, session.proxy, "done");
    await text(session.customerPhone, session.proxy, "DONE");

    const row = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });
    expect(row).toMatchObject({ status: "ended", endedBy: "customer", endReason: "done_keyword" });
    expect(row.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(row.durationSeconds).toBe(Math.floor((row.endedAt!.getTime() - row.startedAt!.getTime()) / 1000));
    expect(row.ratingRequestedAt).toEqual(row.endedAt);
    expect(textsFrom(ctx(), session.expertPhone, session.proxy).slice(-2)).toEqual([
      "Sam: thanks, fixed it",
      "Sam ended the conversation. Thanks for helping!",
    ]);
    const customerTexts = textsFrom(ctx(), session.customerPhone, session.proxy);
    // Told once; the second DONE only hears that it is over.
    expect(customerTexts.slice(-2)).toEqual([
      "Thanks for chatting with Dan! How did Dan do? Reply 1-5 (5 is best).",
      "This conversation has ended, so your message was not passed on. How did Dan do? Reply 1-5 (5 is best).",
    ]);
    const question = await deps.prisma.question.findUniqueOrThrow({ where: { id: session.questionId }, include: { events: { orderBy: { id: "asc" } } } });
    expect(question.status).toBe("answered");
    expect(question.closedAt).toEqual(row.endedAt);
    expect(question.events.map((event) => [event.kind, event.data])).toEqual([
      ["session_started", { expertFirstName: "Dan" }],
      ["session_ended", { expertFirstName: "Dan", endedBy: "customer" }],
    ]);
  });

  it("from the expert: the customer is told and asked, the expert gets a confirmation, later texts are not relayed", async () => {
    const { deps, text } = ctx();
    const session = await started();
    await text(session.expertPhone, session.proxy, "Done.");
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } })).toMatchObject({ status: "ended", endedBy: "expert" });
    expect(textsFrom(ctx(), session.customerPhone, session.proxy).at(-1)).toBe("Dan ended the conversation. How did Dan do? Reply 1-5 (5 is best).");
    expect(textsFrom(ctx(), session.expertPhone, session.proxy).at(-1)).toBe("You ended the conversation with Sam. Thanks for helping!");

    await text(session.expertPhone, session.proxy, "One more thing!");
    expect(textsFrom(ctx(), session.expertPhone, session.proxy).at(-1)).toBe("This conversation has ended, so your message was not passed on.");
    expect(textsFrom(ctx(), session.customerPhone, session.proxy).some((body) => body.includes("One more thing"))).toBe(false);
    expect(await deps.prisma.message.count({ where: { sessionId: session.sessionId, direction: "inbound" } })).toBe(2);
  });
});
