/**
 * Sending SMS: retries for what Twilio never processed, no retry for what
 * will fail again, nothing to opted-out numbers, nothing inside quiet hours
 * except replies, and every request valid against Twilio's OpenAPI spec.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { localTime } from "../../src/lib/schedule.js";
import { reserveSendSlot } from "../../src/lib/send-slots.js";
import { adminHeaders, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let shopHeaders: { authorization: string };
let line: string;

const sentTo = (phone: string) => ctx().sandbox.state.events.filter((event) => event.kind === "message-sent" && event.detail.to === phone).length;

async function invite(fields: Record<string, unknown> = {}) {
  const phone = nextPhone();
  const response = await ctx().app.inject({
    method: "POST",
    url: "/v1/experts",
    headers: shopHeaders,
    payload: { phone, name: "Dan", timeZone: "UTC", ...fields },
  });
  expect(response.statusCode, response.body).toBe(201);
  return { phone, id: response.json().id as string };
}

const inviteOf = (phone: string) => ctx().deps.prisma.message.findFirstOrThrow({ where: { to: phone, purpose: "invite" } });

beforeAll(async () => {
  const { app, deps, settle } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Grain Co" } });
  shopHeaders = { authorization: `Bearer ${shop.json().apiKey.key}` };
  await invite(); // buys the expert line
  await settle();
  line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.json().shop.id } })).e164;
});

beforeEach(() => {
  const { state } = ctx().sandbox;
  state.faults = [];
  state.settings.callbackOrder = "in-order";
  state.contractViolations.length = 0;
});

describe("outbound SMS", () => {
  it.each([
    [500, 20500],
    [503, 20503],
    [429, 20429],
  ])("retries a %i from Twilio and sends exactly once", async (status, code) => {
    const { sandbox, settle } = ctx();
    sandbox.state.faults.push({ status, code, message: "try later", count: 2 });
    const { phone } = await invite();
    await settle();
    expect(sentTo(phone)).toBe(1);
    expect(await inviteOf(phone)).toMatchObject({ status: "delivered", twilioSid: expect.stringMatching(/^SM[0-9a-f]{32}$/) });
    expect(sandbox.state.faults).toEqual([]);
  });

  it("records a permanent error and does not retry it", async () => {
    const { sandbox, settle } = ctx();
    const faultsBefore = sandbox.state.events.filter((event) => event.kind === "fault-injected").length;
    sandbox.state.faults.push({ status: 400, code: 21614, message: "'To' number is not a valid mobile number", count: 1 });
    const { phone } = await invite();
    await settle();
    expect(await inviteOf(phone)).toMatchObject({ status: "failed", errorCode: 21614, twilioSid: null });
    expect(sandbox.state.events.filter((event) => event.kind === "fault-injected")).toHaveLength(faultsBefore + 1);
    expect(sentTo(phone)).toBe(0);
  });

  it("21610 (unsubscribed at Twilio) is recorded as an opt-out", async () => {
    const { sandbox, settle, deps } = ctx();
    const phone = nextPhone();
    sandbox.state.blocked.add(`${phone}|${line}`);
    await invite({ phone });
    await settle();
    expect(await inviteOf(phone)).toMatchObject({ status: "failed", errorCode: 21610 });
    expect(await deps.prisma.optOut.count({ where: { phone, platformNumber: line } })).toBe(1);
  });

  it("sends nothing to a number that opted out, without even asking Twilio", async () => {
    const { deps, settle } = ctx();
    const phone = nextPhone();
    await deps.prisma.optOut.create({ data: { phone, platformNumber: line } });
    await invite({ phone });
    await settle();
    expect(await inviteOf(phone)).toMatchObject({ status: "failed", errorCode: 21610 });
    expect(sentTo(phone)).toBe(0);
  });

  it("holds messages during the expert's quiet hours but answers their own texts", async () => {
    const { settle, text, inbox } = ctx();
    const zone = "Pacific/Auckland";
    const { minute } = localTime(new Date(), zone);
    const hhmm = (m: number) => `${String(Math.floor((((m % 1440) + 1440) % 1440) / 60)).padStart(2, "0")}:${String(((m % 60) + 60) % 60).padStart(2, "0")}`;
    const { phone } = await invite({ timeZone: zone, quietHours: { start: hhmm(minute - 60), end: hhmm(minute + 120) } });
    await settle();
    expect(await inviteOf(phone)).toMatchObject({ status: "queued" });
    expect(inbox(phone)).toEqual([]);

    await text(phone, line, "HELP");
    // Twilio's own HELP answer, then ours: both are replies, so quiet hours let them through.
    expect(inbox(phone)).toEqual(["Reply STOP to unsubscribe. Msg&Data Rates May Apply.", expect.stringContaining("Msg&data rates may apply")]);
    expect(await inviteOf(phone)).toMatchObject({ status: "queued" });
  });

  it.each(["reversed", "duplicated"] as const)("ends delivered when status callbacks arrive %s", async (order) => {
    const { sandbox, settle } = ctx();
    sandbox.state.settings.callbackOrder = order;
    const { phone } = await invite();
    await settle();
    expect(await inviteOf(phone)).toMatchObject({ status: "delivered" });
  });

  it("every request the product sent matched Twilio's OpenAPI spec", () => {
    expect(ctx().sandbox.state.contractViolations).toEqual([]);
  });

  it("a request the real Twilio would reject is rejected, and named", async () => {
    const { deps, sandbox } = ctx();
    await expect(
      deps.twilio.messages.create({ to: nextPhone(), from: line, body: "hi", statusCallback: "not a url" }),
    ).rejects.toMatchObject({ status: 400 });
    expect(sandbox.state.contractViolations).toEqual([
      { method: "POST", path: expect.stringMatching(/Messages\.json$/), violations: [expect.stringMatching(/StatusCallback/)] },
    ]);
  });

  it("the sandbox refuses wrong credentials as Twilio does", async () => {
    const { sandbox } = ctx();
    const response = await sandbox.app.inject({
      method: "GET",
      url: `/2010-04-01/Accounts/${sandbox.state.accountSid}/Messages/SM${"0".repeat(32)}.json`,
      headers: { authorization: `Basic ${Buffer.from(`${sandbox.state.accountSid}:wrong`).toString("base64")}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 20003, status: 401, more_info: "https://www.twilio.com/docs/errors/20003" });
  });
});

describe("per-sender throughput", () => {
  it("gives each message from one number the next free slot, and other numbers their own", async () => {
    const { deps } = ctx();
    const now = Date.now();
    const sender = `+1415555${String(now % 10_000).padStart(4, "0")}`;
    const waits = [];
    const reserve = (from: string, nowMs: number, prefix = deps.queuePrefix) =>
      reserveSendSlot(deps.redis, { sender: from, messagesPerSecond: 2, nowMs, prefix });
    for (let index = 0; index < 4; index++) waits.push(await reserve(sender, now));
    expect(waits).toEqual([0, 500, 1000, 1500]);
    expect(await reserve(`${sender}9`, now)).toBe(0);
    expect(await reserve(sender, now, `${deps.queuePrefix}-other`)).toBe(0); // another deployment's rate
    // later, the slots have passed
    expect(await reserve(sender, now + 5_000)).toBe(0);
  });
});
