/**
 * Twilio's webhooks: signatures exactly as Twilio computes them (the SDK's
 * own helper), forgeries rejected before any side effect, replays answered
 * the same way with no second effect, status never moving backwards.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { webhookUrls } from "../../src/modules/telephony/numbers.js";
import { testConfig } from "../helpers/config.js";
import { adminHeaders } from "../helpers/factories.js";
import { signedTwilioWebhook as signed } from "../helpers/signed-webhook.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const { PUBLIC_BASE_URL } = testConfig();
const LINE = "+14155550150";
const DAN = "+13125550142";
let shopId: string;
let shopHeaders: { authorization: string };

const sms = (sid: string, body: string) => ({ MessageSid: sid, SmsSid: sid, AccountSid: "AC" + "0".repeat(32), From: DAN, To: LINE, Body: body, NumMedia: "0" });

beforeAll(async () => {
  const { app } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Hop Shed" } });
  shopId = shop.json().shop.id;
  shopHeaders = { authorization: `Bearer ${shop.json().apiKey.key}` };
  const registered = await app.inject({
    method: "POST",
    url: "/v1/admin/phone-numbers",
    headers: adminHeaders,
    payload: { e164: LINE, purpose: "expert_line", shopId },
  });
  expect(registered.statusCode).toBe(201);
  // The number as bought in the Twilio console, pointed at our webhooks.
  ctx().sandbox.state.own(LINE, webhookUrls(PUBLIC_BASE_URL), "PN" + "1".repeat(32));
  const dan = await app.inject({ method: "POST", url: "/v1/experts", headers: shopHeaders, payload: { phone: DAN, name: "Dan", timeZone: "UTC" } });
  expect(dan.statusCode).toBe(201);
  await ctx().settle();
});

describe("signature verification", () => {
  const routes = [
    "/twilio/sms",
    "/twilio/status/message",
    "/twilio/voice",
    "/twilio/voice/product",
    "/twilio/voice/question",
    "/twilio/voice/recording",
    "/twilio/voice/connect",
    "/twilio/status/call",
  ];

  it.each(routes)("%s rejects a missing, forged, wrong-token or stale-URL signature with 403 and no side effect", async (path) => {
    const { app, deps } = ctx();
    const params = { ...sms("SM" + "f".repeat(32), "YES"), CallSid: "CA" + "f".repeat(32), CallStatus: "ringing", MessageStatus: "delivered" };
    const before = { messages: await deps.prisma.message.count(), receipts: await deps.prisma.webhookReceipt.count(), calls: await deps.prisma.call.count() };
    const good = signed(path, params);
    const attempts = [
      { ...good, headers: { "content-type": good.headers["content-type"] } },
      { ...good, headers: { ...good.headers, "x-twilio-signature": "bm90IGEgc2lnbmF0dXJl" } },
      signed(path, params, { token: "some-other-auth-token" }),
      signed(path, params, { url: `http://old-host.example${path}` }),
      // the body changed after signing
      { ...good, payload: new URLSearchParams({ ...params, Body: "STOP" }).toString() },
    ];
    for (const attempt of attempts) {
      const response = await app.inject(attempt);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: "invalid-signature" });
    }
    expect({ messages: await deps.prisma.message.count(), receipts: await deps.prisma.webhookReceipt.count(), calls: await deps.prisma.call.count() }).toEqual(before);
  });
});

describe("POST /twilio/sms", () => {
  it("stores the text, answers empty TwiML, and a replay is answered the same with one effect", async () => {
    const { app, deps, settle, sandbox } = ctx();
    const request = signed("/twilio/sms", sms("SM" + "a".repeat(32), "HELP"));
    const first = await app.inject(request);
    const replay = await app.inject(request);
    expect(first.statusCode).toBe(200);
    expect(first.headers["content-type"]).toMatch(/^text\/xml/);
    expect(first.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(replay.statusCode).toBe(200);
    expect(replay.body).toBe(first.body);
    await settle();
    expect(await deps.prisma.message.count({ where: { twilioSid: "SM" + "a".repeat(32) } })).toBe(1);
    // one HELP reply, not two
    const replies = await deps.prisma.message.findMany({ where: { to: DAN, purpose: "keyword_reply" } });
    expect(replies).toHaveLength(1);
    expect(sandbox.state.contractViolations).toEqual([]);
  });

  it("refuses a signed body without the required fields with 400", async () => {
    const { app } = ctx();
    const response = await app.inject(signed("/twilio/sms", { From: DAN }));
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.MessageSid", "body.To"]);
  });
});

describe("POST /twilio/status/message", () => {
  it("never moves a message back, whatever order callbacks arrive in", async () => {
    const { app, deps } = ctx();
    const message = await deps.prisma.message.create({
      data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: DAN, body: "hi", status: "sending", twilioSid: "SM" + "b".repeat(32) },
    });
    const callback = (status: string, extra: Record<string, string> = {}) =>
      app.inject(signed("/twilio/status/message", { MessageSid: message.twilioSid!, MessageStatus: status, SmsStatus: status, ...extra }));
    for (const status of ["delivered", "sent", "sending", "delivered", "sent"]) expect((await callback(status)).statusCode).toBe(200);
    expect((await deps.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).status).toBe("delivered");
    // a failure after delivery does not overwrite it either
    await callback("undelivered", { ErrorCode: "30003" });
    expect(await deps.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({ status: "delivered", errorCode: null });
  });

  it("records the carrier error of a failed message and matches a message whose SID was never stored", async () => {
    const { app, deps } = ctx();
    const message = await deps.prisma.message.create({
      data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: DAN, body: "hi", status: "sending" },
    });
    const path = `/twilio/status/message?messageId=${message.id}`;
    const response = await app.inject(signed(path, { MessageSid: "SM" + "c".repeat(32), MessageStatus: "undelivered", ErrorCode: "30006" }));
    expect(response.statusCode).toBe(200);
    expect(await deps.prisma.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({
      status: "undelivered",
      errorCode: 30006,
      twilioSid: "SM" + "c".repeat(32),
    });
  });

  it("answers 200 for a message it does not know (Twilio would retry a 4xx for days)", async () => {
    const { app } = ctx();
    const response = await app.inject(signed("/twilio/status/message", { MessageSid: "SM" + "d".repeat(32), MessageStatus: "sent" }));
    expect(response.statusCode).toBe(200);
  });
});

describe("POST /twilio/status/call", () => {
  it("moves a call forward only and stores its duration", async () => {
    const { app, deps } = ctx();
    const sid = "CA" + "e".repeat(32);
    const callback = (status: string, extra: Record<string, string> = {}) =>
      app.inject(signed("/twilio/status/call", { CallSid: sid, From: DAN, To: LINE, CallStatus: status, ...extra }));
    await callback("ringing");
    await callback("completed", { CallDuration: "42" });
    await callback("in-progress");
    await callback("completed", { CallDuration: "42" });
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ status: "completed", durationSeconds: 42 });
  });
});

describe("webhook bodies that are signed but odd", () => {
  it("never 500s on out-of-range numbers or NUL characters", async () => {
    const { app, deps } = ctx();
    const huge = await app.inject(signed("/twilio/status/call", { CallSid: "CA" + "9".repeat(32), CallStatus: "completed", CallDuration: "99999999999999" }));
    expect(huge.statusCode).toBe(400);
    const error = await app.inject(signed("/twilio/status/message", { MessageSid: "SM" + "9".repeat(32), MessageStatus: "failed", ErrorCode: "99999999999" }));
    expect(error.statusCode).toBe(400);
    const nul = await app.inject(signed("/twilio/sms", sms("SM" + "8".repeat(32), "hello\u0000there")));
    expect(nul.statusCode).toBe(200);
    expect((await deps.prisma.message.findUniqueOrThrow({ where: { twilioSid: "SM" + "8".repeat(32) } })).body).toBe("hellothere");
  });

  it("a voice request and a status callback for one new call at once both succeed", async () => {
    const { app } = ctx();
    const sid = "CA" + "7".repeat(32);
    const [voice, status] = await Promise.all([
      app.inject(signed("/twilio/voice", { CallSid: sid, From: DAN, To: LINE, CallStatus: "ringing" })),
      app.inject(signed("/twilio/status/call", { CallSid: sid, From: DAN, To: LINE, CallStatus: "initiated" })),
    ]);
    expect([voice.statusCode, status.statusCode]).toEqual([200, 200]);
  });
});
