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
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
/** Every wait on the page is bounded: the page polls the sandbox every 2 s, so a reply needs one or two polls. */
const WAIT_MS = 8_000;

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

    // Typed as a person would: their own number, the platform number from the list, the word.
    await page.getByPlaceholder("from, e.g. +14155550123").fill(dan);
    await page.locator("#to").selectOption(line.e164);
    await page.getByPlaceholder("message (e.g. YES)").fill("YES");
    await page.getByRole("button", { name: "Send text" }).click();

    const sent = phoneCard(dan).locator(".msg.sent", { hasText: "YES" });
    await sent.waitFor();
    expect(await sent.locator(".meta").textContent()).toBe(`to ${line.e164}`);
    const reply = phoneCard(dan).locator(".msg.received", { hasText: "You're in! Brew Barn" });
    await reply.waitFor();
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
    expect(pageErrors).toEqual([]);
  });
});
