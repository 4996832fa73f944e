/**
 * Conference callbacks as Twilio really delivers them: in any order, some
 * twice. The bridge is settled from all of them, so the billable seconds are
 * the same however they arrive, and a replay changes nothing.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signedTwilioWebhook } from "../helpers/signed-webhook.js";
import { useTelephonyContext, type TelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld } from "./session-world.js";

const ctx = useTelephonyContext();
const sid = (prefix: string) => `${prefix}${randomBytes(16).toString("hex")}`;
const stamp = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000).toUTCString().replace("GMT", "+0000");

/** An active SMS session and a bridge whose two legs are known, as joinTwiml leaves them. */
async function bridgeWithLegs(context: TelephonyContext) {
  const world = await makeSessionWorld(context);
  const accepted = await acceptQuestion(context, world);
  await context.settle();
  const expertCallSid = sid("CA");
  const customerCallSid = sid("CA");
  const bridge = await context.deps.prisma.voiceBridge.create({ data: { sessionId: accepted.sessionId, name: `vb-${accepted.sessionId}-test`, expertCallSid, customerCallSid } });
  return { ...accepted, bridge, expertCallSid, customerCallSid, conferenceSid: sid("CF") };
}

type Leg = ReturnType<typeof bridgeWithLegs> extends Promise<infer T> ? T : never;

/** The five callbacks of a call where the expert joins at 0 s, the customer at 5 s, and the customer hangs up at 100 s. */
function callbacks(leg: Leg, base: Date) {
  const common = { AccountSid: `AC${"0".repeat(32)}`, ConferenceSid: leg.conferenceSid, FriendlyName: leg.bridge.name };
  return {
    expertJoin: { ...common, StatusCallbackEvent: "participant-join", CallSid: leg.expertCallSid, Timestamp: stamp(base, 0), SequenceNumber: "0" },
    customerJoin: { ...common, StatusCallbackEvent: "participant-join", CallSid: leg.customerCallSid, Timestamp: stamp(base, 5), SequenceNumber: "1" },
    start: { ...common, StatusCallbackEvent: "conference-start", Timestamp: stamp(base, 5), SequenceNumber: "2" },
    customerLeave: { ...common, StatusCallbackEvent: "participant-leave", CallSid: leg.customerCallSid, Timestamp: stamp(base, 100), SequenceNumber: "3" },
    end: { ...common, StatusCallbackEvent: "conference-end", CallSidEndingConference: leg.customerCallSid, Timestamp: stamp(base, 100), SequenceNumber: "4" },
    expertLeave: { ...common, StatusCallbackEvent: "participant-leave", CallSid: leg.expertCallSid, Timestamp: stamp(base, 100), SequenceNumber: "5" },
  };
}

async function deliver(context: TelephonyContext, leg: Leg, params: Record<string, string>): Promise<void> {
  const response = await context.app.inject(signedTwilioWebhook(`/twilio/status/conference?bridgeId=${leg.bridge.id}`, params));
  expect(response.statusCode, response.body).toBe(200);
}

describe("conference callbacks in any order", () => {
  it("in order: 95 billable seconds, ended by the customer", async () => {
    const context = ctx();
    const leg = await bridgeWithLegs(context);
    const events = callbacks(leg, new Date("2026-12-01T10:00:00Z"));
    for (const event of Object.values(events)) await deliver(context, leg, event);
    await context.settle();
    expect(await context.deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: leg.bridge.id } })).toMatchObject({ billableSeconds: 95, endedBy: "customer" });
    expect(await context.deps.prisma.session.findUniqueOrThrow({ where: { id: leg.sessionId } })).toMatchObject({ status: "ended", durationSeconds: 95, endedBy: "customer" });
  });

  it("the customer's join arriving last, and everything twice: still 95 seconds, once", async () => {
    const context = ctx();
    const leg = await bridgeWithLegs(context);
    const events = callbacks(leg, new Date("2026-12-01T11:00:00Z"));
    const order = [events.expertJoin, events.customerLeave, events.end, events.expertLeave, events.start, events.customerJoin];
    for (const event of [...order, ...order.reverse()]) await deliver(context, leg, event);
    await context.settle();
    expect(await context.deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: leg.bridge.id } })).toMatchObject({ billableSeconds: 95 });
    expect(await context.deps.prisma.session.findUniqueOrThrow({ where: { id: leg.sessionId } })).toMatchObject({ status: "ended", durationSeconds: 95, bridgedSeconds: 95 });
  });

  it("a leave that beats its own join is kept, not dropped", async () => {
    const context = ctx();
    const leg = await bridgeWithLegs(context);
    const events = callbacks(leg, new Date("2026-12-01T12:00:00Z"));
    for (const event of [events.expertLeave, events.customerJoin, events.end, events.customerLeave, events.expertJoin]) await deliver(context, leg, event);
    await context.settle();
    expect(await context.deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: leg.bridge.id } })).toMatchObject({ billableSeconds: 95, endedBy: "customer" });
  });

  it("a call that never bridged costs nothing, and the session goes on", async () => {
    const context = ctx();
    const leg = await bridgeWithLegs(context);
    const events = callbacks(leg, new Date("2026-12-01T13:00:00Z"));
    for (const event of [events.expertJoin, { ...events.expertLeave, Timestamp: events.customerJoin.Timestamp }, { ...events.end, CallSidEndingConference: leg.expertCallSid, Timestamp: events.customerJoin.Timestamp }]) {
      await deliver(context, leg, event);
    }
    await context.settle();
    expect(await context.deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: leg.bridge.id } })).toMatchObject({ billableSeconds: 0, bridgedAt: null, endedAt: expect.any(Date) });
    expect(await context.deps.prisma.session.findUniqueOrThrow({ where: { id: leg.sessionId } })).toMatchObject({ status: "active", bridgedSeconds: 0 });
  });

  it("a callback naming no bridge, or without a timestamp, is acknowledged and changes nothing", async () => {
    const context = ctx();
    const leg = await bridgeWithLegs(context);
    const { expertJoin } = callbacks(leg, new Date("2026-12-01T14:00:00Z"));
    const noBridge = await context.app.inject(signedTwilioWebhook("/twilio/status/conference", expertJoin));
    expect(noBridge.statusCode).toBe(200);
    const { Timestamp: _dropped, ...undated } = expertJoin;
    await deliver(context, leg, undated);
    const unknown = await context.app.inject(signedTwilioWebhook(`/twilio/status/conference?bridgeId=${leg.bridge.id}`, { ...expertJoin, CallSid: sid("CA") }));
    expect(unknown.statusCode).toBe(200);
    expect(await context.deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: leg.bridge.id } })).toMatchObject({ expertJoinedAt: null, customerJoinedAt: null });
    const bad = await context.app.inject(signedTwilioWebhook(`/twilio/status/conference?bridgeId=${leg.bridge.id}`, { ...expertJoin, ConferenceSid: "CF-not-a-sid" }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/application\/problem\+json/);
  });
});
