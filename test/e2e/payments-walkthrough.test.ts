/**
 * The README's payments walkthrough ("the expert sets up payouts, answers,
 * and is paid"), run as written: the shell blocks of that README section are
 * read from README.md and their commands executed (curl against the app and
 * the Twilio sandbox, the `sms` / `inbox` / `pick` helpers the README
 * defines), so a README that drifts from the product fails here. The page
 * steps between the blocks are done in headless Chromium as a developer does
 * them: Dan's link read off the sandbox's phones page and opened, "Complete
 * onboarding" clicked on the Stripe sandbox's page, the transfer seen on
 * /sandbox/stripe and "Pay out now" clicked there.
 *
 * The world is `npm run dev`'s: the demo shop, catalogue, pool and Maya from
 * src/cli/demo-data.ts, the expert line, the Stripe sandbox's opening balance,
 * and Dan as the first walkthrough leaves him (invited, replied YES). The
 * browser reaches the app at PUBLIC_BASE_URL (http://expertline.test), which
 * is answered by the app in process through a proxy (no DNS, no app port).
 */
import { readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDemoCatalog, DEMO_SHOP_NAME } from "../../src/cli/demo-data.js";
import { DEV_OPENING_BALANCE } from "../../src/sandbox/stripe/start.js";
import { launchChromium } from "../helpers/browser.js";
import { adminHeaders, makeShop } from "../helpers/factories.js";
import { expertLine } from "../helpers/routing.js";
import { useTelephonyContext, type TelephonyContext } from "../helpers/telephony.js";
import { TEST_ADMIN_KEY } from "../helpers/config.js";

/** The walkthrough's demo setting: earnings are due at once (the README tells the developer to set it). */
const ctx = useTelephonyContext({ PAYOUT_REVIEW_WINDOW_HOURS: "0" });
const WAIT_MS = 8_000;
const SECTION = "### Walkthrough: the expert sets up payouts, answers, and is paid";
/** The README's addresses (`npm run dev`'s defaults): commands to these go to the app and the Twilio sandbox in process. */
const API = "http://127.0.0.1:3000";
const SANDBOX = "http://127.0.0.1:3001";
const DAN = "+13125550123";
const DEMO_LINE = "+14155550100";

let browser: Browser | undefined;
let page: Page;
let proxy: Server | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
});

// ---------------------------------------------------------------- the README's commands

/** The README section's ```sh blocks, in order. */
function walkthroughBlocks(): string[] {
  const readme = readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");
  const start = readme.indexOf(`\n${SECTION}\n`);
  if (start === -1) throw new Error(`README.md has no "${SECTION}" section`);
  const rest = readme.slice(start + SECTION.length + 2);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

type Segment = { kind: "single" | "double" | "bare"; text: string } | { kind: "sub"; text: string };
type Word = Segment[];
type Statement = Word[];

/**
 * Splits a block into statements of words, as sh would for the forms the
 * README uses: quotes, `\` line continuations, `;`, `|`, `# comments` and
 * `$(...)`. Function definitions (`name() { ...; }`) are returned whole as a
 * single bare word, to be skipped.
 */
function parseBlock(block: string): Statement[] {
  const statements: Statement[] = [];
  for (const line of block.replace(/\\\n\s*/g, " ").split("\n")) {
    if (/^\s*\w+\(\)\s*\{/.test(line)) continue; // a helper's definition: the test has its own
    let statement: Statement = [];
    let word: Word | null = null;
    const push = (segment: Segment) => (word ??= []).push(segment);
    const endWord = () => {
      if (word) statement.push(word);
      word = null;
    };
    const endStatement = () => {
      endWord();
      if (statement.length > 0) statements.push(statement);
      statement = [];
    };
    let i = 0;
    while (i < line.length) {
      const char = line[i]!;
      if (char === " " || char === "\t") {
        endWord();
        i++;
      } else if (char === ";") {
        endStatement();
        i++;
      } else if (char === "#" && word === null) {
        break;
      } else if (char === "|") {
        endWord();
        statement.push([{ kind: "bare", text: "|" }]);
        i++;
      } else if (char === "'") {
        const end = line.indexOf("'", i + 1);
        if (end === -1) throw new Error(`unclosed ' in: ${line}`);
        push({ kind: "single", text: line.slice(i + 1, end) });
        i = end + 1;
      } else if (char === '"') {
        let text = "";
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === "\\" && i + 1 < line.length && '"\\$'.includes(line[i + 1]!)) i++;
          text += line[i];
          i++;
        }
        if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
        push({ kind: "double", text });
        i++;
      } else if (line.startsWith("$(", i)) {
        let depth = 1;
        let j = i + 2;
        let quote: string | null = null;
        for (; j < line.length && depth > 0; j++) {
          const c = line[j]!;
          if (quote) {
            if (c === quote) quote = null;
          } else if (c === "'" || c === '"') quote = c;
          else if (c === "(") depth++;
          else if (c === ")") depth--;
        }
        push({ kind: "sub", text: line.slice(i + 2, j - 1) });
        i = j;
      } else {
        let j = i;
        while (j < line.length && !" \t;|'\"".includes(line[j]!) && !line.startsWith("$(", j)) j++;
        push({ kind: "bare", text: line.slice(i, j) });
        i = j;
      }
    }
    endStatement();
  }
  return statements;
}

interface Ran {
  /** The statement as written (words joined), for finding its result. */
  source: string;
  status: number;
  body: string;
}

function walkthroughShell(context: TelephonyContext, shopKey: string) {
  const { app, sandbox, settle } = context;
  const vars = new Map<string, string>([
    ["API", API],
    ["SANDBOX", SANDBOX],
    ["SHOP", shopKey],
    ["ADMIN", TEST_ADMIN_KEY],
  ]);
  const ran: Ran[] = [];

  const expandVars = (text: string) =>
    text.replace(/\$(\w+)|\$\{(\w+)\}/g, (_match, a: string | undefined, b: string | undefined) => {
      const name = (a ?? b)!;
      const value = vars.get(name);
      if (value === undefined) throw new Error(`the README uses $${name} before setting it`);
      return value;
    });

  async function expand(word: Word): Promise<string> {
    let out = "";
    for (const segment of word) {
      if (segment.kind === "single") out += segment.text;
      else if (segment.kind === "sub") out += (await runLine(segment.text)).trim();
      else out += expandVars(segment.text);
    }
    return out;
  }

  /** One request to the app or the Twilio sandbox, by the README's URL. */
  async function request(method: string, url: string, headers: Record<string, string>, body: string | undefined) {
    const target = url.startsWith(API) ? app : url.startsWith(SANDBOX) ? sandbox.app : null;
    if (!target) throw new Error(`the README calls ${url}, which is neither $API nor $SANDBOX`);
    const response = await target.inject({
      method: method as "GET",
      url: url.slice((url.startsWith(API) ? API : SANDBOX).length),
      headers,
      ...(body !== undefined ? { payload: body } : {}),
    });
    return { status: response.statusCode, body: response.body };
  }

  async function curl(args: string[]) {
    let method: string | undefined;
    let body: string | undefined;
    let url: string | undefined;
    const headers: Record<string, string> = {};
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === "-s") continue;
      if (arg === "-X") method = args[++i];
      else if (arg === "-H") {
        const header = args[++i]!;
        headers[header.slice(0, header.indexOf(":")).trim().toLowerCase()] = header.slice(header.indexOf(":") + 1).trim();
      } else if (arg === "-d") body = args[++i];
      else if (arg.startsWith("-")) throw new Error(`curl option ${arg} is not one the walkthrough test knows`);
      else url = arg;
    }
    if (!url) throw new Error(`curl without a URL: ${args.join(" ")}`);
    return request(method ?? (body !== undefined ? "POST" : "GET"), url, headers, body);
  }

  /** A command's words (expanded) to its answer. */
  async function command(words: string[]): Promise<{ status: number; body: string }> {
    const [name, ...args] = words;
    switch (name) {
      case "curl":
        return curl(args);
      case "sms": {
        // sms() in the README: the sandbox phone texts, then `sleep 1`; here, until everything settles.
        const [from, to, text] = args;
        const sent = await request("POST", `${SANDBOX}/sandbox/api/phones/${from}/sms`, { "content-type": "application/json" }, JSON.stringify({ to, body: text }));
        await settle();
        return sent;
      }
      case "inbox":
        return request("GET", `${SANDBOX}/sandbox/api/phones/${args[0]}/messages`, {}, undefined);
      case "sleep":
        await settle();
        return { status: 0, body: "" };
      default:
        throw new Error(`the README runs ${name}, which the walkthrough test does not know`);
    }
  }

  /** One statement: assignments, or a command with an optional `| pick '<expression>'`. */
  async function runStatement(statement: Statement): Promise<{ status: number; body: string }> {
    const first = statement[0]!;
    const head = first[0]!;
    if (head.kind === "bare" && /^\w+=/.test(head.text) && statement.length === 1) {
      const name = head.text.slice(0, head.text.indexOf("="));
      const value = await expand([{ kind: "bare", text: head.text.slice(name.length + 1) }, ...first.slice(1)]);
      vars.set(name, value);
      return { status: 0, body: value };
    }
    const pipe = statement.findIndex((word) => word.length === 1 && word[0]!.kind === "bare" && word[0]!.text === "|");
    const words = await Promise.all((pipe === -1 ? statement : statement.slice(0, pipe)).map(expand));
    const result = await command(words);
    if (pipe === -1) return result;
    const [filter, expression] = await Promise.all(statement.slice(pipe + 1).map(expand));
    if (filter !== "pick" || expression === undefined) throw new Error(`only "| pick '...'" is known, not | ${filter}`);
    // pick() in the README: node -pe "JSON.parse(<stdin>)$1", the README's own JavaScript.
    let picked: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      picked = new Function("body", `return JSON.parse(body)${expression};`)(result.body);
    } catch (error) {
      throw new Error(`pick '${expression}' failed on ${result.status} ${result.body}`, { cause: error });
    }
    if (picked === undefined) throw new Error(`pick '${expression}' found nothing in ${result.body}`);
    return { status: result.status, body: typeof picked === "string" ? picked : JSON.stringify(picked) };
  }

  async function runLine(line: string) {
    let last = { status: 0, body: "" };
    for (const statement of parseBlock(line)) last = await runStatement(statement);
    return last.body;
  }

  return {
    vars,
    ran,
    /** Runs a README block's statements in order; each result is kept with its source. */
    async runBlock(block: string) {
      for (const statement of parseBlock(block)) {
        const source = statement.map((word) => word.map((segment) => segment.text).join("")).join(" ");
        const result = await runStatement(statement);
        ran.push({ source, ...result });
      }
    },
    /** The result of the last statement run whose source contains `needle`. */
    result(needle: string): Ran {
      const found = ran.findLast((entry) => entry.source.includes(needle));
      if (!found) throw new Error(`no statement containing "${needle}" ran: ${ran.map((entry) => entry.source).join("\n")}`);
      return found;
    },
  };
}

// ---------------------------------------------------------------- the browser

/**
 * The app at PUBLIC_BASE_URL, as a browser reaches it: the page's context
 * uses a tiny HTTP proxy that answers PUBLIC_BASE_URL's requests from the
 * app in process and passes the rest (the sandboxes on 127.0.0.1) through,
 * so a redirect into the app (the Stripe page's return URL) arrives like any
 * other request.
 */
async function openPageOnApp(context: TelephonyContext): Promise<void> {
  const origin = new URL(context.deps.config.PUBLIC_BASE_URL);
  proxy = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", origin);
      if (url.host !== origin.host) {
        // The sandboxes, on 127.0.0.1: passed through as they are.
        const onward = httpRequest(url, { method: request.method, headers: request.headers }, (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        });
        onward.on("error", (error) => response.writeHead(502).end(String(error)));
        onward.end(Buffer.concat(chunks));
        return;
      }
      context.app
        .inject({
          method: (request.method ?? "GET") as "GET",
          url: `${url.pathname}${url.search}`,
          headers: request.headers,
          ...(chunks.length > 0 ? { payload: Buffer.concat(chunks) } : {}),
        })
        .then((answer) => {
          response.writeHead(answer.statusCode, answer.headers as Record<string, string | string[]>);
          response.end(answer.rawPayload);
        })
        .catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", resolve));
  const browserContext = await browser!.newContext({
    viewport: { width: 1200, height: 1000 },
    proxy: { server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
  });
  page = await browserContext.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) pageErrors.push(message.text());
  });
}

/** What `npm run dev` seeds and buys, and Dan as the first walkthrough leaves him. */
async function devWorld(context: TelephonyContext) {
  const { app, deps, stripe, text } = context;
  const shop = await makeShop(app, DEMO_SHOP_NAME);
  const { maya } = await addDemoCatalog(deps, shop.id);
  const line = await expertLine(deps, shop.id);
  // A fresh dev Stripe sandbox starts with this platform balance (src/sandbox/stripe/start.ts).
  stripe.state.topUp(DEV_OPENING_BALANCE.amount, DEV_OPENING_BALANCE.currency);
  // The first walkthrough's steps 1-3: Dan is invited and replies YES.
  const invited = await app.inject({
    method: "POST",
    url: "/v1/experts",
    headers: shop.headers,
    payload: { phone: "+1 312 555 0123", name: "Dan", timeZone: "America/Chicago", skills: [{ tag: "all-grain", level: 5 }] },
  });
  expect(invited.statusCode, invited.body).toBe(201);
  await context.settle();
  await text(DAN, line, "YES");
  return { shop, maya, line, danId: invited.json<{ id: string }>().id };
}

describe("the README's payments walkthrough", () => {
  it("Dan is approved, onboards on the Stripe sandbox, answers Sam, and the admin's approved payout is transferred and paid out", async ({ onTestFailed }) => {
    const context = ctx();
    const { deps, sandbox, stripe, stripeUrl, sandboxUrl, settle } = context;
    onTestFailed(async () => {
      const file = path.join(tmpdir(), `expertline-payments-walkthrough-${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`page screenshot: ${file}`);
    });
    const blocks = walkthroughBlocks();
    expect(blocks).toHaveLength(3);
    const { shop, line, danId } = await devWorld(context);
    expect(line).toBe(DEMO_LINE); // the README's LINE
    await openPageOnApp(context);
    const shell = walkthroughShell(context, shop.apiKey);

    // Block 1: Dan joins the pool, the admin approves him, the onboarding text arrives.
    await shell.runBlock(blocks[0]!);
    expect(shell.vars.get("DAN_ID")).toBe(danId);
    expect(shell.result("/members").status).toBe(201);
    expect(shell.result("/vetting").status).toBe(200);
    const onboardingText = /^Hi Dan! To get paid for your Demo Brew Barn answers, set up payouts with Stripe \(takes ~5 min\): (http:\/\/expertline\.test\/e\/onboard\/\w{32})$/;
    const messages = JSON.parse(shell.result("inbox").body) as { messages: { direction: string; body: string; peer: string }[] };
    expect(messages.messages.at(-1)).toMatchObject({ direction: "received", peer: line, body: expect.stringMatching(onboardingText) });

    // Step 2, on the pages: the link from Dan's card on the phones page, then the Stripe sandbox's onboarding page.
    await page.goto(`${sandboxUrl}/sandbox`, { timeout: WAIT_MS });
    const danCard = page.locator(".phone", { has: page.locator("h3", { hasText: DAN }) });
    const lastText = danCard.locator(".msg.received", { hasText: "set up payouts with Stripe" }).last();
    await lastText.waitFor();
    const link = onboardingText.exec(((await lastText.textContent()) ?? "").replace(/from \+\d+$/, "").trim())?.[1];
    expect(link).toBeDefined();
    await page.goto(link!, { timeout: WAIT_MS });
    expect(page.url()).toMatch(new RegExp(`^${stripeUrl}/`));
    const dan = await deps.prisma.expert.findUniqueOrThrow({ where: { id: danId } });
    expect(dan.stripeAccountId).toMatch(/^acct_/);
    expect(await page.locator("h1").textContent()).toBe(`Onboarding for ${dan.stripeAccountId}`);
    await Promise.all([page.waitForURL(`${link}/return`), page.getByRole("button", { name: "Complete onboarding" }).click()]);
    expect(await page.locator("h1").textContent()).toBe("You're all set");
    expect(await page.locator("main").textContent()).toContain("Payouts are on");
    await settle();
    await page.goto(`${stripeUrl}/sandbox/stripe`);
    const accountRow = page.locator("tr", { has: page.locator(`[data-account="${dan.stripeAccountId}"]`) });
    expect(await accountRow.locator('[data-field="payouts_enabled"]').textContent()).toBe("yes");

    // Block 2: Dan is paid-ready; Maya pauses; Sam asks; Dan takes it, answers; Sam ends it; the ledger; the payout run, review and approval.
    await shell.runBlock(blocks[1]!);
    expect(JSON.parse(shell.result(`/v1/experts/${"$DAN_ID"}`).body)).toMatchObject({ id: danId, payoutsEnabled: true });
    expect(shell.result("/v1/questions").status).toBe(201);
    const proxy = shell.vars.get("PROXY")!;
    expect(proxy).toMatch(/^\+1\d{10}$/);
    expect(proxy).not.toBe(line);
    const session = await deps.prisma.session.findFirstOrThrow({ where: { expertId: danId } });
    expect(session).toMatchObject({ status: "ended", customerPhone: "+14155550177", proxyNumberId: expect.any(String) });
    const ledger = JSON.parse(shell.result("/v1/ledger").body) as { data: unknown[] };
    expect(ledger.data).toEqual([
      expect.objectContaining({ kind: "shop_charge", amountMinor: 1500, currency: "USD", sessionId: session.id, expert: { id: danId, firstName: "Dan" }, split: { earningsMinor: 1200, feesMinor: 300 } }),
    ]);
    const payoutId = shell.vars.get("PAYOUT")!;
    expect(JSON.parse(shell.result("/v1/admin/payouts/run").body)).toMatchObject({ payoutIds: [payoutId] });
    const review = shell.ran.filter((entry) => entry.source === "curl -s -H Authorization: Bearer $ADMIN $API/v1/admin/payouts/$PAYOUT");
    expect(review).toHaveLength(2);
    expect(JSON.parse(review[0]!.body)).toMatchObject({
      id: payoutId,
      expertId: danId,
      expertName: "Dan",
      status: "pending_review",
      amountMinor: 1200,
      currency: "USD",
      sessionCount: 1,
      payoutsEnabled: true,
      // One expert text is a short session: flagged, with the reason, and still approvable.
      riskFlags: ["short_sessions"],
      riskDetails: { short_sessions: expect.stringMatching(/^1 of 1 sessions were very short \(.*fewer than 2 expert replies\)$/) },
      sessions: [expect.objectContaining({ id: session.id, mode: "sms" })],
      ledger: [expect.objectContaining({ kind: "session_earning", amountMinor: 1200, sessionId: session.id })],
      decisions: [],
    });
    const approved = shell.result("/approve");
    expect(approved.status).toBe(200);
    expect(JSON.parse(approved.body)).toMatchObject({ status: "approved", reviewedBy: "admin", reviewNote: "answered well" });
    const transferred = JSON.parse(review[1]!.body) as { status: string; stripeTransferId: string };
    expect(transferred).toMatchObject({ status: "transferred", stripeTransferId: expect.stringMatching(/^tr_/) });

    // Step 6, on the dashboard: the transfer, grouped by the payout's id; then "Pay out now" on Dan's account.
    await page.goto(`${stripeUrl}/sandbox/stripe`);
    const transferRow = page.locator("tr", { hasText: transferred.stripeTransferId });
    expect(await transferRow.textContent()).toContain(payoutId);
    expect(await transferRow.textContent()).toContain("12.00 USD");
    expect(await transferRow.textContent()).toContain(dan.stripeAccountId!);
    await Promise.all([page.waitForURL(/notice=/), page.locator("tr", { has: page.locator(`[data-account="${dan.stripeAccountId}"]`) }).getByRole("button", { name: "Pay out now" }).click()]);
    expect(await page.getByRole("status").textContent()).toMatch(/^Payout po_\w+ 12\.00 USD paid\.$/);
    await settle();

    // Block 3: the payout is paid.
    await shell.runBlock(blocks[2]!);
    const paid = JSON.parse(shell.result("$API/v1/admin/payouts/$PAYOUT").body) as Record<string, unknown>;
    expect(paid).toMatchObject({ status: "paid", stripePayoutId: expect.stringMatching(/^po_/) });
    expect((paid.decisions as { action: string }[]).map((decision) => decision.action)).toContain("approve");
    const check = await context.app.inject({ method: "GET", url: `/v1/admin/payouts/${payoutId}`, headers: adminHeaders });
    expect(check.json()).toMatchObject({ status: "paid" });

    expect(stripe.state.contractViolations).toEqual([]);
    expect(sandbox.state.contractViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
