/**
 * How a session ends by itself (its idle timer, or the sweep when the timer
 * was lost) and what comes after: the customer's 1-5 and comment, which move
 * the expert's rating totals exactly once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { handleProxyText } from "../../src/modules/sessions/relay.js";
import { sweepIdleSessions } from "../../src/modules/sessions/jobs.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld, proxyOf, textsFrom, type SessionWorld } from "./session-world.js";

const ctx = useTelephonyContext();
const IDLE_SECONDS = 2;
let quick: SessionWorld;
let slow: SessionWorld;

beforeAll(async () => {
  quick = await makeSessionWorld(ctx(), { shopName: "Quick Brews", sessionIdleSeconds: IDLE_SECONDS });
  slow = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Dan Brewer", maxConcurrentSessions: 3 }] });
  await ctx().settle();
});

async function waitForStatus(sessionId: string, status: "active" | "ended") {
  for (let round = 0; round < 200; round++) {
    const session = await ctx().deps.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    if (session.status === status) return session;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`session did not become ${status}`);
}

describe("inactivity", () => {
  it("ends a quiet session after the pool's idle time and tells both sides", async () => {
    const { deps, settle } = ctx();
    const session = await acceptQuestion(ctx(), quick);
    await settle(); // the idle timer is due within seconds, so this waits for it too
    const row = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });
    expect(row).toMatchObject({ status: "ended", endedBy: "idle", endReason: "inactivity" });
    expect(row.endedAt!.getTime() - row.lastActivityAt!.getTime()).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000);
    const proxy = await proxyOf(ctx(), session.sessionId);
    expect(textsFrom(ctx(), session.expertPhone, proxy).at(-1)).toBe("The conversation with Sam ended after 2 seconds without messages. Thanks for helping!");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe(
      "This conversation ended after 2 seconds without messages. How did Dan do? Reply 1-5 (5 is best).",
    );
    const events = await deps.prisma.questionEvent.findMany({ where: { questionId: session.questionId }, orderBy: { id: "asc" } });
    expect(events.map((event) => [event.kind, event.data])).toEqual([
      ["session_started", { expertFirstName: "Dan" }],
      ["session_ended", { expertFirstName: "Dan", endedBy: "idle" }],
    ]);
  });

  it("waits again when a text came in since the timer was set", async () => {
    const { deps, sandbox, settle } = ctx();
    const session = await acceptQuestion(ctx(), quick);
    const started = await waitForStatus(session.sessionId, "active");
    const proxy = await proxyOf(ctx(), session.sessionId);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await sandbox.messaging.receive(session.customerPhone, proxy, "sorry, went to check the thermometer");
    await settle();
    const row = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } });
    expect(row).toMatchObject({ status: "ended", endedBy: "idle" });
    expect(row.lastActivityAt!.getTime()).toBeGreaterThan(started.startedAt!.getTime() + 1_000);
    // Idle counts from the last text, not from the start.
    expect(row.endedAt!.getTime() - row.lastActivityAt!.getTime()).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000);
    expect(textsFrom(ctx(), session.expertPhone, proxy)).toContain("Sam: sorry, went to check the thermometer");
  });

  it("the sweep ends sessions whose timer was lost, once", async () => {
    const { deps, settle } = ctx();
    const session = await acceptQuestion(ctx(), slow);
    await settle();
    const fresh = await acceptQuestion(ctx(), slow);
    await settle();
    // Quiet for longer than the pool's 30 minutes, its timer gone with a Redis that lost its data.
    await deps.prisma.session.update({ where: { id: session.sessionId }, data: { lastActivityAt: new Date(Date.now() - 31 * 60_000) } });
    expect(await sweepIdleSessions(deps)).toBe(1);
    expect(await sweepIdleSessions(deps)).toBe(0);
    await settle();
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.sessionId } })).toMatchObject({ status: "ended", endedBy: "idle" });
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: fresh.sessionId } })).toMatchObject({ status: "active" });
    const proxy = await proxyOf(ctx(), session.sessionId);
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe(
      "This conversation ended after 30 minutes without messages. How did Dan do? Reply 1-5 (5 is best).",
    );
  });
});

describe("rating", () => {
  it("counts the score once, takes the next text as the comment, and answers politely after", async () => {
    const { deps, text } = ctx();
    const expert = slow.experts[0]!;
    const session = await acceptQuestion(ctx(), slow);
    await ctx().settle();
    const proxy = await proxyOf(ctx(), session.sessionId);
    await text(session.expertPhone, proxy, "DONE");
    const before = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });

    await text(session.customerPhone, proxy, "5!");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe("Thanks for rating Dan 5/5! Want to add a comment? Just reply with it.");
    await text(session.customerPhone, proxy, "4");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe("Thanks, you've already rated this conversation.");
    await text(session.customerPhone, proxy, "Quick and clear, the mash is running again");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe("Thanks! Your comment about Dan is saved.");
    await text(session.customerPhone, proxy, "one more thing");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe(
      "This conversation has ended, so your message was not passed on. To ask something new, visit Brew Barn's website.",
    );

    const rating = await deps.prisma.rating.findUniqueOrThrow({ where: { sessionId: session.sessionId } });
    expect(rating).toMatchObject({ expertId: expert.id, score: 5, comment: "Quick and clear, the mash is running again" });
    const after = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect([after.ratingSum - before.ratingSum, after.ratingCount - before.ratingCount]).toEqual([5, 1]);
    const rated = await deps.prisma.questionEvent.findMany({ where: { questionId: session.questionId, kind: "rated" } });
    expect(rated.map((event) => event.data)).toEqual([{ expertFirstName: "Dan", score: 5 }]);
    // The rating texts are in the session's transcript too; the expert heard none of them.
    expect(await deps.prisma.message.count({ where: { sessionId: session.sessionId, direction: "inbound" } })).toBe(5);
    expect(textsFrom(ctx(), session.expertPhone, proxy).at(-1)).toBe("You ended the conversation with Sam. Thanks for helping!");
  });

  it("a rating handled twice at once counts once", async () => {
    const { deps, text, settle } = ctx();
    const expert = slow.experts[0]!;
    const session = await acceptQuestion(ctx(), slow);
    await settle();
    const proxy = await proxyOf(ctx(), session.sessionId);
    await text(session.customerPhone, proxy, "DONE");
    const before = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    // Stored as the webhook stores it; two runs of its job at once (a stalled job taken over).
    const inbound = await deps.prisma.message.create({
      data: { direction: "inbound", purpose: "inbound", from: session.customerPhone, to: proxy, body: "3", status: "received" },
    });
    await Promise.all([handleProxyText(deps, inbound), handleProxyText(deps, inbound)]);
    await settle();
    const after = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect([after.ratingSum - before.ratingSum, after.ratingCount - before.ratingCount]).toEqual([3, 1]);
    expect(textsFrom(ctx(), session.customerPhone, proxy).filter((body) => body.startsWith("Thanks for rating"))).toHaveLength(1);
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe("Thanks for rating Dan 3/5! Want to add a comment? Just reply with it.");
  });

  it("is not taken from the expert, nor once the day is over", async () => {
    const { deps, text } = ctx();
    const session = await acceptQuestion(ctx(), slow);
    await ctx().settle();
    const proxy = await proxyOf(ctx(), session.sessionId);
    await text(session.customerPhone, proxy, "DONE");
    await text(session.expertPhone, proxy, "5");
    expect(textsFrom(ctx(), session.expertPhone, proxy).at(-1)).toBe("This conversation has ended, so your message was not passed on.");
    await deps.prisma.session.update({ where: { id: session.sessionId }, data: { ratingRequestedAt: new Date(Date.now() - 25 * 3600_000) } });
    await text(session.customerPhone, proxy, "5");
    expect(textsFrom(ctx(), session.customerPhone, proxy).at(-1)).toBe(
      "This conversation has ended, so your message was not passed on. To ask something new, visit Brew Barn's website.",
    );
    expect(await deps.prisma.rating.count({ where: { sessionId: session.sessionId } })).toBe(0);
  });
});
