import { describe, expect, it } from "vitest";
import {
  type CallEvent,
  type CallHost,
  type HttpAnswer,
  type PhoneBehavior,
  TwilioApiError,
  VoiceEngine,
  collectDigits,
} from "./engine.js";

const ACCOUNT = `AC${"a".repeat(32)}`;
const T0 = new Date("2025-03-04T10:00:00Z");
const APP = "https://app.test";
const PLATFORM = "+15559990000"; // the app's Twilio number
const CUSTOMER = "+15550001111";
const EXPERT = "+15552223333";

type Page = string | HttpAnswer | ((params: Record<string, string>) => string | HttpAnswer);

interface Sent {
  url: string;
  method: "GET" | "POST";
  params: Record<string, string>;
}

/** In-memory CallHost: canned answers per URL, phones from a map, fixed clock. */
function fakeHost(options: {
  pages?: Record<string, Page>;
  phones?: Record<string, PhoneBehavior>;
  numbers?: Record<string, string>;
}) {
  const sent: Sent[] = [];
  const events: CallEvent[] = [];
  const host: CallHost = {
    accountSid: ACCOUNT,
    clock: { now: () => new Date(T0) },
    async request(url, method, params) {
      sent.push({ url, method, params });
      const page = options.pages?.[url];
      if (page === undefined) {
        // Status callbacks and other unlisted URLs simply succeed with no body.
        return url.includes("/status") ? { status: 204, contentType: "text/plain", body: "" } : { status: 404, contentType: "text/plain", body: "nope" };
      }
      const value = typeof page === "function" ? page(params) : page;
      return typeof value === "string" ? { status: 200, contentType: "text/xml", body: value } : value;
    },
    behaviorOf: (number) => options.phones?.[number],
    voiceUrlOf: (number) => {
      const url = options.numbers?.[number];
      return url === undefined ? undefined : { url, method: "POST" };
    },
    log: (event) => events.push(event),
  };
  const engine = new VoiceEngine(host);
  return {
    engine,
    sent,
    events,
    requestsTo: (url: string) => sent.filter((s) => s.url === url),
    eventsOf: <T extends CallEvent["type"]>(type: T) =>
      events.filter((e): e is Extract<CallEvent, { type: T }> => e.type === type),
    statusesOf: (sid: string) =>
      events.filter((e) => e.type === "status" && e.callSid === sid).map((e) => (e.type === "status" ? e.status : "")),
  };
}

const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toUTCString().replace("GMT", "+0000");

function apiError(fn: () => unknown): TwilioApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TwilioApiError) return error;
    throw error;
  }
  throw new Error("expected a TwilioApiError");
}

describe("outbound API calls", () => {
  it("answers, gathers digits, requests the action, says and hangs up, with progress callbacks", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer", ringSeconds: 4, inputs: [{ digits: "1" }] } },
      pages: {
        [`${APP}/voice/offer`]:
          '<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" action="/voice/choice"><Say voice="Polly.Joanna">Press 1 to take the question</Say></Gather><Say>We did not get that</Say></Response>',
        [`${APP}/voice/choice`]: (p) =>
          `<Response><Pause length="2"/><Say>You pressed ${p.Digits ?? "nothing"}</Say><Hangup/><Say>never</Say></Response>`,
      },
    });
    const created = t.engine.createCall({
      To: EXPERT,
      From: PLATFORM,
      Url: `${APP}/voice/offer`,
      StatusCallback: `${APP}/status`,
      StatusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
    });
    expect(created.status).toBe("queued");
    expect(created.direction).toBe("outbound-api");
    expect(created.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${created.sid}.json`);
    expect(created.sid).toMatch(/^CA[0-9a-f]{32}$/);
    await t.engine.idle();

    const [offer] = t.requestsTo(`${APP}/voice/offer`);
    expect(offer?.method).toBe("POST");
    expect(offer?.params).toEqual({
      CallSid: created.sid,
      AccountSid: ACCOUNT,
      From: PLATFORM,
      To: EXPERT,
      CallStatus: "in-progress",
      ApiVersion: "2010-04-01",
      Direction: "outbound-api",
      Caller: PLATFORM,
      Called: EXPERT,
    });
    const [choice] = t.requestsTo(`${APP}/voice/choice`);
    expect(choice?.params.Digits).toBe("1");
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Press 1 to take the question", "You pressed 1"]);
    expect(t.eventsOf("say")[0]?.voice).toBe("Polly.Joanna");
    expect(t.eventsOf("gather")).toEqual([{ type: "gather", callSid: created.sid, input: "1" }]);

    const callbacks = t.requestsTo(`${APP}/status`).map((s) => s.params);
    expect(callbacks.map((c) => [c.CallStatus, c.SequenceNumber, c.Timestamp])).toEqual([
      ["initiated", "0", at(0)],
      ["ringing", "1", at(0)],
      ["in-progress", "2", at(4)],
      ["completed", "3", at(6)],
    ]);
    expect(callbacks.every((c) => c.CallbackSource === "call-progress-events")).toBe(true);
    expect(callbacks[3]).toMatchObject({ CallDuration: "2", Duration: "1" });
    expect(callbacks[2]?.CallDuration).toBeUndefined();

    const call = t.engine.getCall(created.sid);
    expect(call).toMatchObject({ status: "completed", duration: "2", start_time: at(0), end_time: at(6), price: null });
    expect(t.statusesOf(created.sid)).toEqual(["queued", "initiated", "ringing", "in-progress", "completed"]);
  });

  it("moves on to the next verb when <Gather> gets no input", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer" } },
      pages: {
        [`${APP}/v`]: '<Response><Gather action="/never"><Say>Press a key</Say></Gather><Say>Goodbye</Say></Response>',
      },
    });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/v` });
    await t.engine.idle();
    expect(t.requestsTo(`${APP}/never`)).toHaveLength(0);
    expect(t.eventsOf("gather")).toEqual([{ type: "gather", callSid: call.sid, input: null }]);
    // 5 s default Gather timeout after a 3 s default ring.
    expect(t.engine.getCall(call.sid)).toMatchObject({ status: "completed", duration: "5" });
  });

  it("ends busy without asking the app, reporting only 'completed' when no events are chosen", async () => {
    const t = fakeHost({ phones: { [EXPERT]: { answer: "busy" } } });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/v`, StatusCallback: `${APP}/status` });
    await t.engine.idle();
    expect(t.requestsTo(`${APP}/v`)).toHaveLength(0);
    const callbacks = t.requestsTo(`${APP}/status`).map((s) => s.params);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({ CallStatus: "busy", SequenceNumber: "0", CallDuration: "0" });
    expect(t.engine.getCall(call.sid)).toMatchObject({ status: "busy", duration: null });
  });

  it("ends no-answer when the phone rings longer than Timeout", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer", ringSeconds: 70 }, "+15553334444": { answer: "no-answer" } },
    });
    const slow = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/v` });
    const never = t.engine.createCall({
      To: "+15553334444",
      From: PLATFORM,
      Url: `${APP}/v`,
      Timeout: "15",
      StatusCallback: `${APP}/status`,
    });
    await t.engine.idle();
    expect(t.engine.getCall(slow.sid)).toMatchObject({ status: "no-answer", end_time: at(60) });
    expect(t.engine.getCall(never.sid)).toMatchObject({ status: "no-answer", end_time: at(15) });
    expect(t.requestsTo(`${APP}/v`)).toHaveLength(0);
  });

  it("fails a call to a number that is not a simulated phone", async () => {
    const t = fakeHost({});
    const call = t.engine.createCall({ To: "+15557778888", From: PLATFORM, Url: `${APP}/v` });
    await t.engine.idle();
    expect(t.statusesOf(call.sid)).toEqual(["queued", "initiated", "failed"]);
  });

  it("runs inline Twiml and can be canceled while queued", async () => {
    const t = fakeHost({ phones: { [EXPERT]: { answer: "answer" } } });
    const inline = t.engine.createCall({ To: EXPERT, From: PLATFORM, Twiml: "<Response><Say>Hi</Say></Response>" });
    const canceled = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/v` });
    t.engine.updateCall(canceled.sid, { Status: "canceled" });
    await t.engine.idle();
    expect(t.eventsOf("say").map((e) => [e.callSid, e.text])).toEqual([[inline.sid, "Hi"]]);
    expect(t.engine.getCall(inline.sid)?.status).toBe("completed");
    expect(t.engine.getCall(canceled.sid)?.status).toBe("canceled");
    expect(t.engine.listCalls().map((c) => c.sid)).toEqual([canceled.sid, inline.sid]);
  });

  it("reports the recording of a call created with Record=true", async () => {
    const t = fakeHost({ phones: { [EXPERT]: { answer: "answer" } } });
    t.engine.createCall({
      To: EXPERT,
      From: PLATFORM,
      Twiml: '<Response><Pause length="7"/></Response>',
      Record: "true",
      StatusCallback: `${APP}/status`,
    });
    await t.engine.idle();
    const [done] = t.requestsTo(`${APP}/status`);
    expect(done?.params).toMatchObject({ CallStatus: "completed", CallDuration: "7", RecordingDuration: "7" });
    expect(done?.params.RecordingUrl).toMatch(new RegExp(`^https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/RE[0-9a-f]{32}$`));
  });
});

describe("createCall validation", () => {
  const t = fakeHost({});
  it("refuses a To that is not E.164 with 21211", () => {
    const error = apiError(() => t.engine.createCall({ To: "555-1234", From: PLATFORM, Url: `${APP}/v` }));
    expect(error).toMatchObject({ status: 400, code: 21211 });
    expect(error.toJSON()).toEqual({
      code: 21211,
      message: error.message,
      more_info: "https://www.twilio.com/docs/errors/21211",
      status: 400,
    });
  });
  it("refuses a call with neither Url nor Twiml (21205), or a bad Url", () => {
    expect(apiError(() => t.engine.createCall({ To: EXPERT, From: PLATFORM }))).toMatchObject({ code: 21205 });
    expect(apiError(() => t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: "/relative" }))).toMatchObject({ code: 21205 });
  });
  it("refuses a missing From (21213) and a missing To (21201)", () => {
    expect(apiError(() => t.engine.createCall({ To: EXPERT, Url: `${APP}/v` }))).toMatchObject({ code: 21213 });
    expect(apiError(() => t.engine.createCall({ From: PLATFORM, Url: `${APP}/v` }))).toMatchObject({ code: 21201 });
  });
});

describe("inbound calls", () => {
  it("asks the number's voice URL while ringing, then answers and runs the TwiML", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: `${APP}/voice/incoming` },
      pages: { [`${APP}/voice/incoming`]: "<Response><Say>Welcome</Say></Response>" },
    });
    const call = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    expect(call).toMatchObject({ status: "ringing", direction: "inbound", from: CUSTOMER, to_formatted: "(555) 999-0000" });
    expect(call.phone_number_sid).toMatch(/^PN[0-9a-f]{32}$/);
    await t.engine.idle();
    expect(t.requestsTo(`${APP}/voice/incoming`)[0]?.params).toMatchObject({
      CallStatus: "ringing",
      Direction: "inbound",
      From: CUSTOMER,
      To: PLATFORM,
    });
    expect(t.statusesOf(call.sid)).toEqual(["ringing", "in-progress", "completed"]);
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Welcome"]);
  });

  it("never answers a call the app <Reject>s", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: `${APP}/in` },
      pages: { [`${APP}/in`]: '<Response><Reject reason="busy"/><Say>unreachable</Say></Response>' },
    });
    const call = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    expect(t.statusesOf(call.sid)).toEqual(["ringing", "busy"]);
    expect(t.engine.getCall(call.sid)?.duration).toBeNull();
    expect(t.eventsOf("say")).toHaveLength(0);
  });
});

describe("<Dial>", () => {
  const incoming = `${APP}/voice/incoming`;
  const dialDoc =
    '<Response><Say>Connecting you</Say><Dial action="/voice/dial-done" timeout="20"><Number url="/voice/whisper" statusCallback="/status/leg" statusCallbackEvent="answered completed">+15552223333</Number></Dial><Say>unreachable</Say></Response>';
  const pages = (): Record<string, Page> => ({
    [incoming]: dialDoc,
    [`${APP}/voice/whisper`]:
      '<Response><Gather numDigits="1" action="/voice/whisper-ok"><Say>Press 1 to accept</Say></Gather><Hangup/></Response>',
    [`${APP}/voice/whisper-ok`]: (p) => (p.Digits === "1" ? "<Response/>" : "<Response><Hangup/></Response>"),
    [`${APP}/voice/dial-done`]: "<Response><Say>Thanks for calling</Say></Response>",
  });

  it("whispers to the callee, bridges on '1', and reports 300 s of talk to the Dial action", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      phones: { [EXPERT]: { answer: "answer", ringSeconds: 5, inputs: [{ digits: "1" }] } },
      pages: pages(),
    });
    const parent = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();

    const [bridge] = t.eventsOf("bridge");
    expect(bridge?.callSid).toBe(parent.sid);
    const childSid = bridge?.otherCallSid ?? "";
    expect(t.engine.getCall(childSid)).toMatchObject({
      status: "in-progress",
      direction: "outbound-dial",
      parent_call_sid: parent.sid,
      to: EXPERT,
      from: CUSTOMER, // callerId defaults to the caller's number
    });
    const [whisper] = t.requestsTo(`${APP}/voice/whisper`);
    expect(whisper?.params).toMatchObject({ CallSid: childSid, ParentCallSid: parent.sid, Direction: "outbound-dial" });
    expect(t.requestsTo(`${APP}/voice/dial-done`)).toHaveLength(0);

    await t.engine.hangup(childSid, { afterSeconds: 300 });

    const [done] = t.requestsTo(`${APP}/voice/dial-done`);
    expect(done?.params).toMatchObject({
      CallSid: parent.sid,
      CallStatus: "in-progress",
      DialCallStatus: "completed",
      DialCallSid: childSid,
      DialCallDuration: "300",
      DialBridged: "true",
    });
    expect(t.engine.getCall(childSid)).toMatchObject({ status: "completed", duration: "300" });
    expect(t.engine.getCall(parent.sid)).toMatchObject({ status: "completed", duration: "305" });
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Connecting you", "Press 1 to accept", "Thanks for calling"]);
    // The <Number>'s own status callback follows the child leg.
    expect(t.requestsTo(`${APP}/status/leg`).map((s) => [s.params.CallStatus, s.params.SequenceNumber])).toEqual([
      ["in-progress", "0"],
      ["completed", "1"],
    ]);
  });

  it("still reports the Dial outcome when the caller hangs up, then ends both legs", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      phones: { [EXPERT]: { answer: "answer", inputs: [{ digits: "1" }] } },
      pages: pages(),
    });
    const parent = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    await t.engine.hangup(parent.sid, { afterSeconds: 42 });
    const [done] = t.requestsTo(`${APP}/voice/dial-done`);
    expect(done?.params).toMatchObject({ CallStatus: "completed", DialCallStatus: "completed", DialCallDuration: "42" });
    expect(t.eventsOf("say").map((e) => e.text)).not.toContain("Thanks for calling");
    expect(t.engine.listCalls().map((c) => c.status)).toEqual(["completed", "completed"]);
  });

  it("does not bridge when the whisper hangs up (wrong key): completed, DialBridged=false", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      phones: { [EXPERT]: { answer: "answer", inputs: [{ digits: "2" }] } },
      pages: pages(),
    });
    t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    expect(t.eventsOf("bridge")).toHaveLength(0);
    expect(t.requestsTo(`${APP}/voice/dial-done`)[0]?.params).toMatchObject({
      DialCallStatus: "completed",
      DialCallDuration: "0",
      DialBridged: "false",
    });
  });

  it("reports no-answer when the number does not pick up within the timeout", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      phones: { [EXPERT]: { answer: "no-answer" } },
      pages: pages(),
    });
    const parent = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    const [done] = t.requestsTo(`${APP}/voice/dial-done`);
    expect(done?.params).toMatchObject({ DialCallStatus: "no-answer", DialBridged: "false" });
    // Omitted, not "0", for a leg that never answered (the stricter reading).
    expect(done?.params.DialCallDuration).toBeUndefined();
    const child = t.engine.getCall(done?.params.DialCallSid ?? "");
    expect(child).toMatchObject({ status: "no-answer", duration: null });
    // The caller waited out the 20 s timeout.
    expect(t.engine.getCall(parent.sid)).toMatchObject({ status: "completed", duration: "20" });
  });

  it("continues with the next verb when <Dial> has no action", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      phones: { [EXPERT]: { answer: "busy" } },
      pages: { [incoming]: `<Response><Dial>${EXPERT}</Dial><Say>Sorry, busy</Say></Response>` },
    });
    t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Sorry, busy"]);
  });

  it("bridges two legs that join the same <Conference>", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: incoming },
      pages: { [incoming]: '<Response><Dial action="/after"><Conference>room-1</Conference></Dial></Response>' },
    });
    const a = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    const b = t.engine.placeInboundCall(EXPERT, PLATFORM);
    await t.engine.idle();
    expect(t.eventsOf("conference").map((e) => [e.callSid, e.action])).toEqual([
      [a.sid, "join"],
      [b.sid, "join"],
    ]);
    expect(t.eventsOf("bridge")).toEqual([{ type: "bridge", callSid: b.sid, otherCallSid: a.sid }]);
    await t.engine.hangup(a.sid, { afterSeconds: 60 });
    expect(t.engine.getCall(a.sid)).toMatchObject({ status: "completed", duration: "60" });
    expect(t.engine.getCall(b.sid)?.status).toBe("in-progress");
    const [after] = t.requestsTo(`${APP}/after`);
    expect(after?.params).toMatchObject({ CallSid: a.sid, DialCallStatus: "completed" });
    expect(after?.params.DialCallSid).toBeUndefined();
    await t.engine.hangup(b.sid);
    expect(t.engine.getCall(b.sid)?.status).toBe("completed");
  });
});

describe("<Conference>", () => {
  const ROOM = "session-7kq";
  const OK: HttpAnswer = { status: 204, contentType: "text/plain", body: "" };
  const expertDoc = (attrs: string, dialAttrs = "") =>
    `<Response><Dial action="/voice/after"${dialAttrs}><Conference startConferenceOnEnter="false" endConferenceOnExit="true" ${attrs}>${ROOM}</Conference></Dial></Response>`;
  // The customer's own callback settings come second, so they are ignored.
  const customerDoc = (before = "", dialAttrs = "") =>
    `<Response>${before}<Dial${dialAttrs}><Conference endConferenceOnExit="true" statusCallback="/conf/ignored" statusCallbackEvent="join leave">${ROOM}</Conference></Dial><Say>Back from the room</Say></Response>`;

  /** The expert is called by the API and joins first (answered after 3 s of ringing); the customer calls in and joins second. */
  async function session(options: { expert: string; customer?: string; expertDial?: string }) {
    const t = fakeHost({
      numbers: { [PLATFORM]: `${APP}/voice/customer` },
      phones: { [EXPERT]: { answer: "answer" } },
      pages: {
        [`${APP}/voice/expert`]: options.expert,
        [`${APP}/voice/customer`]: options.customer ?? customerDoc(),
        [`${APP}/voice/after`]: "<Response><Say>The session has ended</Say></Response>",
        [`${APP}/conf/events`]: OK,
        [`${APP}/conf/ignored`]: OK,
        [`${APP}/conf/recording`]: OK,
        [`${APP}/announce`]: '<Response><Say voice="Polly.Joanna">One minute left</Say><Pause length="1"/></Response>',
      },
    });
    const expert = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/voice/expert` });
    await t.engine.idle();
    const [waiting] = t.engine.listConferences();
    const customer = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    const conferenceSid = waiting?.sid ?? "";
    const events = () =>
      t.requestsTo(`${APP}/conf/events`).map((s) => [s.params.StatusCallbackEvent, s.params.CallSid ?? "-", s.params.SequenceNumber, s.params.Timestamp]);
    return { t, expert, customer, waiting, conferenceSid, events };
  }

  it("starts when the customer joins the waiting expert, ends when the customer hangs up: callbacks in order, in virtual time", async () => {
    const { t, expert, customer, waiting, conferenceSid, events } = await session({
      expert: expertDoc('statusCallback="/conf/events" statusCallbackEvent="start end join leave mute hold"'),
    });
    // Alone with startConferenceOnEnter=false, the expert waited in a conference that had not started.
    expect(waiting).toMatchObject({ status: "init", friendly_name: ROOM, date_created: at(3) });
    expect(conferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    expect(t.engine.getConference(conferenceSid)).toMatchObject({ status: "in-progress", date_updated: at(3) });

    await t.engine.hangup(customer.sid, { afterSeconds: 95 });

    expect(events()).toEqual([
      ["participant-join", expert.sid, "0", at(3)],
      // The customer answered at 0 s and joined at the room's clock, 3 s.
      ["participant-join", customer.sid, "1", at(3)],
      ["conference-start", "-", "2", at(3)],
      ["participant-leave", customer.sid, "3", at(98)],
      ["conference-end", "-", "4", at(98)],
      ["participant-leave", expert.sid, "5", at(98)],
    ]);
    const [expertJoin, customerJoin, start, customerLeave, end, expertLeave] = t.requestsTo(`${APP}/conf/events`).map((s) => s.params);
    expect(expertJoin).toEqual({
      ConferenceSid: conferenceSid,
      FriendlyName: ROOM,
      AccountSid: ACCOUNT,
      SequenceNumber: "0",
      Timestamp: at(3),
      StatusCallbackEvent: "participant-join",
      CallSid: expert.sid,
      Muted: "false",
      Hold: "false",
      Coaching: "false",
      EndConferenceOnExit: "true",
      StartConferenceOnEnter: "false",
    });
    expect(customerJoin).toMatchObject({ StartConferenceOnEnter: "true", EndConferenceOnExit: "true" });
    expect(start).toEqual({
      ConferenceSid: conferenceSid,
      FriendlyName: ROOM,
      AccountSid: ACCOUNT,
      SequenceNumber: "2",
      Timestamp: at(3),
      StatusCallbackEvent: "conference-start",
    });
    expect(customerLeave).toMatchObject({ ReasonParticipantLeft: "participant_hung_up", ParticipantCallStatus: "completed" });
    expect(end).toEqual({
      ConferenceSid: conferenceSid,
      FriendlyName: ROOM,
      AccountSid: ACCOUNT,
      SequenceNumber: "4",
      Timestamp: at(98),
      StatusCallbackEvent: "conference-end",
      ReasonConferenceEnded: "participant-with-end-conference-on-exit-left",
      CallSidEndingConference: customer.sid,
    });
    expect(expertLeave).toMatchObject({ ReasonParticipantLeft: "moderator_ended_conference", ParticipantCallStatus: "in-progress" });
    // Only the first participant's statusCallback counts; no recording was asked for.
    expect(t.requestsTo(`${APP}/conf/ignored`)).toHaveLength(0);
    expect(t.requestsTo(`${APP}/conf/recording`)).toHaveLength(0);
    expect(t.eventsOf("conference-record")).toHaveLength(0);

    // The expert's Dial completed and went on with its action; the customer's call ended.
    expect(t.requestsTo(`${APP}/voice/after`).map((s) => s.params)).toEqual([
      expect.objectContaining({ CallSid: expert.sid, CallStatus: "in-progress", DialCallStatus: "completed" }),
    ]);
    expect(t.engine.getCall(expert.sid)).toMatchObject({ status: "completed", duration: "95", end_time: at(98) });
    expect(t.engine.getCall(customer.sid)).toMatchObject({ status: "completed", duration: "98" });
    expect(t.eventsOf("say").filter((e) => e.callSid === customer.sid)).toHaveLength(0);
    expect(t.engine.getConference(conferenceSid)).toEqual({
      account_sid: ACCOUNT,
      date_created: at(3),
      date_updated: at(98),
      api_version: "2010-04-01",
      friendly_name: ROOM,
      region: "us1",
      sid: conferenceSid,
      status: "completed",
      uri: `/2010-04-01/Accounts/${ACCOUNT}/Conferences/${conferenceSid}.json`,
      subresource_uris: {
        participants: `/2010-04-01/Accounts/${ACCOUNT}/Conferences/${conferenceSid}/Participants.json`,
        recordings: `/2010-04-01/Accounts/${ACCOUNT}/Conferences/${conferenceSid}/Recordings.json`,
      },
      reason_conference_ended: "participant-with-end-conference-on-exit-left",
      call_sid_ending_conference: customer.sid,
    });
  });

  it("does not start while everyone in it has startConferenceOnEnter=false, and ends when the last one leaves", async () => {
    const waitingDoc = `<Response><Dial><Conference startConferenceOnEnter="false" statusCallback="/conf/events" statusCallbackEvent="start end join leave">${ROOM}</Conference></Dial></Response>`;
    const { t, expert, customer, conferenceSid, events } = await session({ expert: waitingDoc, customer: waitingDoc });
    expect(t.engine.getConference(conferenceSid)?.status).toBe("init");
    await t.engine.hangup(expert.sid, { afterSeconds: 10 });
    // Without endConferenceOnExit the customer stays in.
    expect(t.engine.getCall(customer.sid)?.status).toBe("in-progress");
    await t.engine.hangup(customer.sid, { afterSeconds: 20 });
    expect(events()).toEqual([
      ["participant-join", expert.sid, "0", at(3)],
      ["participant-join", customer.sid, "1", at(3)],
      ["participant-leave", expert.sid, "2", at(13)],
      ["participant-leave", customer.sid, "3", at(23)],
      ["conference-end", "-", "4", at(23)],
    ]);
    expect(t.engine.getConference(conferenceSid)).toMatchObject({
      status: "completed",
      reason_conference_ended: "last-participant-left",
      call_sid_ending_conference: customer.sid,
    });
  });

  it("takes a leg out when its Dial timeLimit runs out, ending the conference for both; a later hang-up is moot", async () => {
    const { t, expert, customer, conferenceSid, events } = await session({
      expert: expertDoc('statusCallback="/conf/events" statusCallbackEvent="end leave"', ' timeLimit="60"'),
    });
    // Asked for 300 s after joining, but the expert's Dial (started at 3 s) ends at 63 s.
    await t.engine.hangup(customer.sid, { afterSeconds: 300 });
    expect(events()).toEqual([
      ["participant-leave", expert.sid, "0", at(63)],
      ["conference-end", "-", "1", at(63)],
      ["participant-leave", customer.sid, "2", at(63)],
    ]);
    const [expertLeave, end, customerLeave] = t.requestsTo(`${APP}/conf/events`).map((s) => s.params);
    expect(expertLeave).toMatchObject({ ReasonParticipantLeft: "participant_hung_up", ParticipantCallStatus: "in-progress" });
    expect(end).toMatchObject({ ReasonConferenceEnded: "participant-with-end-conference-on-exit-left", CallSidEndingConference: expert.sid });
    expect(customerLeave).toMatchObject({ ReasonParticipantLeft: "moderator_ended_conference", ParticipantCallStatus: "in-progress" });
    // Both Dials went on: the expert's to its action, the customer's to the next verb.
    expect(t.requestsTo(`${APP}/voice/after`)[0]?.params).toMatchObject({ CallSid: expert.sid, CallStatus: "in-progress" });
    // (The two legs run side by side: their says may interleave either way.)
    expect(t.eventsOf("say").map((e) => `${e.callSid} ${e.text}`).sort()).toEqual(
      [`${customer.sid} Back from the room`, `${expert.sid} The session has ended`].sort(),
    );
    expect(t.engine.getCall(customer.sid)).toMatchObject({ status: "completed", duration: "63" });
    expect(t.engine.getCall(expert.sid)).toMatchObject({ status: "completed", duration: "60" });
    expect(t.engine.getConference(conferenceSid)?.date_updated).toBe(at(63));
  });

  it("records from the start of the conference to its end (not the wait), and reports it to recordingStatusCallback", async () => {
    const { t, customer, conferenceSid } = await session({
      expert: expertDoc('record="record-from-start" recordingStatusCallback="/conf/recording"'),
      // The customer listens to 10 s of preamble first: the expert waits alone meanwhile, unrecorded.
      customer: customerDoc('<Pause length="10"/>'),
    });
    expect(t.requestsTo(`${APP}/conf/recording`)).toHaveLength(0);
    await t.engine.hangup(customer.sid, { afterSeconds: 95 });
    const [recording] = t.requestsTo(`${APP}/conf/recording`);
    expect(recording?.method).toBe("POST");
    expect(recording?.params).toEqual({
      AccountSid: ACCOUNT,
      ConferenceSid: conferenceSid,
      RecordingSid: expect.stringMatching(/^RE[0-9a-f]{32}$/),
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${recording?.params.RecordingSid}`,
      RecordingStatus: "completed",
      RecordingDuration: "95",
      RecordingChannels: "1",
      RecordingSource: "Conference",
      RecordingStartTime: at(10),
    });
    expect(t.eventsOf("conference-record")).toEqual([
      { type: "conference-record", conferenceSid, recordingUrl: recording?.params.RecordingUrl, seconds: 95 },
    ]);
  });

  it("announces to everyone in it through the REST API, then ends it: each Dial goes on", async () => {
    const { t, expert, customer, conferenceSid, events } = await session({
      expert: expertDoc('statusCallback="/conf/events" statusCallbackEvent="end leave announcement"'),
    });
    const announced = t.engine.updateConference(conferenceSid, { AnnounceUrl: `${APP}/announce` });
    expect(announced.status).toBe("in-progress");
    await t.engine.idle();
    const [announce] = t.requestsTo(`${APP}/announce`);
    expect(announce).toEqual({ url: `${APP}/announce`, method: "POST", params: { AccountSid: ACCOUNT, ConferenceSid: conferenceSid } });
    // Each side heard it.
    expect(t.eventsOf("say").map((e) => [e.callSid, e.text, e.voice])).toEqual([
      [expert.sid, "One minute left", "Polly.Joanna"],
      [customer.sid, "One minute left", "Polly.Joanna"],
    ]);
    expect(t.eventsOf("pause").map((e) => e.callSid)).toEqual([expert.sid, customer.sid]);

    const ended = t.engine.updateConference(conferenceSid, { Status: "completed" });
    expect(ended).toMatchObject({ status: "completed", reason_conference_ended: "conference-ended-via-api", call_sid_ending_conference: null });
    await t.engine.idle();
    expect(events()).toEqual([
      ["announcement-end", "-", "0", at(3)],
      ["conference-end", "-", "1", at(3)],
      ["participant-leave", expert.sid, "2", at(3)],
      ["participant-leave", customer.sid, "3", at(3)],
    ]);
    const params = t.requestsTo(`${APP}/conf/events`).map((s) => s.params);
    expect(params[0]).toMatchObject({ AnnounceUrl: `${APP}/announce` });
    expect(params[1]?.ReasonConferenceEnded).toBe("conference-ended-via-api");
    expect(params[1]?.CallSidEndingConference).toBeUndefined();
    expect(params.slice(2).map((p) => [p.ReasonParticipantLeft, p.ParticipantCallStatus])).toEqual([
      ["conference_ended_via_api", "in-progress"],
      ["conference_ended_via_api", "in-progress"],
    ]);
    expect(t.requestsTo(`${APP}/voice/after`)[0]?.params.CallSid).toBe(expert.sid);
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(expect.arrayContaining(["The session has ended", "Back from the room"]));
    expect(t.engine.listCalls().map((c) => c.status)).toEqual(["completed", "completed"]);
    // Ended is ended: a second Status=completed changes nothing; an announcement has nobody to reach.
    expect(t.engine.updateConference(conferenceSid, { Status: "completed" })).toEqual(ended);
    expect(apiError(() => t.engine.updateConference(conferenceSid, { AnnounceUrl: `${APP}/announce` }))).toMatchObject({ status: 400 });
  });

  it("treats a redirected member as updated through the API, and answers 20404 for an unknown conference", async () => {
    const { t, expert, customer, events } = await session({
      expert: expertDoc('statusCallback="/conf/events" statusCallbackEvent="leave"'),
    });
    t.engine.updateCall(customer.sid, { Twiml: "<Response><Say>Moved out</Say></Response>" });
    await t.engine.idle();
    expect(events()).toEqual([
      ["participant-leave", customer.sid, "0", at(3)],
      ["participant-leave", expert.sid, "1", at(3)],
    ]);
    expect(t.requestsTo(`${APP}/conf/events`)[0]?.params).toMatchObject({ ReasonParticipantLeft: "participant_updated_via_api", ParticipantCallStatus: "in-progress" });
    expect(t.eventsOf("say").find((e) => e.callSid === customer.sid)?.text).toBe("Moved out");
    expect(t.engine.getCall(expert.sid)?.status).toBe("completed");
    const unknown = `CF${"0".repeat(32)}`;
    expect(apiError(() => t.engine.updateConference(unknown, { Status: "completed" }))).toMatchObject({ status: 404, code: 20404 });
    expect(t.engine.getConference(unknown)).toBeUndefined();
  });

  it("lists conferences newest first, filtered by FriendlyName and Status", async () => {
    const { t, conferenceSid, customer } = await session({ expert: expertDoc("") });
    await t.engine.hangup(customer.sid, { afterSeconds: 5 });
    // The same name again is a new conference, with its own SID.
    const again = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    const [second, firstRun] = t.engine.listConferences();
    expect(firstRun?.sid).toBe(conferenceSid);
    expect(second).toMatchObject({ friendly_name: ROOM, status: "init" });
    expect(second?.sid).not.toBe(conferenceSid);
    expect(t.engine.listConferences({ Status: "completed" }).map((c) => c.sid)).toEqual([conferenceSid]);
    expect(t.engine.listConferences({ FriendlyName: "another" })).toEqual([]);
    expect(t.engine.listConferences({ "DateCreated>": "2025-03-04", FriendlyName: ROOM })).toHaveLength(2);
    expect(t.engine.listConferences({ "DateCreated<": "2025-03-03" })).toEqual([]);
    await t.engine.hangup(again.sid);
  });
});

describe("other verbs", () => {
  it("follows <Redirect> with a relative URL and stops a redirect loop with 11215", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer" } },
      pages: {
        [`${APP}/a`]: '<Response><Redirect method="GET">/b?x=1</Redirect><Say>unreachable</Say></Response>',
        [`${APP}/b?x=1`]: "<Response><Say>Redirected</Say><Redirect>/loop</Redirect></Response>",
        [`${APP}/loop`]: "<Response><Redirect>/loop</Redirect></Response>",
      },
    });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/a` });
    await t.engine.idle();
    expect(t.requestsTo(`${APP}/b?x=1`)[0]?.method).toBe("GET");
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Redirected"]);
    expect(t.eventsOf("error").map((e) => e.code)).toEqual([11215]);
    expect(t.engine.getCall(call.sid)?.status).toBe("completed");
  });

  it("<Record> sends RecordingUrl and RecordingDuration to its action", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer" } },
      pages: {
        [`${APP}/r`]: '<Response><Say>Leave a message</Say><Record maxLength="30" action="/recorded"/></Response>',
        [`${APP}/recorded`]: "<Response><Hangup/></Response>",
      },
    });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/r` });
    await t.engine.idle();
    const [recorded] = t.requestsTo(`${APP}/recorded`);
    expect(recorded?.params.RecordingDuration).toBe("5");
    expect(recorded?.params.RecordingUrl).toMatch(/\/Recordings\/RE[0-9a-f]{32}$/);
    expect(t.eventsOf("record")).toEqual([
      { type: "record", callSid: call.sid, recordingUrl: recorded?.params.RecordingUrl, seconds: 5 },
    ]);
    // 5 s of message plus the default 5 s of silence that ends it.
    expect(t.engine.getCall(call.sid)?.duration).toBe("10");
  });
});

describe("live call control", () => {
  const holdDoc = '<Response><Play loop="0">https://cdn.test/hold.mp3</Play></Response>';

  it("hangs up a live call on Status=completed", async () => {
    const t = fakeHost({ phones: { [EXPERT]: { answer: "answer" } }, pages: { [`${APP}/hold`]: holdDoc } });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/hold`, StatusCallback: `${APP}/status` });
    await t.engine.idle();
    expect(t.engine.getCall(call.sid)?.status).toBe("in-progress");
    t.engine.updateCall(call.sid, { Status: "completed" });
    await t.engine.idle();
    expect(t.engine.getCall(call.sid)?.status).toBe("completed");
    expect(t.requestsTo(`${APP}/status`).map((s) => s.params.CallStatus)).toEqual(["completed"]);
  });

  it("ends a bridge on Status=completed for the parent", async () => {
    const t = fakeHost({
      numbers: { [PLATFORM]: `${APP}/in` },
      phones: { [EXPERT]: { answer: "answer" } },
      pages: { [`${APP}/in`]: `<Response><Dial>${EXPERT}</Dial><Say>after</Say></Response>` },
    });
    const parent = t.engine.placeInboundCall(CUSTOMER, PLATFORM);
    await t.engine.idle();
    t.engine.updateCall(parent.sid, { Status: "completed" });
    await t.engine.idle();
    expect(t.engine.listCalls().map((c) => c.status)).toEqual(["completed", "completed"]);
    expect(t.eventsOf("say")).toHaveLength(0);
  });

  it("redirects a live call to new TwiML", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer" } },
      pages: { [`${APP}/hold`]: holdDoc, [`${APP}/moved`]: "<Response><Say>Moved</Say></Response>" },
    });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/hold` });
    await t.engine.idle();
    t.engine.updateCall(call.sid, { Url: `${APP}/moved`, Method: "POST" });
    await t.engine.idle();
    expect(t.eventsOf("say").map((e) => e.text)).toEqual(["Moved"]);
    expect(t.engine.getCall(call.sid)?.status).toBe("completed");
    expect(apiError(() => t.engine.updateCall(call.sid, { Url: `${APP}/moved` }))).toMatchObject({ code: 21220 });
  });

  it("answers 20404 for an unknown sid", async () => {
    const t = fakeHost({});
    const sid = `CA${"0".repeat(32)}`;
    expect(apiError(() => t.engine.updateCall(sid, { Status: "completed" }))).toMatchObject({ status: 404, code: 20404 });
    await expect(t.engine.hangup(sid)).rejects.toMatchObject({ code: 20404 });
    expect(t.engine.getCall(sid)).toBeUndefined();
  });
});

describe("application errors", () => {
  const cases: [string, number, HttpAnswer][] = [
    ["not XML", 12100, { status: 200, contentType: "text/xml", body: "<Response><Say>oops</Response>" }],
    ["unknown verb", 12100, { status: 200, contentType: "text/xml", body: "<Response><Shout>hi</Shout><Say>x</Say></Response>" }],
    ["root not Response", 12100, { status: 200, contentType: "text/xml", body: "<Reply><Say>x</Say></Reply>" }],
    ["HTTP 500", 11200, { status: 500, contentType: "text/html", body: "boom" }],
    ["JSON", 12300, { status: 200, contentType: "application/json", body: '{"say":"hi"}' }],
  ];
  it.each(cases)("%s -> error %i logged, nothing played, call completed", async (_name, code, answer) => {
    const t = fakeHost({ phones: { [EXPERT]: { answer: "answer" } }, pages: { [`${APP}/bad`]: answer } });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/bad` });
    await t.engine.idle();
    expect(t.eventsOf("error").map((e) => [e.callSid, e.code])).toEqual([[call.sid, code]]);
    expect(t.eventsOf("say")).toHaveLength(0);
    expect(t.engine.getCall(call.sid)?.status).toBe("completed");
  });

  it("logs a connection failure as 11205 instead of rejecting", async () => {
    const t = fakeHost({
      phones: { [EXPERT]: { answer: "answer" } },
      pages: {
        [`${APP}/down`]: () => {
          throw new Error("ECONNREFUSED");
        },
      },
    });
    const call = t.engine.createCall({ To: EXPERT, From: PLATFORM, Url: `${APP}/down` });
    await t.engine.idle();
    expect(t.eventsOf("error").map((e) => e.code)).toEqual([11205]);
    expect(t.engine.getCall(call.sid)?.status).toBe("completed");
  });
});

describe("collectDigits", () => {
  it("stops at finishOnKey or numDigits", () => {
    expect(collectDigits("123#4", undefined, "#")).toEqual({ digits: "123", complete: true });
    expect(collectDigits("123", 2, "#")).toEqual({ digits: "12", complete: true });
    expect(collectDigits("12", undefined, "")).toEqual({ digits: "12", complete: false });
  });
});
