/**
 * The outbound-call port against the sandbox: the request matches Twilio's
 * spec, status callbacks move the Call row along, a call ended after five
 * virtual minutes reports 300 seconds without the test waiting, and a dedupe
 * key places a call at most once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createCallService, type PlaceCall } from "../../src/modules/telephony/calls.js";
import { webhookUrls } from "../../src/modules/telephony/numbers.js";
import { testConfig } from "../helpers/config.js";
import { nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const { PUBLIC_BASE_URL } = testConfig();
const LINE = "+14155550160";

let keys = 0;
/** A placement with a fresh dedupe key. */
function call_(to: string, twimlUrl: string, extra: Partial<PlaceCall> = {}): PlaceCall {
  return { from: LINE, to, twimlUrl, dedupeKey: `test-call:${++keys}:${to}`, purpose: "bridge", party: "expert", ...extra };
}

/** The placed call's ids; fails the test when it was not placed. */
async function placed(outcome: Promise<Awaited<ReturnType<ReturnType<typeof createCallService>["placeCall"]>>>) {
  const result = await outcome;
  if (!result.placed) throw new Error(`the call was not placed: ${result.reason}`);
  return { id: result.callId, twilioSid: result.callSid };
}

beforeAll(() => {
  ctx().sandbox.state.own(LINE, webhookUrls(PUBLIC_BASE_URL), "PN" + "2".repeat(32));
});

describe("placeCall", () => {
  it("calls a phone, runs our TwiML, and records progress and duration", async () => {
    const { deps, sandbox, settle, fakeRoutes } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "answer", inputs: [{ digits: "1" }] };
    const calls = createCallService(deps);
    fakeRoutes.set("/test/menu", '<Response><Gather numDigits="1"><Say>Press 1</Say></Gather><Say>Bye</Say></Response>');
    const call = await placed(calls.placeCall(call_(expert, `${PUBLIC_BASE_URL}/test/menu`)));
    await settle();
    expect(call.twilioSid).toMatch(/^CA/);
    const row = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(row).toMatchObject({
      direction: "outbound",
      from: LINE,
      to: expert,
      status: "completed",
      startedAt: expect.any(Date),
      endedAt: expect.any(Date),
      durationSeconds: Number(sandbox.voice.getCall(call.twilioSid)?.duration ?? "missing"),
      purpose: "bridge",
      party: "expert",
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
    const call = await placed(calls.placeCall(call_(expert, `${PUBLIC_BASE_URL}/test/hold`)));
    await settle();
    const live = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(live).toMatchObject({ direction: "outbound", from: LINE, to: expert, status: "in_progress", startedAt: expect.any(Date), endedAt: null, durationSeconds: null });

    await sandbox.voice.hangup(call.twilioSid, { afterSeconds: 300 });
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
    const call = await placed(calls.placeCall(call_(expert, `${PUBLIC_BASE_URL}/test/hold`)));
    await settle();
    await calls.endCall(call.twilioSid);
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
    const call = await placed(calls.placeCall(call_(expert, `${PUBLIC_BASE_URL}/test/menu`, { ringSeconds: 20 })));
    await settle();
    const row = await deps.prisma.call.findUniqueOrThrow({ where: { id: call.id } });
    expect(row).toMatchObject({ direction: "outbound", from: LINE, to: expert, status: "no_answer", startedAt: null, endedAt: expect.any(Date), durationSeconds: 0 });
  });

  it("a dedupe key places one call, however often the job runs", async () => {
    const { deps, sandbox, settle, fakeRoutes } = ctx();
    const expert = nextPhone();
    sandbox.state.phone(expert).voice = { answer: "answer" };
    fakeRoutes.set("/test/bye", "<Response><Say>Bye</Say></Response>");
    const calls = createCallService(deps);
    const once = call_(expert, `${PUBLIC_BASE_URL}/test/bye`);
    const outcomes = await Promise.all([calls.placeCall(once), calls.placeCall(once), calls.placeCall(once)]);
    await settle();
    expect(outcomes.filter((outcome) => outcome.placed)).toHaveLength(1);
    expect(outcomes.filter((outcome) => !outcome.placed)).toEqual([
      { placed: false, reason: "already-claimed" },
      { placed: false, reason: "already-claimed" },
    ]);
    expect(sandbox.voice.listCalls().filter((listed) => listed.to === expert)).toHaveLength(1);
    expect(await deps.prisma.call.count({ where: { to: expert } })).toBe(1);
  });

  it("a call Twilio refuses is marked failed and never retried", async () => {
    const { deps, sandbox } = ctx();
    const expert = nextPhone();
    sandbox.state.faults.push({ status: 500, code: 20500, message: "Injected failure", count: 1 });
    const calls = createCallService(deps);
    const outcome = await calls.placeCall(call_(expert, `${PUBLIC_BASE_URL}/test/bye`));
    expect(outcome).toEqual({ placed: false, reason: "refused", code: 20500 });
    expect(await deps.prisma.call.findMany({ where: { to: expert } })).toEqual([expect.objectContaining({ status: "failed", twilioSid: null, endedAt: expect.any(Date) })]);
    expect(sandbox.voice.listCalls().filter((listed) => listed.to === expert)).toEqual([]);
  });
});
