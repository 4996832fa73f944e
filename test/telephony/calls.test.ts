/**
 * The outbound-call port against the sandbox: the request matches Twilio's
 * spec, status callbacks move the Call row along, and a call ended after
 * five virtual minutes reports 300 seconds without the test waiting.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createCallService } from "../../src/modules/telephony/calls.js";
import { webhookUrls } from "../../src/modules/telephony/numbers.js";
import { testConfig } from "../helpers/config.js";
import { nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const { PUBLIC_BASE_URL } = testConfig();
const LINE = "+14155550160";

beforeAll(() => {
  ctx().sandbox.state.own(LINE, webhookUrls(PUBLIC_BASE_URL), "PN" + "2".repeat(32));
});

describe("placeCall", () => {
  it("calls a phone, runs our TwiML, and records progress and duration", async () => {
    const { deps, sandbox, settle } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "answer", inputs: [{ digits: "1" }] };
    const calls = createCallService(deps);
    // Our own expert-line menu serves as the TwiML here; sessions bring their own documents.
    const call = await calls.placeCall({ from: LINE, to: expert, twimlUrl: `${PUBLIC_BASE_URL}/twilio/voice` });
    await settle();
    expect(call).toMatchObject({ direction: "outbound", to: expert, twilioSid: expect.stringMatching(/^CA/) });
    const row = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(row).toMatchObject({
      direction: "outbound",
      from: LINE,
      to: expert,
      status: "completed",
      startedAt: expect.any(Date),
      endedAt: expect.any(Date),
      durationSeconds: Number(sandbox.voice.getCall(call.twilioSid!)?.duration ?? "missing"),
    });
    expect(row.durationSeconds).toEqual(expect.any(Number));
    expect(row.endedAt!.getTime()).toBeGreaterThanOrEqual(row.startedAt!.getTime());
    expect(sandbox.state.contractViolations).toEqual([]);
  });

  it("a call held open and ended after 300 virtual seconds reports 300 seconds", async () => {
    const { deps, sandbox, settle, fakeRoutes } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "answer" };
    // A conference keeps the leg open until someone hangs up, as a session's bridge will.
    fakeRoutes.set("/test/hold", "<Response><Dial><Conference>hold-room</Conference></Dial></Response>");
    const calls = createCallService(deps);
    const call = await calls.placeCall({ from: LINE, to: expert, twimlUrl: `${PUBLIC_BASE_URL}/test/hold` });
    await settle();
    const live = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(live).toMatchObject({ direction: "outbound", from: LINE, to: expert, status: "in_progress", startedAt: expect.any(Date), endedAt: null, durationSeconds: null });

    await sandbox.voice.hangup(call.twilioSid!, { afterSeconds: 300 });
    await settle();
    // The sandbox's 300 seconds are virtual; our clock stamps the end when the callback arrives.
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({
      status: "completed",
      durationSeconds: 300,
      startedAt: live.startedAt,
      endedAt: expect.any(Date),
    });
  });

  it("endCall hangs up a live call through the API", async () => {
    const { deps, sandbox, settle, fakeRoutes } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "answer" };
    fakeRoutes.set("/test/hold", "<Response><Dial><Conference>hold-room-2</Conference></Dial></Response>");
    const calls = createCallService(deps);
    const call = await calls.placeCall({ from: LINE, to: expert, twimlUrl: `${PUBLIC_BASE_URL}/test/hold` });
    await settle();
    await calls.endCall(call.twilioSid!);
    await settle();
    expect(await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } })).toMatchObject({
      status: "completed",
      startedAt: expect.any(Date),
      endedAt: expect.any(Date),
      durationSeconds: expect.any(Number),
    });
    expect(sandbox.state.contractViolations).toEqual([]);
  });

  it("a phone that does not answer ends no_answer", async () => {
    const { deps, sandbox, settle } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "no-answer", ringSeconds: 600 };
    const calls = createCallService(deps);
    const call = await calls.placeCall({ from: LINE, to: expert, twimlUrl: `${PUBLIC_BASE_URL}/twilio/voice`, ringSeconds: 20 });
    await settle();
    const row = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(row).toMatchObject({ direction: "outbound", from: LINE, to: expert, status: "no_answer", startedAt: null, endedAt: expect.any(Date), durationSeconds: 0 });
  });
});
