/**
 * The sandbox's phones page (GET /sandbox) in headless Chromium, used as a
 * developer would: an expert the app invited sees the invite on the page,
 * types their number, picks the platform number, texts YES, and the app's
 * reply shows up in their phone's card. The sandbox, app and workers run as
 * in development (useTelephonyContext); the browser sees only the sandbox's
 * HTTP port on 127.0.0.1.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page, Request, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { newSid } from "../../src/sandbox/twilio/sids.js";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
/** Every wait on the page is bounded: the page polls the sandbox every 2 s, so a change needs one or two polls. */
const WAIT_MS = 8_000;
/** The page's normal pace, and a bound shorter than it: what must show up without waiting for the next normal poll. */
const NORMAL_POLL_MS = 2_000;
const SOONER_THAN_A_POLL_MS = 1_500;

let browser: Browser | undefined;
let page: Page;
/** What the page's own script threw (uncaught, or a rejected promise): a broken script fails the test even if the text renders. */
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
});

/** A phone's card on the page, found by the number in its heading. */
const phoneCard = (number: string) => page.locator(".phone", { has: page.locator("h3", { hasText: number }) });
const isStatePoll = (message: Request | Response) => new URL(message.url()).pathname === "/sandbox/api/state";

/**
 * The little of the DOM that the functions run in the page use: the project
 * compiles without lib.dom, and these run in Chromium, not in Node.
 */
interface PageNode {
  parentElement: PageNode | null;
}
interface PageSelect {
  options: PageNode[];
  optionSeen?: PageNode | undefined;
}
declare const getComputedStyle: (node: PageNode) => { color: string; backgroundColor: string };

/** WCAG 2 contrast ratio of two computed CSS colours ("rgb(r, g, b)"). */
function contrastRatio(foreground: string, background: string): number {
  const luminance = (css: string) => {
    const [r = 0, g = 0, b = 0] = (css.match(/\d+(\.\d+)?/g) ?? []).map(Number).map((channel) => {
      const c = channel / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light! + 0.05) / (dark! + 0.05);
}

describe("GET /sandbox, the simulated phones page", () => {
  it("shows an expert's invite, sends their YES, and shows the app's reply", async ({ onTestFailed }) => {
    const { app, deps, settle } = ctx();
    onTestFailed(async () => {
      // The page as it was when the test failed, for whoever reads the failure.
      const file = path.join(tmpdir(), `expertline-sandbox-page-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`sandbox page screenshot: ${file}`);
    });

    const shop = await makeShop(app, "Brew Barn");
    const dan = nextPhone();
    const expert = await app.inject({
      method: "POST",
      url: "/v1/experts",
      headers: shop.headers,
      payload: { phone: dan, name: "Dan", timeZone: "America/Chicago", skills: [{ tag: "all-grain", level: 5 }] },
    });
    expect(expert.statusCode, expert.body).toBe(201);
    await settle();
    const line = await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } });

    await page.goto(`${deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    await expect(page.title()).resolves.toBe("expertline sandbox: simulated phones");
    // The invite the app sent is already in Dan's card, as a message he received from the expert line.
    const invite = phoneCard(dan).locator(".msg.received", { hasText: "Hi Dan! Brew Barn invites you" });
    await invite.waitFor();
    expect(await invite.locator(".meta").textContent()).toBe(`from ${line.e164}`);
    await page.locator("#numbers code", { hasText: line.e164 }).waitFor();
    // No call yet: said so, rather than an empty section.
    expect(await page.locator("#calls").textContent()).toBe("none yet");

    // Typed as a person would: their own number, the platform number from the list, the word.
    await page.getByPlaceholder("from, e.g. +14155550123").fill(dan);
    await page.locator("#to").selectOption(line.e164);
    await page.getByPlaceholder("message (e.g. YES)").fill("YES");
    // Sent right after a normal poll, so the next normal one is 2 s away: the reply must come sooner than that.
    await page.waitForResponse(isStatePoll);
    const [sendAnswer] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith("/sms")),
      page.getByRole("button", { name: "Send text" }).click(),
    ]);
    expect(sendAnswer.status()).toBe(200);
    await sendAnswer.finished();
    const reply = phoneCard(dan).locator(".msg.received", { hasText: "You're in! Brew Barn" });
    await reply.waitFor({ timeout: SOONER_THAN_A_POLL_MS });
    // Once the reply is in, the page goes back to its normal pace: at most one poll in the next second.
    const polls: string[] = [];
    const countPoll = (request: Request) => void (isStatePoll(request) && polls.push(request.url()));
    page.on("request", countPoll);
    await page.waitForTimeout(NORMAL_POLL_MS / 2);
    page.off("request", countPoll);
    expect(polls.length).toBeLessThanOrEqual(1);

    // Sent, so the box is empty again: pressing the button twice does not send YES twice.
    expect(await page.getByPlaceholder("message (e.g. YES)").inputValue()).toBe("");
    const sent = phoneCard(dan).locator(".msg.sent", { hasText: "YES" });
    expect(await sent.locator(".meta").textContent()).toBe(`to ${line.e164}`);
    // The small "to/from" line is readable on its bubble (WCAG AA, 4.5:1).
    for (const meta of [sent.locator(".meta"), invite.locator(".meta")]) {
      const { color, background } = await meta.evaluate((node: PageNode) => ({
        color: getComputedStyle(node).color,
        background: node.parentElement ? getComputedStyle(node.parentElement).backgroundColor : "",
      }));
      expect(contrastRatio(color, background), `${color} on ${background}`).toBeGreaterThanOrEqual(4.5);
    }
    // The reply comes after the YES in the card, as in a phone's thread.
    const bodies = await phoneCard(dan).locator(".msg").evaluateAll((nodes) => nodes.map((node) => node.firstChild?.textContent ?? ""));
    expect(bodies.findIndex((body) => body.startsWith("You're in!"))).toBeGreaterThan(bodies.indexOf("YES"));

    expect(await page.locator("#error").textContent()).toBe("");
    expect(await page.locator("#violations").textContent()).toBe("");
    expect(pageErrors).toEqual([]);

    if (process.env.E2E_SCREENSHOT_DIR) {
      await page.screenshot({ path: path.join(process.env.E2E_SCREENSHOT_DIR, "sandbox-page.png"), fullPage: true });
    }
  });

  it("shows the sandbox's answer when the from number is not a phone number", async () => {
    await page.goto(`${ctx().deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    await page.getByPlaceholder("from, e.g. +14155550123").fill("not a number");
    await page.getByPlaceholder("message (e.g. YES)").fill("STATUS");
    await page.getByRole("button", { name: "Send text" }).click();
    await page.locator("#error", { hasText: "must be a phone number in +E.164 form" }).waitFor();
    // Not sent, so the text stays, to be resent once the number is fixed.
    expect(await page.getByPlaceholder("message (e.g. YES)").inputValue()).toBe("STATUS");
    expect(pageErrors).toEqual([]);
  });

  it("keeps the platform number chosen in the list, and the list itself, across refreshes", async () => {
    const { sandbox, text } = ctx();
    const [second, third] = sandbox.state.availableNumbers(2);
    const own = (number: string) =>
      sandbox.state.own(number, { sms: "http://127.0.0.1:9/sms", voice: "http://127.0.0.1:9/voice", callStatus: "http://127.0.0.1:9/status" }, newSid("PN"));
    own(second!);
    await page.goto(`${ctx().deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    const to = page.locator("#to");
    await to.locator("option", { hasText: second! }).waitFor({ state: "attached" });
    await to.selectOption(second!);
    // An open <select> closes when its options are replaced: a refresh that changed nothing must leave them be.
    await to.evaluate((select: PageSelect) => (select.optionSeen = select.options[0]));

    // A refresh shows itself: a new phone texts the first number, and its card appears.
    const newcomer = nextPhone();
    const firstNumber = await to.locator("option").first().textContent();
    await text(newcomer, firstNumber!, "hello?");
    await phoneCard(newcomer).waitFor();
    expect(await to.inputValue()).toBe(second);
    expect(await to.evaluate((select: PageSelect) => select.options[0] === select.optionSeen)).toBe(true);

    // A new number does change the list, and the choice survives that too.
    own(third!);
    await to.locator("option", { hasText: third! }).waitFor({ state: "attached" });
    expect(await to.inputValue()).toBe(second);
    expect(pageErrors).toEqual([]);
  });

  it("queues what a phone says and presses, calls a number from it, and lists what each side heard", async () => {
    const { sandbox, fakeRoutes, fakeRequests, settle } = ctx();
    // A stand-in app behind a platform number: asks a spoken question, then for a key.
    fakeRoutes.set("/page-test/voice", '<Response><Gather input="speech dtmf" action="/page-test/heard"><Say>What would you like to ask?</Say></Gather><Say>We did not hear you.</Say></Response>');
    fakeRoutes.set("/page-test/heard", '<Response><Say>Got it.</Say><Gather numDigits="1" action="/page-test/key"><Say>Press 1 to send it to an expert.</Say></Gather></Response>');
    fakeRoutes.set("/page-test/key", "<Response><Say>Sent. Goodbye.</Say><Hangup/></Response>");
    fakeRoutes.set("/page-test/status", "<Response/>");
    const [line] = sandbox.state.availableNumbers(1);
    const app = "http://127.0.0.1:9/page-test";
    sandbox.state.own(line!, { sms: `${app}/sms`, voice: `${app}/voice`, callStatus: `${app}/status` }, newSid("PN"));
    const caller = nextPhone();
    const question = "Should I add hot acid water at mash-out?";

    await page.goto(`${ctx().deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    // A new phone, added from the form, gets its card.
    await page.getByPlaceholder("from, e.g. +14155550123").fill(caller);
    await page.getByRole("button", { name: "Add phone" }).click();
    const card = phoneCard(caller);
    await card.waitFor();
    expect(await card.locator(".inputs").textContent()).toBe("nothing (each prompt times out)");

    // What the caller will say at the first prompt and press at the second.
    await card.getByPlaceholder("keys (1) or words to say").fill(question);
    await card.getByRole("button", { name: "Say it" }).click();
    await card.locator(".chip", { hasText: question }).waitFor();
    await card.getByPlaceholder("keys (1) or words to say").fill("1");
    await card.getByRole("button", { name: "Press keys" }).click();
    await card.locator(".chip", { hasText: "presses 1" }).waitFor();
    expect(await card.locator(".chip").allTextContents()).toEqual([`says \u201c${question}\u201d`, "presses 1"]);
    expect(sandbox.state.phones.get(caller)?.voice).toEqual({ answer: "answer", inputs: [{ speech: question }, { digits: "1" }] });
    // Keys are keys: a letter is refused, and said so.
    await card.getByPlaceholder("keys (1) or words to say").fill("1a");
    await card.getByRole("button", { name: "Press keys" }).click();
    await page.locator("#error", { hasText: "keys are 0-9, * and #" }).waitFor();
    expect(await card.getByPlaceholder("keys (1) or words to say").inputValue()).toBe("1a");

    // The call, from the card, to the number chosen in the list.
    await page.locator("#to").selectOption(line!);
    await card.getByRole("button", { name: "Call the selected number" }).click();
    const call = page.locator("#calls .call", { hasText: `${caller} \u2192 ${line}` });
    await call.locator(".status", { hasText: "completed" }).waitFor();
    await settle();
    expect(await call.locator(".heard li").allTextContents()).toEqual([
      "heard \u201cWhat would you like to ask?\u201d",
      `gave ${question}`,
      "heard \u201cGot it.\u201d",
      "heard \u201cPress 1 to send it to an expert.\u201d",
      "gave 1",
      "heard \u201cSent. Goodbye.\u201d",
    ]);
    // The app side got the words as SpeechResult, then the key as Digits.
    const heard = fakeRequests.find((request) => request.path === "/page-test/heard");
    expect(heard?.params).toMatchObject({ SpeechResult: question, Confidence: expect.stringMatching(/^0\.\d+$/), From: caller, To: line });
    expect(fakeRequests.find((request) => request.path === "/page-test/key")?.params).toMatchObject({ Digits: "1" });
    expect(await call.locator("button.hangup").count()).toBe(0);

    // How the phone answers is one choice on its card; clearing leaves it with nothing to give.
    await card.locator("select.answer").selectOption("busy");
    await card.getByRole("button", { name: "Clear" }).click();
    await card.locator(".inputs", { hasText: "nothing" }).waitFor();
    expect(sandbox.state.phones.get(caller)?.voice).toEqual({ answer: "busy", inputs: [] });
    expect(await card.locator("select.answer").inputValue()).toBe("busy");
    expect(pageErrors).toEqual([]);
  });

  it("says when the sandbox is unreachable, keeps retrying, and clears the notice once it answers", async () => {
    await page.goto(`${ctx().deps.config.TWILIO_API_BASE_URL}/sandbox`, { timeout: WAIT_MS });
    const notice = page.getByRole("alert").filter({ hasText: "sandbox unreachable, retrying" });
    await page.waitForResponse(isStatePoll);
    expect(await notice.isVisible()).toBe(false);

    // A 503 to the polls, then a dropped connection for a text sent meanwhile: both mean "down", neither throws.
    await page.route("**/sandbox/api/**", (route) => route.fulfill({ status: 503, body: "" }));
    await notice.waitFor();
    await page.unroute("**/sandbox/api/**");
    await page.route("**/sandbox/api/**", (route) => route.abort("connectionrefused"));
    await page.getByPlaceholder("from, e.g. +14155550123").fill(nextPhone());
    await page.getByPlaceholder("message (e.g. YES)").fill("anyone there?");
    await page.getByRole("button", { name: "Send text" }).click();
    await page.locator("#error", { hasText: "sandbox unreachable" }).waitFor();
    expect(await page.getByPlaceholder("message (e.g. YES)").inputValue()).toBe("anyone there?");
    expect(await notice.isVisible()).toBe(true);

    await page.unroute("**/sandbox/api/**");
    await notice.waitFor({ state: "hidden" });
    expect(pageErrors).toEqual([]);
  });
});
