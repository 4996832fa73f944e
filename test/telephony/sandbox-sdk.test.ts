/**
 * Twilio's official Node SDK against the sandbox, as an outside client would
 * call it: every request goes over HTTP and is checked against the Twilio
 * spec subset on the way in (a request the spec forbids is refused and kept
 * in contractViolations, which must stay empty).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTwilioClient, type TwilioClient } from "../../src/providers/twilio/client.js";
import { AREA_CODES, NUMBERS_PER_AREA_CODE } from "../../src/sandbox/twilio/number-supply.js";
import { createTwilioSandbox, type TwilioSandbox } from "../../src/sandbox/twilio/server.js";
import { testConfig } from "../helpers/config.js";

const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } = testConfig();
const APP = "http://expertline.test";
const stateDir = mkdtempSync(path.join(tmpdir(), "expertline-sandbox-"));

let now = new Date("2024-03-10T12:00:00Z");
const clock = { now: () => now };

interface Running {
  sandbox: TwilioSandbox;
  client: TwilioClient;
  close(): Promise<void>;
}

async function startSandbox(options: { stateFile?: string } = {}): Promise<Running> {
  const sandbox = await createTwilioSandbox({
    accountSid: TWILIO_ACCOUNT_SID,
    authToken: TWILIO_AUTH_TOKEN,
    clock,
    // No app behind it: every webhook is answered with an empty TwiML response.
    sender: async () => ({ status: 200, contentType: "text/xml", body: "<Response/>" }),
    ...options,
  });
  const url = await sandbox.app.listen({ port: 0, host: "127.0.0.1" });
  const client = createTwilioClient({ TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_BASE_URL: url });
  return { sandbox, client, close: () => sandbox.app.close() };
}

async function buy(client: TwilioClient, phoneNumber: string) {
  return client.incomingPhoneNumbers.create({
    phoneNumber,
    smsUrl: `${APP}/twilio/sms`,
    smsMethod: "POST",
    voiceUrl: `${APP}/twilio/voice`,
    voiceMethod: "POST",
    statusCallback: `${APP}/twilio/status/call`,
    statusCallbackMethod: "POST",
  });
}

/** The way the product buys: ask for one available number, then buy it. */
async function buyNext(client: TwilioClient, areaCode?: number) {
  const [offered] = await client
    .availablePhoneNumbers("US")
    .local.list({ smsEnabled: true, voiceEnabled: true, limit: 1, ...(areaCode ? { areaCode } : {}) });
  if (!offered) throw new Error(`no number offered${areaCode ? ` in ${areaCode}` : ""}`);
  return buy(client, offered.phoneNumber);
}

let running: Running;
beforeEach(async () => {
  now = new Date("2024-03-10T12:00:00Z");
  running = await startSandbox();
});
afterEach(async () => {
  expect(running.sandbox.state.contractViolations).toEqual([]);
  await running.close();
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe("Messages list through the SDK", () => {
  const LINE = "+14155550100";
  const OTHER_LINE = "+14155550101";
  const ANN = "+12125550142";
  const BOB = "+13125550143";

  /** Sends from `from` to `to`, one minute after the previous message, and lets it be delivered. */
  async function send(from: string, to: string, body: string) {
    now = new Date(now.getTime() + 60_000);
    const message = await running.client.messages.create({ from, to, body });
    await running.sandbox.idle();
    return message;
  }

  beforeEach(async () => {
    await buy(running.client, LINE);
    await buy(running.client, OTHER_LINE);
  });

  it("lists newest first, filtered by To and From, within the limit", async () => {
    const first = await send(LINE, ANN, "one");
    await send(LINE, BOB, "to bob");
    const second = await send(LINE, ANN, "two");
    await send(OTHER_LINE, ANN, "from the other line");
    const third = await send(LINE, ANN, "three");

    const listed = await running.client.messages.list({ to: ANN, from: LINE, limit: 20 });
    expect(listed.map((message) => message.sid)).toEqual([third.sid, second.sid, first.sid]);
    expect(listed.map((message) => message.status)).toEqual(["delivered", "delivered", "delivered"]);
    expect(listed[0]?.dateSent).toEqual(now);

    const limited = await running.client.messages.list({ to: ANN, from: LINE, limit: 2 });
    expect(limited.map((message) => message.body)).toEqual(["three", "two"]);
    expect((await running.client.messages.list({ to: BOB })).map((message) => message.body)).toEqual(["to bob"]);
  });

  it("lists inbound messages too, as the account's log does", async () => {
    await running.sandbox.messaging.receive(ANN, LINE, "hello");
    const [inbound] = await running.client.messages.list({ from: ANN, to: LINE });
    expect(inbound).toMatchObject({ body: "hello", direction: "inbound", status: "received" });
  });

  it("pages with the SDK across pages, forward and back, carrying the filters", async () => {
    const sent = [];
    for (let i = 0; i < 7; i++) sent.push(await send(LINE, ANN, `message ${i}`));
    await send(LINE, BOB, "not listed");
    const newestFirst = sent.map((message) => message.sid).reverse();

    const page0 = await running.client.messages.page({ to: ANN, pageSize: 3 });
    expect(page0.instances.map((message) => message.sid)).toEqual(newestFirst.slice(0, 3));
    expect(page0.previousPageUrl).toBeUndefined();
    const page1 = await page0.nextPage();
    expect(page1?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(3, 6));
    const page2 = await page1?.nextPage();
    expect(page2?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(6));
    expect(page2?.nextPageUrl).toBeUndefined();
    const back = await page2?.previousPage();
    expect(back?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(3, 6));

    // A message arriving between two page requests does not shift the next page.
    await send(LINE, ANN, "late");
    const again = await page0.nextPage();
    expect(again?.instances.map((message) => message.sid)).toEqual(newestFirst.slice(3, 6));

    // list() follows next_page_uri on its own.
    const all = await running.client.messages.list({ to: ANN, pageSize: 2 });
    expect(all).toHaveLength(8);
  });

  it("answers with Twilio's page fields", async () => {
    for (let i = 0; i < 3; i++) await send(LINE, ANN, `message ${i}`);
    const response = await running.sandbox.app.inject({
      method: "GET",
      url: `/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Messages.json?To=${encodeURIComponent(ANN)}&PageSize=2`,
      headers: { authorization: `Basic ${Buffer.from(`${TWILIO_ACCOUNT_SID}:${TWILIO_AUTH_TOKEN}`).toString("base64")}` },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const list = `/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Messages.json`;
    expect(body).toMatchObject({
      page: 0,
      page_size: 2,
      start: 0,
      end: 1,
      uri: `${list}?To=%2B12125550142&PageSize=2&Page=0`,
      first_page_uri: `${list}?To=%2B12125550142&PageSize=2&Page=0`,
      next_page_uri: `${list}?To=%2B12125550142&PageSize=2&Page=1&PageToken=PA${body.messages[1].sid}`,
      previous_page_uri: null,
    });
    expect(body.messages).toHaveLength(2);
  });

  it("filters by the date sent: on a day, on or before, on or after", async () => {
    now = new Date("2024-03-09T23:58:00Z");
    const lateOnThe9th = await send(LINE, ANN, "9th"); // sent 23:59 on the 9th
    now = new Date("2024-03-10T08:00:00Z");
    const morningOf10th = await send(LINE, ANN, "10th morning");
    now = new Date("2024-03-11T08:00:00Z");
    const on11th = await send(LINE, ANN, "11th");
    const bodies = (messages: { body: string }[]) => messages.map((message) => message.body);

    // The SDK sends Dates as YYYY-MM-DDTHH:mm:ssZ.
    expect(bodies(await running.client.messages.list({ dateSent: new Date("2024-03-10T00:00:00Z") }))).toEqual([morningOf10th.body]);
    expect(bodies(await running.client.messages.list({ dateSentAfter: new Date("2024-03-10T00:00:00Z") }))).toEqual([on11th.body, morningOf10th.body]);
    expect(bodies(await running.client.messages.list({ dateSentBefore: new Date("2024-03-10T08:01:00Z") }))).toEqual([
      morningOf10th.body,
      lateOnThe9th.body,
    ]);
    // Twilio's documented form: a GMT date, the whole day.
    const response = await running.sandbox.app.inject({
      method: "GET",
      url: `/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Messages.json?${new URLSearchParams({ "DateSent<": "2024-03-10" }).toString()}`,
      headers: { authorization: `Basic ${Buffer.from(`${TWILIO_ACCOUNT_SID}:${TWILIO_AUTH_TOKEN}`).toString("base64")}` },
    });
    expect(bodies(response.json().messages)).toEqual([morningOf10th.body, lateOnThe9th.body]);
  });
});

describe("the number supply", () => {
  it("offers the numbers not owned after someone bought the last one of the block first", async () => {
    await buy(running.client, "+14155550199");
    const offered = await running.client.availablePhoneNumbers("US").local.list({ areaCode: 415, limit: 50 });
    expect(offered).toHaveLength(50);
    expect(offered.map((number) => number.phoneNumber)).not.toContain("+14155550199");

    const bought = [];
    for (let i = 0; i < NUMBERS_PER_AREA_CODE - 1; i++) bought.push((await buyNext(running.client, 415)).phoneNumber);
    expect(new Set(bought).size).toBe(99);
    expect(bought.every((number) => /^\+141555501\d\d$/.test(number))).toBe(true);
    // Now 415's block is sold out, and says so; other area codes still sell.
    expect(await running.client.availablePhoneNumbers("US").local.list({ areaCode: 415, limit: 1 })).toEqual([]);
    await expect(buy(running.client, "+14155550150")).rejects.toMatchObject({ status: 400, code: 21422 });
    expect((await buyNext(running.client)).phoneNumber).toMatch(/^\+1(?!415)\d{3}5550\d{3}$/);
  });

  it("honours AreaCode and Contains, with the locality of the area code", async () => {
    const [chicago] = await running.client.availablePhoneNumbers("US").local.list({ areaCode: 312, limit: 1 });
    expect(chicago).toMatchObject({ phoneNumber: "+13125550100", locality: "Chicago", region: "IL" });
    const matching = await running.client.availablePhoneNumbers("US").local.list({ areaCode: 212, contains: "01*7", limit: 20 });
    expect(matching.map((number) => number.phoneNumber)).toEqual(
      ["107", "117", "127", "137", "147", "157", "167", "177", "187", "197"].map((line) => `+12125550${line}`),
    );
    expect(await running.client.availablePhoneNumbers("US").local.list({ areaCode: 999, limit: 5 })).toEqual([]);
  });

  it("sells hundreds of numbers across area codes, each once", async () => {
    const total = 600;
    const bought = new Set<string>();
    for (let i = 0; i < total; i++) bought.add((await buyNext(running.client)).phoneNumber);
    expect(bought.size).toBe(total);
    expect(new Set([...bought].map((number) => number.slice(2, 5))).size).toBe(total / NUMBERS_PER_AREA_CODE);
    expect(AREA_CODES.length * NUMBERS_PER_AREA_CODE).toBeGreaterThanOrEqual(5000);
  }, 60_000);

  it("refuses a number outside the fictional range", async () => {
    await expect(buy(running.client, "+14155551234")).rejects.toMatchObject({ status: 400, code: 21422 });
  });
});

describe("the sandbox remembers its account across restarts", () => {
  it("still owns the numbers it sold, with the same SIDs and webhooks", async () => {
    const stateFile = path.join(stateDir, "restart", "twilio-state.json");
    const before = await startSandbox({ stateFile });
    const bought = [await buyNext(before.client), await buyNext(before.client, 212)];
    await before.client.messages.create({ from: bought[0]!.phoneNumber, to: "+12125550142", body: "before the restart" });
    await before.sandbox.idle();
    await before.close();

    const after = await startSandbox({ stateFile });
    try {
      const owned = await after.client.incomingPhoneNumbers.list();
      const shape = (numbers: typeof owned) =>
        numbers
          .map((number) => ({ sid: number.sid, phoneNumber: number.phoneNumber, smsUrl: number.smsUrl, voiceUrl: number.voiceUrl, statusCallback: number.statusCallback }))
          .sort((a, b) => a.phoneNumber.localeCompare(b.phoneNumber));
      expect(shape(owned)).toEqual(shape(bought));
      expect(owned.every((number) => number.smsUrl === `${APP}/twilio/sms` && number.voiceUrl === `${APP}/twilio/voice`)).toBe(true);
      // Owned means usable: it can send, and it is not for sale again.
      await expect(after.client.messages.create({ from: bought[0]!.phoneNumber, to: "+12125550142", body: "after" })).resolves.toMatchObject({ status: "queued" });
      await expect(buy(after.client, bought[1]!.phoneNumber)).rejects.toMatchObject({ code: 21422 });
      expect((await after.client.messages.list({ to: "+12125550142" })).map((message) => message.body)).toEqual(["after", "before the restart"]);
      await after.sandbox.idle();
      expect(after.sandbox.state.contractViolations).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
