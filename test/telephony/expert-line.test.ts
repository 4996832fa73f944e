/**
 * The expert line as customers and experts meet it: calls run the app's
 * TwiML in the sandbox's voice engine, texts from strangers get a pointer,
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

beforeAll(async () => {
  const { app, deps, settle } = ctx();
  const shop = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Malt House" } });
  shopHeaders = { authorization: `Bearer ${shop.json().apiKey.key}` };
  await app.inject({ method: "POST", url: "/v1/experts", headers: shopHeaders, payload: { phone: nextPhone(), name: "Ann", timeZone: "UTC" } });
  await settle();
  line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.json().shop.id } })).e164;
});

describe("calling the expert line", () => {
  it("greets, takes a keypress, texts the caller, and records the finished call", async () => {
    const { sandbox, settle, inbox, deps } = ctx();
    const caller = nextPhone();
    sandbox.state.phone(caller).voice = { answer: "answer", inputs: [{ digits: "1" }] };
    const call = sandbox.voice.placeInboundCall(caller, line);
    await settle();

    const said = sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === call.sid).map((event) => event.detail.text);
    expect(said).toEqual([
      "Thanks for calling the Malt House expert line. Press 1 and we will text you, so you can type your question.",
      "We have sent you a text message. Goodbye.",
    ]);
    expect(inbox(caller)).toEqual([expect.stringMatching(/^Hi! This is Malt House's expert line/)]);
    expect(sandbox.voice.getCall(call.sid)).toMatchObject({ status: "completed" });
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { twilioSid: call.sid } })).toMatchObject({
      direction: "inbound",
      from: caller,
      status: "completed",
    });
  });

  it("says goodbye without texting when the caller presses nothing", async () => {
    const { sandbox, settle, inbox } = ctx();
    const caller = nextPhone();
    sandbox.state.phone(caller).voice = { answer: "answer", inputs: [] };
    const call = sandbox.voice.placeInboundCall(caller, line);
    await settle();
    const said = sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === call.sid).map((event) => event.detail.text);
    expect(said.at(-1)).toBe("We did not get a choice. Goodbye.");
    expect(inbox(caller)).toEqual([]);
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
