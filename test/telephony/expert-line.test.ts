/**
 * The expert line as customers and experts meet it: calls run the app's
 * TwiML in the sandbox's voice engine, texts from strangers are questions,
 * and opt-out words Twilio does not handle are confirmed by us, once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createExpertService } from "../../src/modules/experts/service.js";
import { handleInboundSms } from "../../src/modules/telephony/inbound.js";
import { adminHeaders, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let line: string;
let shopHeaders: { authorization: string };
const ann = nextPhone();

beforeAll(async () => {
  const { app, deps, settle } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Malt House" } });
  shopHeaders = { authorization: `Bearer ${shop.json().apiKey.key}` };
  await app.inject({ method: "POST", url: "/v1/experts", headers: shopHeaders, payload: { phone: ann, name: "Ann", timeZone: "UTC" } });
  await settle();
  line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.json().shop.id } })).e164;
});

describe("calling the expert line", () => {
  // The IVR itself has its own tests (test/questions/voice-intake.test.ts); here, the line end to end.
  it("greets, takes the question by speech, texts the caller the status link, and records the finished call", async () => {
    const { sandbox, settle, inbox, deps } = ctx();
    const caller = nextPhone();
    sandbox.state.phone(caller).voice = { answer: "answer", inputs: [{ speech: "Can I mash in a cooler?" }] };
    const call = sandbox.voice.placeInboundCall(caller, line);
    await settle();

    const said = sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === call.sid).map((event) => event.detail.text);
    // No products: nothing to choose, straight to the question. No pool: no minutes promised.
    expect(said).toEqual([
      "Thanks for calling the Malt House expert line.",
      "Please ask your question in a few sentences.",
      "Thanks. An expert will call you back as soon as one is free; we'll text you updates. Goodbye.",
    ]);
    expect(inbox(caller)[0]).toMatch(/^Hi there! Malt House got your question\. .* Follow along: http\S+\/q\/[\w-]{24}$/);
    expect(sandbox.voice.getCall(call.sid)).toMatchObject({ status: "completed" });
    const question = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: caller } });
    expect(question).toMatchObject({ channel: "voice", preferredMode: "voice", body: "Can I mash in a cooler?" });
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: call.sid } })).toMatchObject({
      direction: "inbound",
      from: caller,
      status: "completed",
      questionId: question.id,
    });
  });

  it("an expert who calls hears where they stand, and nothing is texted", async () => {
    const { sandbox, settle, inbox } = ctx();
    sandbox.state.phone(ann).voice = { answer: "answer", inputs: [] };
    const call = sandbox.voice.placeInboundCall(ann, line);
    await settle();
    const said = sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === call.sid).map((event) => event.detail.text);
    expect(said).toEqual(["Hi Ann! You haven't joined the Malt House expert line yet. Text YES to this number to join. Goodbye."]);
    expect(inbox(ann).filter((text) => !text.startsWith("Hi Ann! Malt House invites you"))).toEqual([]);
  });
});

describe("texting the expert line", () => {
  it("a stranger's text is a question (the shop has nobody for it yet), and HELP", async () => {
    const { text, inbox } = ctx();
    const stranger = nextPhone();
    await text(stranger, line, "Should I add hot acid water at mash-out?");
    expect(inbox(stranger)).toEqual([
      expect.stringMatching(/^Hi there! Malt House got your question\. .* Follow along: http\S+\/q\/[\w-]{24}$/),
      expect.stringMatching(/^No expert is free right now/),
    ]);
    await text(stranger, line, "help");
    expect(inbox(stranger).at(-1)).toContain("Reply STOP to opt out");
  });

  it("REVOKE (not handled by Twilio) is confirmed once by us, then silence", async () => {
    const { text, inbox, deps } = ctx();
    const stranger = nextPhone();
    await text(stranger, line, "revoke");
    expect(inbox(stranger)).toEqual([expect.stringMatching(/^You're unsubscribed from Malt House's expert line/)]);
    await text(stranger, line, "OPTOUT");
    await text(stranger, line, "hello?");
    expect(inbox(stranger)).toHaveLength(1);
    expect(await deps.prisma.optOut.count({ where: { phone: stranger, platformNumber: line } })).toBe(1);
  });
});

describe("texts handled out of order", () => {
  it("OFF then ON leaves the expert available even when ON is processed first", async () => {
    const { app, deps } = ctx();
    const phone = nextPhone();
    const created = await app.inject({ method: "POST", url: "/v1/experts", headers: shopHeaders, payload: { phone, name: "Bo", timeZone: "UTC" } });
    await createExpertService(deps).verifyPhone(created.json().id);
    const inbound = (body: string, at: Date) =>
      deps.prisma.message.create({
        data: { direction: "inbound", purpose: "inbound", from: phone, to: line, body, status: "received", createdAt: at },
      });
    const off = await inbound("OFF", new Date(Date.now() - 2_000));
    const on = await inbound("ON", new Date(Date.now() - 1_000));
    await handleInboundSms(deps, on.id);
    await handleInboundSms(deps, off.id);
    expect(await deps.prisma.expert.findUniqueOrThrow({ where: { id: created.json().id } })).toMatchObject({ paused: false });
  });
});
