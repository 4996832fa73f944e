/**
 * The status page (GET /q/:token) in headless Chromium, as the customer sees
 * it from the link in their text and as a shop frames it on its order page.
 * The app listens on 127.0.0.1; two tiny "shop" pages are served from two
 * other ports of 127.0.0.1, so they are different origins: the one the shop
 * listed in frameAncestors shows the embed, the other is refused by the
 * browser itself (CSP frame-ancestors).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, ConsoleMessage, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/browser.js";
import { useTestContext } from "../helpers/context.js";
import { makeProduct, makeShop, nextPhone } from "../helpers/factories.js";

const ctx = useTestContext();
const WAIT_MS = 8_000;
/** The page's own refresh interval (status-page.ts POLL_SECONDS). */
const POLL_MS = 10_000;
const PHONE_LIKE = /\+?\d[\d\s().-]{7,}\d/;

let browser: Browser | undefined;
let page: Page;
let appOrigin: string;
const shopPages: Server[] = [];
/** What the page's own script threw, and what the browser said about the CSP. */
const pageErrors: string[] = [];
const cspReports: string[] = [];

/** A shop's order page with the status embed in an iframe, served from its own origin. */
async function serveShopPage(embedUrl: () => string): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Order 1001</title></head>` +
        `<body><h1>Your order</h1><iframe id="status" title="Your question" src="${embedUrl()}" width="420" height="220"></iframe></body></html>`,
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  shopPages.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const onConsole = (message: ConsoleMessage) => {
  if (message.text().includes("Content Security Policy")) cspReports.push(message.text());
};

beforeAll(async () => {
  const address = await ctx().app.listen({ port: 0, host: "127.0.0.1" });
  appOrigin = address.replace("localhost", "127.0.0.1");
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(shopPages.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function freshPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  pageErrors.length = 0;
  cspReports.length = 0;
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", onConsole);
  return page;
}

async function makeWorld() {
  const { app, deps } = ctx();
  const shop = await makeShop(app);
  const product = await makeProduct(app, shop, { name: "Grainfather G30" });
  const customerPhone = nextPhone();
  const expertPhone = nextPhone();
  const token = randomBytes(18).toString("base64url");
  const question = await deps.prisma.question.create({
    data: {
      shopId: shop.id,
      productId: product.id,
      status: "routing",
      statusToken: token,
      channel: "sms",
      tags: ["all-grain"],
      body: `Stuck mash on my G30, text me at ${customerPhone}`,
      customerPhone,
      createdAt: new Date(Date.now() - 3 * 60_000),
      events: {
        create: [
          { kind: "received", data: {} },
          { kind: "searching", data: { estimateMinutes: 15 } },
          { kind: "offered", data: { expertPhone } },
        ],
      },
    },
  });
  return { shop, token, question, customerPhone, expertPhone };
}

/** No phone number in what a person reads, nor anywhere in the DOM. */
async function expectNoPhone(frame: Pick<Page, "evaluate">, phones: string[]) {
  const { text, html } = await frame.evaluate(() => ({ text: document.body.innerText, html: document.documentElement.outerHTML }));
  for (const shown of [text, html]) {
    expect(shown).not.toMatch(PHONE_LIKE);
    for (const phone of phones) {
      expect(shown).not.toContain(phone);
      expect(shown).not.toContain(phone.slice(2));
    }
  }
}

/** The little of the DOM the functions run in the page use: the project compiles without lib.dom. */
declare const document: { body: { innerText: string }; documentElement: { outerHTML: string } };
interface PageNode {
  textContent: string | null;
}
declare const getComputedStyle: (node: PageNode) => { fontWeight: string; position: string };

describe("the status page in Chromium", () => {
  it("shows the headline, the timeline and what happens next, with no phone number, and follows the question by itself", async ({
    onTestFailed,
  }) => {
    const { deps } = ctx();
    const { token, question, customerPhone, expertPhone } = await makeWorld();
    await freshPage();
    onTestFailed(async () => {
      const file = path.join(tmpdir(), `expertline-status-page-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`status page screenshot: ${file}`);
    });
    // The page's timers run on a clock the test moves: the 10 s refresh happens when the test says so.
    await page.clock.install();
    await page.goto(`${appOrigin}/q/${token}`);

    await expect(page.title()).resolves.toMatch(/^Looking for a Grainfather G30 expert - Shop /);
    expect(await page.locator("h1").textContent()).toBe("Looking for a Grainfather G30 expert");
    const steps = page.getByRole("list", { name: "Progress" }).getByRole("listitem");
    expect(await steps.allInnerTexts()).toEqual([
      expect.stringMatching(/^Received/),
      expect.stringMatching(/^Looking for an expert/),
      expect.stringMatching(/^An expert accepted/),
      expect.stringMatching(/^In conversation/),
      expect.stringMatching(/^Answered/),
    ]);
    expect(await page.locator('[aria-current="step"] .label').textContent()).toBe("Looking for an expert");
    expect(await page.locator("#next").textContent()).toBe("We're texting experts now; most questions are picked up within 15 minutes.");
    expect(await page.locator("#elapsed").textContent()).toBe("3 min");
    // The stylesheet ran (its hash is in the CSP): the current step is bold, screen-reader text is out of sight.
    expect(await page.locator('[aria-current="step"] .label').evaluate((node: PageNode) => getComputedStyle(node).fontWeight)).toBe("600");
    expect(await page.locator(".sr").first().evaluate((node: PageNode) => getComputedStyle(node).position)).toBe("absolute");
    await expectNoPhone(page, [customerPhone, expertPhone]);

    // Dan accepts: at the next refresh the page reloads itself with the news.
    await deps.prisma.$transaction([
      deps.prisma.question.update({ where: { id: question.id }, data: { status: "matched" } }),
      deps.prisma.questionEvent.create({ data: { questionId: question.id, kind: "accepted", data: { expertFirstName: "Dan", expertPhone } } }),
    ]);
    const [refresh] = await Promise.all([
      page.waitForResponse((response) => response.url() === `${appOrigin}/q/${token}` && response.request().headers().accept === "application/json"),
      page.clock.runFor(POLL_MS),
    ]);
    expect(refresh.status()).toBe(200);
    await page.locator("h1", { hasText: "Dan accepted and will text you" }).waitFor();
    expect(await page.locator("#next").textContent()).toBe("Reply to Dan's texts on your phone.");
    expect(await page.locator('[aria-current="step"] .label').textContent()).toBe("Dan accepted");
    await expectNoPhone(page, [customerPhone, expertPhone]);

    // Answered: the page shows it and stops asking.
    await deps.prisma.question.update({ where: { id: question.id }, data: { status: "answered", closedAt: new Date() } });
    await page.clock.runFor(POLL_MS);
    await page.locator("h1", { hasText: "Answered" }).waitFor();
    expect(await page.locator("script").count()).toBe(0);
    let polls = 0;
    page.on("request", (request) => void (request.url().includes("/q/") && (polls += 1)));
    await page.clock.runFor(3 * POLL_MS);
    expect(polls).toBe(0);

    expect(pageErrors).toEqual([]);
    expect(cspReports).toEqual([]);
    if (process.env.E2E_SCREENSHOT_DIR) {
      await page.screenshot({ path: path.join(process.env.E2E_SCREENSHOT_DIR, "status-page.png"), fullPage: true });
    }
  });

  it("shows the embed in an iframe on the shop's own origin, and the browser refuses it on any other", async () => {
    const { deps } = ctx();
    const { shop, token, customerPhone, expertPhone } = await makeWorld();
    const embedUrl = () => `${appOrigin}/q/${token}?embed=1`;
    const allowedOrigin = await serveShopPage(embedUrl);
    const otherOrigin = await serveShopPage(embedUrl);
    await deps.prisma.shop.update({ where: { id: shop.id }, data: { frameAncestors: [allowedOrigin] } });

    await freshPage();
    await page.goto(allowedOrigin);
    const embed = page.frameLocator("#status");
    await embed.locator("#headline", { hasText: "Looking for a Grainfather G30 expert" }).waitFor();
    expect(await embed.locator("#next").textContent()).toBe("We're texting experts now; most questions are picked up within 15 minutes.");
    expect(await embed.getByRole("list", { name: "Progress" }).getByRole("listitem").count()).toBe(5);
    expect(await embed.getByRole("link", { name: "Details" }).getAttribute("href")).toBe(`/q/${token}`);
    const frame = page.frames().find((each) => each.url() === embedUrl());
    expect(frame).toBeDefined();
    await expectNoPhone(frame!, [customerPhone, expertPhone]);
    expect(pageErrors).toEqual([]);
    expect(cspReports).toEqual([]);

    // Same embed, another origin: the app answers, the browser will not show it.
    await freshPage();
    const refusal = page.waitForEvent("console", (message) => message.text().includes("frame-ancestors"));
    const [answer] = await Promise.all([page.waitForResponse(embedUrl()), page.goto(otherOrigin)]);
    expect(answer.status()).toBe(200);
    expect((await refusal).text()).toContain(`frame-ancestors ${allowedOrigin}`);
    await page.locator("h1", { hasText: "Your order" }).waitFor();
    expect(await page.frameLocator("#status").locator("#headline").count()).toBe(0);
    expect(page.frames().some((each) => each.url() === embedUrl())).toBe(false);
  });
});
