/**
 * Conferences through Twilio's official Node SDK against the sandbox, as the
 * product will call them: list (filters and paging), fetch, update with an
 * announcement and with Status=completed. Every request is checked against
 * the Twilio spec subset on the way in; contractViolations must stay empty.
 * The callbacks the sandbox sends are signed like Twilio's.
 */
import twilio from "twilio";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTwilioClient, type TwilioClient } from "../../src/providers/twilio/client.js";
import { createTwilioSandbox, type TwilioSandbox } from "../../src/sandbox/twilio/server.js";
import { newSid } from "../../src/sandbox/twilio/sids.js";
import type { WebhookRequest } from "../../src/sandbox/twilio/transport.js";
import { testConfig } from "../helpers/config.js";

const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } = testConfig();
const APP = "http://expertline.test";
const LINE = "+14155550170";
const EXPERT = "+13125550171";
const CUSTOMER = "+12125550172";
const ROOM = "session-abc";

/** What the app would answer, by path: the expert waits in the room, the customer starts it. */
const DOCUMENTS: Record<string, string> = {
  "/voice/expert": `<Response><Dial action="${APP}/voice/after"><Conference startConferenceOnEnter="false" endConferenceOnExit="true" statusCallback="${APP}/status/conference" statusCallbackEvent="start end join leave">${ROOM}</Conference></Dial></Response>`,
  "/voice/customer": `<Response><Dial><Conference endConferenceOnExit="true">${ROOM}</Conference></Dial><Say>Thanks for calling</Say></Response>`,
  "/voice/after": "<Response><Say>Goodbye</Say></Response>",
  "/announce": "<Response><Say>Five minutes left</Say></Response>",
};

let sandbox: TwilioSandbox;
let client: TwilioClient;
let received: (WebhookRequest & { headers: Record<string, string> })[];

beforeEach(async () => {
  received = [];
  sandbox = await createTwilioSandbox({
    accountSid: TWILIO_ACCOUNT_SID,
    authToken: TWILIO_AUTH_TOKEN,
    clock: { now: () => new Date("2024-03-10T12:00:00Z") },
    sender: async (request) => {
      received.push(request);
      const body = DOCUMENTS[new URL(request.url).pathname] ?? "<Response/>";
      return { status: 200, contentType: "text/xml", body };
    },
  });
  const url = await sandbox.app.listen({ port: 0, host: "127.0.0.1" });
  client = createTwilioClient({ TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_BASE_URL: url });
  sandbox.state.own(LINE, { sms: `${APP}/sms`, voice: `${APP}/voice/customer`, callStatus: `${APP}/status/call` }, newSid("PN"));
});

afterEach(async () => {
  expect(sandbox.state.contractViolations).toEqual([]);
  await sandbox.app.close();
});

/** The expert is called through the SDK and waits; the customer calls the line and the conference starts. */
async function startSession() {
  const expert = await client.calls.create({ to: EXPERT, from: LINE, url: `${APP}/voice/expert` });
  await sandbox.idle();
  const customer = sandbox.voice.placeInboundCall(CUSTOMER, LINE);
  await sandbox.idle();
  return { expert, customer };
}

const saidTo = (callSid: string) =>
  sandbox.state.events.filter((event) => event.kind === "call-say" && event.detail.callSid === callSid).map((event) => event.detail.text);

describe("Conferences through the SDK", () => {
  it("lists and fetches the live conference with every property of the resource", async () => {
    await startSession();
    const [live] = await client.conferences.list({ friendlyName: ROOM, status: "in-progress" });
    expect(live).toMatchObject({
      accountSid: TWILIO_ACCOUNT_SID,
      apiVersion: "2010-04-01",
      friendlyName: ROOM,
      region: "us1",
      sid: expect.stringMatching(/^CF[0-9a-f]{32}$/),
      status: "in-progress",
      reasonConferenceEnded: null,
      callSidEndingConference: null,
      dateCreated: new Date("2024-03-10T12:00:03Z"),
    });
    expect(live?.uri).toBe(`/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Conferences/${live?.sid}.json`);
    expect(live?.subresourceUris).toEqual({
      participants: `/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Conferences/${live?.sid}/Participants.json`,
      recordings: `/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Conferences/${live?.sid}/Recordings.json`,
    });
    const fetched = await client.conferences(live!.sid).fetch();
    expect(fetched.toJSON()).toEqual(live?.toJSON());
    expect(await client.conferences.list({ status: "completed" })).toEqual([]);
    expect(await client.conferences.list({ friendlyName: "another-room" })).toEqual([]);
    expect(await client.conferences.list({ dateCreatedAfter: new Date("2024-03-11T00:00:00Z") })).toEqual([]);
    expect(await client.conferences.list({ dateCreated: new Date("2024-03-10T00:00:00Z") })).toHaveLength(1);
  });

  it("announces to both sides, then ends the conference: each Dial goes on", async () => {
    const { expert, customer } = await startSession();
    const [live] = await client.conferences.list({ status: "in-progress" });
    const announced = await client.conferences(live!.sid).update({ announceUrl: `${APP}/announce`, announceMethod: "GET" });
    expect(announced.status).toBe("in-progress");
    await sandbox.idle();
    const announce = received.find((request) => new URL(request.url).pathname === "/announce");
    expect(announce?.method).toBe("GET");
    expect(Object.fromEntries(new URL(announce!.url).searchParams)).toEqual({ AccountSid: TWILIO_ACCOUNT_SID, ConferenceSid: live!.sid });
    expect(saidTo(expert.sid)).toEqual(["Five minutes left"]);
    expect(saidTo(customer.sid)).toEqual(["Five minutes left"]);

    const ended = await client.conferences(live!.sid).update({ status: "completed" });
    expect(ended).toMatchObject({ status: "completed", reasonConferenceEnded: "conference-ended-via-api", callSidEndingConference: null });
    await sandbox.idle();
    expect(saidTo(expert.sid)).toEqual(["Five minutes left", "Goodbye"]);
    expect(saidTo(customer.sid)).toEqual(["Five minutes left", "Thanks for calling"]);
    expect((await client.calls(expert.sid).fetch()).status).toBe("completed");

    // The conference callbacks, in order and signed for the URL the app gave.
    const callbacks = received.filter((request) => request.url === `${APP}/status/conference`);
    expect(callbacks.map((request) => [request.params.StatusCallbackEvent, request.params.SequenceNumber])).toEqual([
      ["participant-join", "0"],
      ["participant-join", "1"],
      ["conference-start", "2"],
      ["conference-end", "3"],
      ["participant-leave", "4"],
      ["participant-leave", "5"],
    ]);
    for (const callback of callbacks) {
      expect(twilio.validateRequest(TWILIO_AUTH_TOKEN, callback.headers["x-twilio-signature"]!, callback.url, callback.params)).toBe(true);
    }
  });

  it("pages through conferences newest first, and answers 20404 for one it does not have", async () => {
    const { customer } = await startSession();
    await sandbox.voice.hangup(customer.sid, { afterSeconds: 30 });
    await startSession();
    const all = await client.conferences.list({ pageSize: 1 });
    expect(all.map((conference) => [conference.friendlyName, conference.status])).toEqual([
      [ROOM, "in-progress"],
      [ROOM, "completed"],
    ]);
    const page = await client.conferences.page({ pageSize: 1 });
    expect(page.instances.map((conference) => conference.sid)).toEqual([all[0]?.sid]);
    expect((await page.nextPage())?.instances.map((conference) => conference.sid)).toEqual([all[1]?.sid]);

    const unknown = `CF${"0".repeat(32)}`;
    await expect(client.conferences(unknown).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(client.conferences(unknown).update({ status: "completed" })).rejects.toMatchObject({ status: 404, code: 20404 });
  });
});
