/**
 * The README's voice walkthrough ("a customer calls, the expert takes the
 * call on their own phone"), done on the sandbox's phones page in headless
 * Chromium the way a developer does it: Maya's phone is set to press 1, a
 * customer's phone to press 1 for the kettle and say the question, the
 * customer calls the expert line, Maya hears the whisper and takes the call,
 * the customer is rung from the session's number, both are connected, the
 * customer hangs up and rates Maya 5 by text. Every action is a click or
 * typing on the page; the sandbox's API and the database are only read, to
 * check what the page cannot show.
 *
 * The data is the demo shop of `npm run dev` (src/cli/seed.ts is a script,
 * not a function): its products and pool through the API, Maya written to
 * the rows as the seed writes her (active and approved, never texted, so
 * her phone is not on the page until it is added, as on a fresh dev start).
 */
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { addDemoCatalog, DEMO_EXPERT_PHONE, DEMO_SHOP_NAME } from "../../src/cli/demo-data.js";
import { makeShop } from "../helpers/factories.js";
import { expertLine } from "../helpers/routing.js";
import { useTelephonyContext, type TelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
/** Every wait on the page is bounded: it polls the sandbox every 2 s (every 250 ms right after a call or a text). */
const WAIT_MS = 8_000;
/**
 * How long Sam and Maya talk before Sam hangs up, in real seconds: in
 * development the sandbox's calls run on the real clock, so the time on the
 * call is what the session must bill. Long enough that a bill of 0 cannot pass.
 */
const TALK_SECONDS = 2;

/** The README's numbers: Maya is the demo expert (src/cli/seed.ts), Sam any customer phone. */
const MAYA = DEMO_EXPERT_PHONE;
const SAM = "+14155550177";
const QUESTION = "My kettle's ball valve drips when it's hot. Is that normal?";

let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
});

/** What `npm run dev` seeds and buys: Demo Brew Barn, its kettle and IPA kit, a pool, Maya (the seed's own code), and the expert line. */
async function seedDemoShop(context: TelephonyContext) {
  const { app, deps } = context;
  const shop = await makeShop(app, DEMO_SHOP_NAME);
  const { kettle, maya } = await addDemoCatalog(deps, shop.id);
  // dev buys the line at start and prints it ("Expert line" in its banner).
  const line = await expertLine(deps, shop.id);
  return { shop, kettle, maya, line };
}

/** A phone's card, found by the number in its heading. */
const phoneCard = (number: string) => page.locator(".phone", { has: page.locator("h3", { hasText: number }) });
/** A call in the page's Calls list, by its "from → to" line. */
const callRow = (from: string, to: string) => page.locator("#calls .call", { hasText: `${from} \u2192 ${to}` });
const heardLines = (from: string, to: string) => callRow(from, to).locator(".heard li").allTextContents();

/** Adds a phone from the compose form, as the page's "Add phone" button does. */
async function addPhone(number: string) {
  await page.getByPlaceholder("from, e.g. +14155550123").fill(number);
  await page.getByRole("button", { name: "Add phone" }).click();
  await phoneCard(number).waitFor();
}

/** Queues keys or words on a phone's card: what it gives at the next prompt of a call. */
async function queueInput(number: string, value: string, kind: "Press keys" | "Say it", chip: string) {
  const card = phoneCard(number);
  await card.getByPlaceholder("keys (1) or words to say").fill(value);
  await card.getByRole("button", { name: kind }).click();
  await card.locator(".chip", { hasText: chip }).waitFor();
}

describe("the README's voice walkthrough on /sandbox", () => {
  it("a customer calls the line and asks, Maya presses 1, they are connected, the customer hangs up and rates by SMS", async ({ onTestFailed }) => {
    const context = ctx();
    const { deps, sandbox, settle } = context;
    onTestFailed(async () => {
      const file = path.join(tmpdir(), `expertline-voice-walkthrough-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`sandbox page screenshot: ${file}`);
    });
    const { shop, kettle, maya, line } = await seedDemoShop(context);

    await page.goto(`${deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    await page.locator("#numbers code", { hasText: line }).waitFor();

    // 1. Maya's phone answers and presses 1 at the whisper's prompt.
    await addPhone(MAYA);
    expect(await phoneCard(MAYA).locator("select.answer").inputValue()).toBe("answer");
    await queueInput(MAYA, "1", "Press keys", "presses 1");

    // 2. Sam's phone presses 1 for the kettle at the product menu, then says the question.
    await addPhone(SAM);
    await queueInput(SAM, "1", "Press keys", "presses 1");
    await queueInput(SAM, QUESTION, "Say it", QUESTION);
    expect(await phoneCard(SAM).locator(".chip").allTextContents()).toEqual(["presses 1", `says \u201c${QUESTION}\u201d`]);

    // 3. Sam calls the expert line.
    await page.locator("#to").selectOption(line);
    await phoneCard(SAM).getByRole("button", { name: "Call the selected number" }).click();
    await callRow(SAM, line).locator(".status", { hasText: "completed" }).waitFor();
    expect(await heardLines(SAM, line)).toEqual([
      "heard \u201cThanks for calling the Demo Brew Barn expert line.\u201d",
      "heard \u201cWhich product is your question about? For the 10 gallon brew kettle, press 1. For the West Coast IPA all-grain kit, press 2. Or say the product's name.\u201d",
      "gave 1",
      "heard \u201cPlease ask your question about the 10 gallon brew kettle in a few sentences.\u201d",
      `gave ${QUESTION}`,
      "heard \u201cThanks. An expert will call you back within about 4 minutes; we'll text you updates. Goodbye.\u201d",
    ]);
    const question = await deps.prisma.question.findFirstOrThrow({ where: { shopId: shop.id, customerPhone: SAM } });
    expect(question).toMatchObject({ channel: "voice", preferredMode: "voice", body: QUESTION, productId: kettle.id });
    await phoneCard(SAM).locator(".msg.received", { hasText: `Hi there! Demo Brew Barn got your question about 10 gallon brew kettle.` }).waitFor();

    // 4. Maya's phone rings from the expert line; she hears the whisper, presses 1 and waits in the call.
    const mayaCall = callRow(line, MAYA);
    await mayaCall.locator(".status", { hasText: "in-progress" }).waitFor();
    // 5. Sam's phone rings from the session's number, and he is put through to Maya.
    await expect.poll(async () => (await deps.prisma.session.findUnique({ where: { questionId: question.id } }))?.status, { timeout: WAIT_MS }).toBe("active");
    const session = await deps.prisma.session.findUniqueOrThrow({ where: { questionId: question.id }, include: { proxyNumber: true } });
    expect(session).toMatchObject({ expertId: maya.id, mode: "voice" });
    const proxy = session.proxyNumber!.e164;
    expect(proxy).not.toBe(line);
    const samCall = callRow(proxy, SAM);
    await samCall.locator(".heard li", { hasText: "joined vb-" }).waitFor();
    await mayaCall.locator(".heard li", { hasText: "joined vb-" }).waitFor();
    const [conference] = await samCall.locator(".heard li", { hasText: "joined vb-" }).allTextContents();
    expect(await heardLines(line, MAYA)).toEqual([
      "heard \u201cQuestion about 10 gallon brew kettle from a customer. Press 1 to take the call, 2 to pass.\u201d",
      "gave 1",
      "heard \u201cThanks. Calling the customer now. Please stay on the line.\u201d",
      conference,
    ]);
    expect(await heardLines(proxy, SAM)).toEqual([
      "heard \u201cHi, this is the Demo Brew Barn expert line. Connecting you with Maya, a fellow kettle brewer, about your question.\u201d",
      conference,
    ]);
    // Both calls are live, in the same conference.
    expect(await mayaCall.locator(".status").textContent()).toBe("in-progress");
    expect(await samCall.locator(".status").textContent()).toBe("in-progress");
    await page.locator("#conferences", { hasText: `${conference!.replace("joined ", "")}: in-progress` }).waitFor();
    // Caller ID: a platform number on both legs, never the other person's.
    const calls = sandbox.voice.listCalls();
    expect(calls.filter((call) => call.to === MAYA).map((call) => call.from)).toEqual([line]);
    expect(calls.filter((call) => call.to === SAM).map((call) => call.from)).toEqual([proxy]);
    await phoneCard(SAM).locator(".msg.received", { hasText: "Demo Brew Barn: Maya, a fellow kettle brewer, is calling you now from this number." }).waitFor();
    const bridge = await deps.prisma.voiceBridge.findFirstOrThrow({ where: { sessionId: session.id } });
    expect(bridge.bridgedAt).toEqual(expect.any(Date));

    // 6. They talk a little, then Sam hangs up from the page.
    await page.waitForTimeout(TALK_SECONDS * 1000);
    await samCall.getByRole("button", { name: "hang up" }).click();
    await samCall.locator(".status", { hasText: "completed" }).waitFor();
    await mayaCall.locator(".status", { hasText: "completed" }).waitFor();
    await settle();
    const ended = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
    const billed = await deps.prisma.voiceBridge.findUniqueOrThrow({ where: { id: bridge.id } });
    expect(ended).toMatchObject({ status: "ended", endedBy: "customer", endReason: "hangup" });
    // The bridged time, from Twilio's join and leave timestamps, is what the session bills.
    const bridgedSeconds = Math.floor((billed.endedAt!.getTime() - billed.bridgedAt!.getTime()) / 1000);
    expect(billed.billableSeconds).toBe(bridgedSeconds);
    expect(ended.durationSeconds).toBe(bridgedSeconds);
    expect(ended.durationSeconds).toBeGreaterThanOrEqual(TALK_SECONDS);

    // 7. The rating request arrives from the session's number; Sam texts 5 back from the page.
    const ask = phoneCard(SAM).locator(".msg.received", { hasText: "Thanks for chatting with Maya! How did Maya do? Reply 1-5 (5 is best)." });
    await ask.waitFor();
    expect(await ask.locator(".meta").textContent()).toBe(`from ${proxy}`);
    await page.getByPlaceholder("from, e.g. +14155550123").fill(SAM);
    await page.locator("#to").selectOption(proxy);
    await page.getByPlaceholder("message (e.g. YES)").fill("5");
    await page.getByRole("button", { name: "Send text" }).click();
    await phoneCard(SAM).locator(".msg.received", { hasText: "Thanks for rating Maya 5/5! Want to add a comment? Just reply with it." }).waitFor();
    await settle();
    expect(await deps.prisma.rating.findUnique({ where: { sessionId: session.id } })).toMatchObject({ score: 5, expertId: maya.id });

    expect(await page.locator("#error").textContent()).toBe("");
    expect(await page.locator("#violations").textContent()).toBe("");
    expect(sandbox.state.contractViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
