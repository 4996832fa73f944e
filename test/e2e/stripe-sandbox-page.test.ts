/**
 * The Stripe sandbox's pages in headless Chromium, as an expert and a
 * developer would use them: the expert opens an account link URL, clicks
 * "Complete onboarding" and lands on the platform's return URL; the
 * developer sees the account enabled on /sandbox/stripe, tops up the
 * platform balance from the page and pays the account's balance out. The
 * platform's return and refresh URLs are a tiny local server; the browser
 * sees only 127.0.0.1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { createStripeSandbox, type StripeSandbox } from "../../src/sandbox/stripe/server.js";
import { systemClock } from "../../src/sandbox/stripe/clock.js";

const KEY = "sk_test_e2e_0123456789abcdefghij";
const WAIT_MS = 8_000;

let browser: Browser | undefined;
let page: Page;
let sandbox: StripeSandbox;
let sandboxUrl: string;
let platform: Server;
let platformUrl: string;
let stripe: Stripe;
/** What the page threw, and what Chromium refused under the pages' Content-Security-Policy. */
const problems: string[] = [];

beforeAll(async () => {
  platform = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(`<!doctype html><title>platform</title><h1>Back at the platform: ${request.url === "/return" ? "returned" : "refresh"}</h1>`);
  });
  await new Promise<void>((resolve) => platform.listen(0, "127.0.0.1", resolve));
  platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;

  sandbox = await createStripeSandbox({ secretKey: KEY, clock: systemClock });
  await sandbox.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (sandbox.app.server.address() as AddressInfo).port;
  sandboxUrl = `http://127.0.0.1:${port}`;
  stripe = new Stripe(KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await sandbox?.app.close();
  await new Promise<void>((resolve) => (platform ? platform.close(() => resolve()) : resolve()));
});

describe("the Stripe sandbox's pages in a browser", () => {
  it("onboards through an account link, shows the account enabled, tops up the balance and pays the account out", async () => {
    const account = await stripe.accounts.create({
      controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
      capabilities: { transfers: { requested: true } },
      metadata: { expert: "ex_dan" },
    });
    const link = await stripe.accountLinks.create({ account: account.id, type: "account_onboarding", refresh_url: `${platformUrl}/refresh`, return_url: `${platformUrl}/return` });

    // The expert follows the link, completes onboarding and lands on the platform's return URL.
    await page.goto(link.url);
    await expect(page.getByRole("button", { name: "Save for later" }).isVisible()).resolves.toBe(true);
    await Promise.all([page.waitForURL(`${platformUrl}/return`), page.getByRole("button", { name: "Complete onboarding" }).click()]);
    expect(await page.locator("h1").textContent()).toBe("Back at the platform: returned");
    // The link is spent: opening it again goes to the refresh URL.
    await page.goto(link.url);
    expect(page.url()).toBe(`${platformUrl}/refresh`);

    // The dashboard shows the account enabled.
    await page.goto(`${sandboxUrl}/sandbox/stripe`);
    const row = page.locator("tr", { has: page.locator(`[data-account="${account.id}"]`) });
    expect(await row.locator('[data-field="payouts_enabled"]').textContent()).toBe("yes");
    expect(await row.locator('[data-field="details_submitted"]').textContent()).toBe("yes");
    expect(await row.textContent()).toContain("completed");
    expect(await page.locator('[data-balance="usd"]').textContent()).toBe("0.00 USD");

    // Top up the platform balance from the page.
    await page.getByLabel("Amount").fill("250.00");
    await Promise.all([page.waitForURL(/notice=/), page.getByRole("button", { name: "Top up" }).click()]);
    expect(await page.getByRole("status").textContent()).toBe("Topped up 250.00 USD.");
    expect(await page.locator('[data-balance="usd"]').textContent()).toBe("250.00 USD");
    expect(sandbox.state.availableBalance("usd")).toBe(25_000);

    // A transfer through the API shows up, and the account's balance is paid out from the page.
    const transfer = await stripe.transfers.create({ amount: 12_000, currency: "usd", destination: account.id, transfer_group: "po_e2e" });
    await page.goto(`${sandboxUrl}/sandbox/stripe`);
    expect(await page.locator("table", { hasText: transfer.id }).locator("tr", { hasText: transfer.id }).textContent()).toContain("po_e2e");
    await Promise.all([page.waitForURL(/notice=/), row.getByRole("button", { name: "Pay out now" }).click()]);
    expect(await page.getByRole("status").textContent()).toMatch(/^Payout po_\w+ 120\.00 USD paid\.$/);
    expect(await page.locator('[data-status="paid"]').count()).toBe(1);
    expect([...sandbox.state.payouts.values()]).toMatchObject([{ account: account.id, amount: 12_000, status: "paid", automatic: true }]);
    expect(await page.locator("td", { hasText: "payout.paid" }).count()).toBe(1);

    expect(problems).toEqual([]);
  });
});
