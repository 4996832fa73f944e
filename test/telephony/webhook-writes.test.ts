/**
 * The webhooks' one-statement writes (src/modules/telephony/webhook-writes.ts)
 * under the conditions that break naive dedupe: the same delivery arriving
 * many times at once, a replay after its receipt was purged, and form values
 * that name inherited object properties. No workers run here, so every
 * outbox row the webhooks write stays countable.
 */
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { adminHeaders, nextPhone } from "../helpers/factories.js";
import { useTestContext } from "../helpers/context.js";
import { signedTwilioWebhook as signed } from "../helpers/signed-webhook.js";

const ctx = useTestContext();
const LINE = "+14155550170";
const CUSTOMER = "+13125550199";
let shopId: string;
let sidCounter = 0;
const newSid = (prefix: "SM" | "CA") => `${prefix}${(++sidCounter).toString(16).padStart(32, "0")}`;

const sms = (sid: string, body: string, from = CUSTOMER) => ({ MessageSid: sid, AccountSid: "AC" + "0".repeat(32), From: from, To: LINE, Body: body });

async function rowsFor(sid: string) {
  const { prisma } = ctx().deps;
  const messages = await prisma.message.findMany({ where: { twilioSid: sid } });
  return {
    messages,
    receipts: await prisma.webhookReceipt.count({ where: { dedupeKey: { contains: sid } } }),
    outbox: await prisma.outboxEvent.findMany({ where: { jobId: { in: messages.map((message) => `inbound-${message.id}`) } } }),
  };
}

beforeAll(async () => {
  const shop = await ctx().app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Wort Works" } });
  shopId = shop.json().shop.id;
  const line = await ctx().app.inject({ method: "POST", url: "/v1/admin/phone-numbers", headers: adminHeaders, payload: { e164: LINE, purpose: "expert_line", shopId } });
  expect(line.statusCode).toBe(201);
});

describe("POST /twilio/sms", () => {
  it("writes the message, its receipt and its job in one go, for the shop that owns the line", async () => {
    const sid = newSid("SM");
    const response = await ctx().app.inject(signed("/twilio/sms", sms(sid, "Is the kettle induction ready?")));
    expect(response.statusCode).toBe(200);
    const { messages, receipts, outbox } = await rowsFor(sid);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ shopId, direction: "inbound", purpose: "inbound", from: CUSTOMER, to: LINE, body: "Is the kettle induction ready?", status: "received" });
    expect(receipts).toBe(1);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ topic: "telephony/handle-inbound-sms", payload: { messageId: messages[0]?.id }, publishedAt: null });
  });

  it("twenty simultaneous deliveries of one MessageSid store one message and one job, and all answer 200", async () => {
    const sid = newSid("SM");
    const responses = await Promise.all(Array.from({ length: 20 }, () => ctx().app.inject(signed("/twilio/sms", sms(sid, "YES")))));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    const { messages, receipts, outbox } = await rowsFor(sid);
    expect([messages.length, receipts, outbox.length]).toEqual([1, 1, 1]);
  });

  it("a replay after its receipt was purged still adds nothing: the MessageSid itself is unique", async () => {
    const sid = newSid("SM");
    await ctx().app.inject(signed("/twilio/sms", sms(sid, "first")));
    await ctx().deps.prisma.webhookReceipt.deleteMany({ where: { dedupeKey: `sms:${sid}` } });
    const replay = await ctx().app.inject(signed("/twilio/sms", sms(sid, "first")));
    expect(replay.statusCode).toBe(200);
    const { messages, outbox } = await rowsFor(sid);
    expect([messages.length, outbox.length]).toEqual([1, 1]);
  });

  it("a text to a number no shop owns is kept without a shop", async () => {
    const sid = newSid("SM");
    const params = { ...sms(sid, "hello"), To: "+14155550171" };
    expect((await ctx().app.inject(signed("/twilio/sms", params))).statusCode).toBe(200);
    const { messages } = await rowsFor(sid);
    expect(messages[0]).toMatchObject({ shopId: null, to: "+14155550171" });
  });
});

describe("what no Twilio webhook carries is a 400, never a 500", () => {
  const long = "x".repeat(6_000);
  it.each([
    ["/twilio/sms", { MessageSid: `SM${long}`, From: CUSTOMER, To: LINE, Body: "hi" }, "body.MessageSid"],
    ["/twilio/sms", { MessageSid: newSid("SM"), From: long, To: LINE, Body: "hi" }, "body.From"],
    ["/twilio/status/message", { MessageSid: newSid("SM"), MessageStatus: long }, "body.MessageStatus"],
    ["/twilio/status/call", { CallSid: `CA${long}`, CallStatus: "ringing" }, "body.CallSid"],
    ["/twilio/status/call", { CallSid: newSid("CA"), CallStatus: long }, "body.CallStatus"],
    ["/twilio/voice", { CallSid: "not-a-sid", CallStatus: "ringing" }, "body.CallSid"],
  ])("%s with an over-long or malformed field", async (path, params, field) => {
    const before = await ctx().deps.prisma.webhookReceipt.count();
    const response = await ctx().app.inject(signed(path, params));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ path: field }] });
    expect(await ctx().deps.prisma.webhookReceipt.count()).toBe(before);
  });
});

describe("POST /twilio/status/message", () => {
  it("moves an outbound message forward once, however many identical callbacks race", async () => {
    const { prisma } = ctx().deps;
    const sid = newSid("SM");
    const message = await prisma.message.create({
      data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: nextPhone(), body: "hi", status: "sending" },
    });
    // The first callback finds the message by our id (its SID was never stored), later ones by SID.
    const url = `/twilio/status/message?messageId=${message.id}`;
    const delivered = { MessageSid: sid, MessageStatus: "delivered", AccountSid: "AC" + "0".repeat(32) };
    const sent = { ...delivered, MessageStatus: "sent" };
    const answers = await Promise.all([...Array.from({ length: 10 }, () => ctx().app.inject(signed(url, delivered))), ctx().app.inject(signed(url, sent))]);
    expect(answers.every((answer) => answer.statusCode === 200)).toBe(true);
    const row = await prisma.message.findUniqueOrThrow({ where: { id: message.id } });
    // "sent" arriving after "delivered" must not move it back.
    expect(row).toMatchObject({ status: "delivered", twilioSid: sid, errorCode: null });
    expect(await prisma.webhookReceipt.count({ where: { dedupeKey: { startsWith: `message-status:${sid}:` } } })).toBe(2);
  });

  it("a callback that moves a queued message into sending gives it a claim time, so the stuck-SMS sweep sees it", async () => {
    const { prisma } = ctx().deps;
    const sid = newSid("SM");
    const message = await prisma.message.create({ data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: nextPhone(), body: "hi", status: "queued" } });
    const url = `/twilio/status/message?messageId=${message.id}`;
    expect((await ctx().app.inject(signed(url, { MessageSid: sid, MessageStatus: "queued" }))).statusCode).toBe(200);
    const row = await prisma.message.findUniqueOrThrow({ where: { id: message.id } });
    expect(row).toMatchObject({ status: "sending", twilioSid: sid });
    expect(row.sendingClaimedAt).toBeInstanceOf(Date);
  });

  it("records Twilio's error code with a failure", async () => {
    const { prisma } = ctx().deps;
    const sid = newSid("SM");
    await prisma.message.create({ data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: nextPhone(), body: "hi", status: "sent", twilioSid: sid } });
    const failed = { MessageSid: sid, MessageStatus: "undelivered", ErrorCode: "30003" };
    expect((await ctx().app.inject(signed("/twilio/status/message", failed))).statusCode).toBe(200);
    expect(await prisma.message.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ status: "undelivered", errorCode: 30003 });
  });

  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])("MessageStatus=%s is an unknown status: 200, nothing changes", async (word) => {
    const { prisma } = ctx().deps;
    const sid = newSid("SM");
    await prisma.message.create({ data: { shopId, direction: "outbound", purpose: "test", from: LINE, to: nextPhone(), body: "hi", status: "sent", twilioSid: sid } });
    expect((await ctx().app.inject(signed("/twilio/status/message", { MessageSid: sid, MessageStatus: word }))).statusCode).toBe(200);
    expect((await prisma.message.findUniqueOrThrow({ where: { twilioSid: sid } })).status).toBe("sent");
  });
});

describe("POST /twilio/status/call", () => {
  const call = (sid: string, status: string, extra: Record<string, string> = {}) => ({ CallSid: sid, CallStatus: status, From: LINE, To: CUSTOMER, ...extra });

  it.each(["constructor", "toString", "__proto__", "valueOf"])("CallStatus=%s is an unknown status: 200, no Call row", async (word) => {
    const sid = newSid("CA");
    const response = await ctx().app.inject(signed("/twilio/status/call", call(sid, word)));
    expect(response.statusCode).toBe(200);
    expect(await ctx().deps.prisma.call.findUnique({ where: { twilioSid: sid } })).toBeNull();
  });

  it.each(["constructor", "toString"])("a voice webhook with CallStatus=%s answers TwiML, not a 500", async (word) => {
    const sid = newSid("CA");
    const response = await ctx().app.inject(signed("/twilio/voice", { CallSid: sid, CallStatus: word, From: CUSTOMER, To: LINE }));
    expect(response.statusCode).toBe(200);
    expect(await ctx().deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ status: "ringing", direction: "inbound" });
  });

  it("the first news of a call from our own number creates it as outbound; later statuses only move forward", async () => {
    const { prisma } = ctx().deps;
    const sid = newSid("CA");
    const answered = await Promise.all(Array.from({ length: 5 }, () => ctx().app.inject(signed("/twilio/status/call", call(sid, "ringing")))));
    expect(answered.every((answer) => answer.statusCode === 200)).toBe(true);
    expect(await prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ direction: "outbound", status: "ringing", from: LINE });
    await ctx().app.inject(signed("/twilio/status/call", call(sid, "completed", { CallDuration: "42" })));
    await ctx().app.inject(signed("/twilio/status/call", call(sid, "in-progress")));
    const row = await prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } });
    expect(row).toMatchObject({ status: "completed", durationSeconds: 42 });
    expect(row.endedAt).toBeInstanceOf(Date);
    // The late "in-progress" moves nothing back; the answer is dated from the length instead (call-status.test.ts).
    expect(row.startedAt).toEqual(new Date(row.endedAt!.getTime() - 42_000));
  });

  it("a status that races the insert of its Call row is applied, not lost", async () => {
    const { deps, config, schema } = ctx();
    const sid = newSid("CA");
    // placeCall (or the voice webhook) inserting the row, not yet committed, when "completed" arrives.
    const placing = new pg.Client({ connectionString: config.DATABASE_URL, options: `-c search_path="${schema}"` });
    await placing.connect();
    try {
      await placing.query("BEGIN");
      await placing.query(
        `INSERT INTO "Call" (id, "twilioSid", direction, "from", "to", status, "updatedAt") VALUES (gen_random_uuid(), $1, 'outbound', $2, $3, 'queued', now())`,
        [sid, LINE, CUSTOMER],
      );
      const callback = ctx().app.inject(signed("/twilio/status/call", call(sid, "completed", { CallDuration: "30" })));
      // The callback waits on the uncommitted row; give it time to get there before committing.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await placing.query("COMMIT");
      expect((await callback).statusCode).toBe(200);
    } finally {
      await placing.end();
    }
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ status: "completed", durationSeconds: 30, direction: "outbound" });
  });

  it("a call from a stranger's number is inbound", async () => {
    const sid = newSid("CA");
    await ctx().app.inject(signed("/twilio/status/call", { CallSid: sid, CallStatus: "ringing", From: CUSTOMER, To: LINE }));
    expect(await ctx().deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: sid } })).toMatchObject({ direction: "inbound" });
  });
});
