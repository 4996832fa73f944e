/**
 * What the call webhooks store, row by row: direction, parties, status,
 * when the call was answered and ended, and its length, after each
 * callback, whatever order Twilio delivers them in (it does not promise
 * one). Time comes from a test clock, so every timestamp is exact.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Call } from "../../src/generated/prisma/client.js";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders } from "../helpers/factories.js";
import { signedTwilioWebhook } from "../helpers/signed-webhook.js";

let now = new Date("2026-12-01T10:00:00.000Z");
const ctx = useTestContext({ clock: { now: () => now } });
const LINE = "+14155550170";
const CUSTOMER = "+13125550177";
let sidCounter = 0;

const nextSid = () => `CA${String(++sidCounter).padStart(32, "0")}`;
const at = (iso: string) => {
  now = new Date(iso);
  return now;
};

async function voice(sid: string, from: string, to: string) {
  const response = await ctx().app.inject(signedTwilioWebhook("/twilio/voice", { CallSid: sid, From: from, To: to, CallStatus: "ringing" }));
  expect(response.statusCode).toBe(200);
}

async function callback(sid: string, status: string, extra: Record<string, string> = {}, parties = { From: CUSTOMER, To: LINE }) {
  const response = await ctx().app.inject(signedTwilioWebhook("/twilio/status/call", { CallSid: sid, CallStatus: status, ...parties, ...extra }));
  expect(response.statusCode).toBe(200);
}

/** The stored row, without the bookkeeping columns. */
async function stored(sid: string) {
  const call = await ctx().deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } });
  const { direction, from, to, status, startedAt, endedAt, durationSeconds } = call satisfies Call;
  return { direction, from, to, status, startedAt, endedAt, durationSeconds };
}

beforeAll(async () => {
  const { app } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Still House" } });
  const registered = await app.inject({
    method: "POST",
    url: "/v1/admin/phone-numbers",
    headers: adminHeaders,
    payload: { e164: LINE, purpose: "expert_line", shopId: shop.json().shop.id },
  });
  expect(registered.statusCode).toBe(201);
});

describe("the Call row after each callback", () => {
  it("an inbound call in order: ringing, answered, completed", async () => {
    const sid = nextSid();
    const parties = { direction: "inbound", from: CUSTOMER, to: LINE };
    at("2026-12-01T10:00:00.000Z");
    await voice(sid, CUSTOMER, LINE);
    expect(await stored(sid)).toEqual({ ...parties, status: "ringing", startedAt: null, endedAt: null, durationSeconds: null });

    const answered = at("2026-12-01T10:00:05.000Z");
    await callback(sid, "in-progress");
    expect(await stored(sid)).toEqual({ ...parties, status: "in_progress", startedAt: answered, endedAt: null, durationSeconds: null });

    const ended = at("2026-12-01T10:00:47.000Z");
    await callback(sid, "completed", { CallDuration: "42" });
    const completed = { ...parties, status: "completed", startedAt: answered, endedAt: ended, durationSeconds: 42 };
    expect(await stored(sid)).toEqual(completed);

    // A replay (Twilio retrying a callback) changes nothing, even with other values in it.
    at("2026-12-01T10:05:00.000Z");
    await callback(sid, "completed", { CallDuration: "99" });
    await callback(sid, "in-progress");
    expect(await stored(sid)).toEqual(completed);
  });

  it("out of order: completed before answered keeps the end, and dates the answer from the duration", async () => {
    const sid = nextSid();
    const parties = { direction: "inbound", from: CUSTOMER, to: LINE };
    at("2026-12-01T11:00:00.000Z");
    await callback(sid, "ringing");
    expect(await stored(sid)).toEqual({ ...parties, status: "ringing", startedAt: null, endedAt: null, durationSeconds: null });

    const ended = at("2026-12-01T11:01:00.000Z");
    await callback(sid, "completed", { CallDuration: "42" });
    const completed = { ...parties, status: "completed", startedAt: new Date("2026-12-01T11:00:18.000Z"), endedAt: ended, durationSeconds: 42 };
    expect(await stored(sid)).toEqual(completed);

    // The late ones move nothing back.
    at("2026-12-01T11:01:02.000Z");
    await callback(sid, "in-progress");
    await callback(sid, "ringing");
    await callback(sid, "initiated");
    expect(await stored(sid)).toEqual(completed);
  });

  it("a callback that beats placeCall creates the row: ours (from our number) is outbound, ended if final", async () => {
    const sid = nextSid();
    const ended = at("2026-12-01T12:00:30.000Z");
    await callback(sid, "completed", { CallDuration: "7" }, { From: LINE, To: CUSTOMER });
    expect(await stored(sid)).toEqual({
      direction: "outbound",
      from: LINE,
      to: CUSTOMER,
      status: "completed",
      startedAt: new Date("2026-12-01T12:00:23.000Z"),
      endedAt: ended,
      durationSeconds: 7,
    });
  });

  it("a first callback saying answered creates the row answered", async () => {
    const sid = nextSid();
    const answered = at("2026-12-01T12:30:00.000Z");
    await callback(sid, "in-progress", {}, { From: LINE, To: CUSTOMER });
    expect(await stored(sid)).toEqual({
      direction: "outbound",
      from: LINE,
      to: CUSTOMER,
      status: "in_progress",
      startedAt: answered,
      endedAt: null,
      durationSeconds: null,
    });
  });

  it("a call nobody answered ends with no start and zero seconds", async () => {
    const sid = nextSid();
    const parties = { direction: "outbound", from: LINE, to: CUSTOMER };
    at("2026-12-01T13:00:00.000Z");
    await callback(sid, "initiated", {}, { From: LINE, To: CUSTOMER });
    at("2026-12-01T13:00:01.000Z");
    await callback(sid, "ringing", {}, { From: LINE, To: CUSTOMER });
    expect(await stored(sid)).toEqual({ ...parties, status: "ringing", startedAt: null, endedAt: null, durationSeconds: null });
    const ended = at("2026-12-01T13:00:31.000Z");
    await callback(sid, "no-answer", { CallDuration: "0" }, { From: LINE, To: CUSTOMER });
    expect(await stored(sid)).toEqual({ ...parties, status: "no_answer", startedAt: null, endedAt: ended, durationSeconds: 0 });
  });

  it("busy before ringing: the final status stays", async () => {
    const sid = nextSid();
    const ended = at("2026-12-01T14:00:00.000Z");
    await callback(sid, "busy", { CallDuration: "0" }, { From: LINE, To: CUSTOMER });
    at("2026-12-01T14:00:01.000Z");
    await callback(sid, "ringing", {}, { From: LINE, To: CUSTOMER });
    expect(await stored(sid)).toEqual({
      direction: "outbound",
      from: LINE,
      to: CUSTOMER,
      status: "busy",
      startedAt: null,
      endedAt: ended,
      durationSeconds: 0,
    });
  });

  it("an unknown status word stores nothing and still answers 200", async () => {
    const sid = nextSid();
    await callback(sid, "toString");
    expect(await ctx().deps.prisma.call.count({ where: { twilioSid: sid } })).toBe(0);
  });
});
