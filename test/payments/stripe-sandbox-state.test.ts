/**
 * The Stripe sandbox's own pieces beyond the API: its state file across a
 * restart, GET /v1/transfers through the SDK, the dashboard's "Pay out now",
 * top-up and drain, the onboarding page's flows, and the development
 * start-up the entry points call. No database: the sandbox imports nothing
 * of the product.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStripeSandbox, type StripeSandbox } from "../../src/sandbox/stripe/server.js";
import { DEV_OPENING_BALANCE, startConfiguredStripeSandbox } from "../../src/sandbox/stripe/start.js";
import { formatMinor, parseMajor } from "../../src/sandbox/stripe/dashboard-page.js";
import { stripeSignatureHeader, type StripeEvent } from "../../src/sandbox/stripe/webhooks.js";

const KEY = "sk_test_state_0123456789abcdefghij";
const START = Date.parse("2026-03-02T10:00:00Z");
let now = START;
const clock = { now: () => new Date(now) };
let dir: string;
const open: StripeSandbox[] = [];

beforeEach(() => {
  now = START;
  dir = mkdtempSync(path.join(tmpdir(), "stripe-sandbox-"));
});
afterEach(async () => {
  for (const sandbox of open.splice(0)) await sandbox.app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listening(options: Partial<Parameters<typeof createStripeSandbox>[0]> = {}) {
  const sandbox = await createStripeSandbox({ secretKey: KEY, clock, ...options });
  open.push(sandbox);
  await sandbox.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (sandbox.app.server.address() as AddressInfo).port;
  return { sandbox, port, stripe: new Stripe(KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 }) };
}

async function expressAccount(stripe: Stripe, sandbox: StripeSandbox, onboard = true): Promise<string> {
  const account = await stripe.accounts.create({
    controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
    capabilities: { transfers: { requested: true } },
    metadata: { expert: "ex_dan" },
  });
  if (onboard) sandbox.state.completeOnboarding(account.id);
  return account.id;
}

const form = { "content-type": "application/x-www-form-urlencoded" };

describe("the state file", () => {
  it("brings back balance, accounts, links, transfers, reversals, payouts, events and idempotency keys after a restart", async () => {
    const file = path.join(dir, "nested", "stripe-state.json");
    const first = await listening({ stateFile: file });
    first.sandbox.state.topUp(10_000, "usd");
    const account = await expressAccount(first.stripe, first.sandbox);
    const link = await first.stripe.accountLinks.create({ account, type: "account_onboarding", refresh_url: "http://127.0.0.1:9/r", return_url: "http://127.0.0.1:9/ok" });
    const transfer = await first.stripe.transfers.create({ amount: 3000, currency: "usd", destination: account, transfer_group: "po_1" }, { idempotencyKey: "payout-po_1" });
    await first.stripe.transfers.createReversal(transfer.id, { amount: 500 });
    const [payout] = first.sandbox.state.payOutNow(account);
    await first.sandbox.app.close();
    open.splice(0);

    expect(readdirSync(path.dirname(file))).toEqual(["stripe-state.json"]);
    expect(readFileSync(file, "utf8")).not.toContain(KEY);

    const second = await listening({ stateFile: file });
    const state = second.sandbox.state;
    expect(state.availableBalance("usd")).toBe(10_000 - 3000 + 500);
    expect(state.accounts.get(account)).toMatchObject({ onboarded: true, metadata: { expert: "ex_dan" } });
    expect(state.accountBalance(account, "usd")).toBe(0);
    expect(state.accountLinks.size).toBe(1);
    expect(new URL(link.url).pathname).toBe(`/sandbox/stripe/onboard/${[...state.accountLinks.keys()][0]}`);
    expect(await second.stripe.transfers.retrieve(transfer.id)).toMatchObject({ amount: 3000, amount_reversed: 500, reversed: false, transfer_group: "po_1" });
    expect(await second.stripe.payouts.retrieve(payout?.id ?? "", {}, { stripeAccount: account })).toMatchObject({ status: "paid", automatic: true, amount: 2500 });
    expect(state.eventLog.events.map((event) => event.type)).toEqual([
      "account.updated",
      "capability.updated",
      "transfer.created",
      "transfer.reversed",
      "payout.created",
      "payout.updated",
      "payout.paid",
    ]);
    // The retry of a transfer after the sandbox restarted replays it: one transfer, the same id.
    const again = await second.stripe.transfers.create({ amount: 3000, currency: "usd", destination: account, transfer_group: "po_1" }, { idempotencyKey: "payout-po_1" });
    expect(again.id).toBe(transfer.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(state.transfers.size).toBe(1);
  });

  it("lives in memory without a file, and names a file it cannot read", async () => {
    const file = path.join(dir, "stripe-state.json");
    writeFileSync(file, JSON.stringify({ version: 1, available: { usd: "lots" } }));
    await expect(createStripeSandbox({ secretKey: KEY, clock, stateFile: file })).rejects.toThrow(/stripe-state\.json cannot be read \(.*move it away/);
    const memory = await createStripeSandbox({ secretKey: KEY, clock });
    open.push(memory);
    memory.state.topUp(5, "usd");
    expect(memory.state.onChange).toBeUndefined();
  });
});

describe("GET /v1/transfers", () => {
  it("lists newest first, filters by transfer_group and destination, and pages with limit and starting_after", async () => {
    const { sandbox, stripe } = await listening();
    sandbox.state.topUp(100_000, "usd");
    const dan = await expressAccount(stripe, sandbox);
    const eve = await expressAccount(stripe, sandbox);
    const ids: string[] = [];
    for (const [destination, group] of [[dan, "po_a"], [eve, "po_b"], [dan, "po_c"], [dan, "po_a"], [eve, null]] as const) {
      ids.push((await stripe.transfers.create({ amount: 100, currency: "usd", destination, ...(group ? { transfer_group: group } : {}) })).id);
    }
    const all = await stripe.transfers.list();
    expect(all).toMatchObject({ object: "list", has_more: false, url: "/v1/transfers" });
    expect(all.data.map((transfer) => transfer.id)).toEqual([...ids].reverse());

    const group = await stripe.transfers.list({ transfer_group: "po_a" });
    expect(group.data.map((transfer) => transfer.id)).toEqual([ids[3], ids[0]]);
    expect(group.data.every((transfer) => transfer.destination === dan && transfer.transfer_group === "po_a")).toBe(true);
    expect((await stripe.transfers.list({ transfer_group: "po_none" })).data).toEqual([]);
    expect((await stripe.transfers.list({ destination: eve })).data.map((transfer) => transfer.id)).toEqual([ids[4], ids[1]]);
    expect((await stripe.transfers.list({ destination: dan, transfer_group: "po_c" })).data.map((transfer) => transfer.id)).toEqual([ids[2]]);

    const page1 = await stripe.transfers.list({ limit: 2 });
    expect(page1.has_more).toBe(true);
    expect(page1.data.map((transfer) => transfer.id)).toEqual([ids[4], ids[3]]);
    const page2 = await stripe.transfers.list({ limit: 2, starting_after: ids[3] ?? "" });
    expect(page2.data.map((transfer) => transfer.id)).toEqual([ids[2], ids[1]]);
    expect(page2.has_more).toBe(true);
    const page3 = await stripe.transfers.list({ limit: 2, starting_after: ids[1] ?? "" });
    expect(page3).toMatchObject({ has_more: false, data: [{ id: ids[0] }] });
    expect((await stripe.transfers.list({ limit: 2, ending_before: ids[1] ?? "" })).data.map((transfer) => transfer.id)).toEqual([ids[3], ids[2]]);
    // The SDK's auto-pagination walks the same cursor.
    const walked: string[] = [];
    for await (const transfer of stripe.transfers.list({ limit: 2 })) walked.push(transfer.id);
    expect(walked).toEqual([...ids].reverse());

    await expect(stripe.transfers.list({ limit: 101 })).rejects.toMatchObject({ type: "StripeInvalidRequestError", param: "limit" });
    await expect(stripe.transfers.list({ starting_after: "tr_missing" })).rejects.toMatchObject({ code: "resource_missing", param: "starting_after" });
    expect(sandbox.state.contractViolations).toEqual([]);
    // POST /v1/accounts with controller, capabilities and metadata: `controller` is newer than the 2023 spec, reported, not refused.
    const accountChecks = sandbox.state.contractUnknownParams.filter((entry) => entry.path === "/v1/accounts");
    expect(accountChecks).toHaveLength(2);
    for (const entry of accountChecks) expect(entry.unknownParams.some((param) => param.includes("controller"))).toBe(true);
    expect(accountChecks.flatMap((entry) => entry.unknownParams).some((param) => /capabilities|metadata/.test(param))).toBe(false);
  });
});

describe("Pay out now", () => {
  it("pays a connected account's whole balance as an automatic payout, with Connect events, or fails it and gives the money back", async () => {
    const { sandbox, stripe } = await listening();
    sandbox.state.topUp(10_000, "usd");
    const account = await expressAccount(stripe, sandbox);
    await stripe.transfers.create({ amount: 4200, currency: "usd", destination: account });
    const before = sandbox.state.eventLog.events.length;

    const [paid] = sandbox.state.payOutNow(account);
    expect(paid).toMatchObject({ amount: 4200, currency: "usd", status: "paid", automatic: true });
    expect(sandbox.state.accountBalance(account, "usd")).toBe(0);
    const events = sandbox.state.eventLog.events.slice(before);
    expect(events.map((event) => [event.type, event.account])).toEqual([
      ["payout.created", account],
      ["payout.updated", account],
      ["payout.paid", account],
    ]);
    expect(events[1]?.data).toMatchObject({ object: { id: paid?.id, status: "paid", automatic: true }, previous_attributes: { status: "pending" } });
    expect(() => sandbox.state.payOutNow(account)).toThrow(/no available balance/);

    await stripe.transfers.create({ amount: 900, currency: "usd", destination: account });
    const [failed] = sandbox.state.payOutNow(account, { fail: { code: "account_closed", message: "The bank account has been closed." } });
    expect(failed).toMatchObject({ status: "failed", failureCode: "account_closed", amount: 900 });
    expect(sandbox.state.eventLog.events.at(-1)).toMatchObject({ type: "payout.failed", account, data: { object: { failure_code: "account_closed", status: "failed" } } });
    // A failed payout's money is back on the connected account.
    expect(sandbox.state.accountBalance(account, "usd")).toBe(900);
    expect(await stripe.payouts.retrieve(failed?.id ?? "", {}, { stripeAccount: account })).toMatchObject({ status: "failed", failure_code: "account_closed" });

    const notOnboarded = await expressAccount(stripe, sandbox, false);
    expect(() => sandbox.state.payOutNow(notOnboarded)).toThrow(/no available balance/);
  });
});

describe("the dashboard page", () => {
  it("shows balance, accounts, transfers, reversals, payouts and events, escaped, under a strict CSP", async () => {
    const { sandbox, stripe } = await listening();
    const account = await stripe.accounts.create({ type: "express", capabilities: { transfers: { requested: true } }, email: "dan<script>@example.com", metadata: { note: "<b>x</b>" } });
    sandbox.state.completeOnboarding(account.id);
    sandbox.state.topUp(150_000, "usd");
    const transfer = await stripe.transfers.create({ amount: 12_345, currency: "usd", destination: account.id, transfer_group: "po_<g>" });
    const reversal = await stripe.transfers.createReversal(transfer.id, { amount: 345 });

    const page = await sandbox.app.inject({ method: "GET", url: "/sandbox/stripe" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain("script-src");
    expect(page.body).not.toMatch(/<script|src=|href="http/);
    expect(page.body).not.toContain("<b>x</b>");
    expect(page.body).toContain("dan&#60;script&#62;@example.com");
    expect(page.body).toContain("po_&#60;g&#62;");
    expect(page.body).toContain(account.id);
    expect(page.body).toContain(transfer.id);
    expect(page.body).toContain(reversal.id);
    expect(page.body).toContain("1,380.00 USD"); // 150,000 - 12,345 + 345 minor
    expect(page.body).toContain("transfer.reversed");
    expect(page.body).toContain("Pay out now");
  });

  it("tops up and drains the balance from its forms, and refuses what is not an amount", async () => {
    const { sandbox } = await listening();
    const post = (url: string, payload: string) => sandbox.app.inject({ method: "POST", url, payload, headers: form });
    const topped = await post("/sandbox/stripe/balance", "action=top-up&amount=1%2C250.50&currency=usd");
    expect(topped.statusCode).toBe(303);
    expect(topped.headers.location).toMatch(/^\/sandbox\/stripe\?notice=/);
    expect(sandbox.state.availableBalance("usd")).toBe(125_050);
    await post("/sandbox/stripe/balance", "action=drain&amount=50.50&currency=usd");
    expect(sandbox.state.availableBalance("usd")).toBe(120_000);
    for (const bad of ["-5", "1.234", "abc", "0"]) {
      const refused = await post("/sandbox/stripe/balance", `action=top-up&amount=${encodeURIComponent(bad)}&currency=usd`);
      expect(refused.headers.location).toMatch(/\?error=/);
    }
    expect(sandbox.state.availableBalance("usd")).toBe(120_000);
    await post("/sandbox/stripe/balance", "action=drain&amount=&currency=usd");
    expect(sandbox.state.availableBalance("usd")).toBe(0);
    const shown = await sandbox.app.inject({ method: "GET", url: topped.headers.location as string });
    expect(shown.body).toContain("Topped up 1,250.50 USD.");
  });

  it("pays out or fails a connected account's balance from the page", async () => {
    const { sandbox, stripe } = await listening();
    sandbox.state.topUp(10_000, "usd");
    const account = await expressAccount(stripe, sandbox);
    await stripe.transfers.create({ amount: 700, currency: "usd", destination: account });
    const fail = await sandbox.app.inject({ method: "POST", url: `/sandbox/stripe/accounts/${account}/payout`, payload: "action=fail&failure_code=no_account", headers: form });
    expect(fail.statusCode).toBe(303);
    expect([...sandbox.state.payouts.values()].map((payout) => [payout.status, payout.failureCode])).toEqual([["failed", "no_account"]]);
    await sandbox.app.inject({ method: "POST", url: `/sandbox/stripe/accounts/${account}/payout`, payload: "action=pay", headers: form });
    expect([...sandbox.state.payouts.values()].map((payout) => payout.status)).toEqual(["failed", "paid"]);
    const nothing = await sandbox.app.inject({ method: "POST", url: `/sandbox/stripe/accounts/${account}/payout`, payload: "action=pay", headers: form });
    expect(new URLSearchParams(String(nothing.headers.location).split("?")[1]).get("error")).toMatch(/has no available balance to pay out/);
  });

  it("formats and parses amounts in minor units, zero-decimal currencies included", () => {
    expect(formatMinor(100_000_000, "usd")).toBe("1,000,000.00 USD");
    expect(formatMinor(5, "usd")).toBe("0.05 USD");
    expect(formatMinor(-1234, "eur")).toBe("-12.34 EUR");
    expect(formatMinor(500, "jpy")).toBe("500 JPY");
    expect(parseMajor("12", "usd")).toBe(1200);
    expect(parseMajor("12.3", "usd")).toBe(1230);
    expect(parseMajor("500", "jpy")).toBe(500);
    expect(parseMajor("5.5", "jpy")).toBeUndefined();
    expect(parseMajor("0.00", "usd")).toBeUndefined();
  });
});

describe("the onboarding page", () => {
  async function linked(stripe: Stripe) {
    const account = await stripe.accounts.create({ type: "express", capabilities: { transfers: { requested: true } } });
    const link = await stripe.accountLinks.create({ account: account.id, type: "account_onboarding", refresh_url: "http://127.0.0.1:9/refresh", return_url: "http://127.0.0.1:9/return" });
    return { account: account.id, path: new URL(link.url).pathname };
  }

  it("completes onboarding: return_url, account enabled, signed account.updated and capability.updated carrying the account", async () => {
    const received: { body: string; signature: string }[] = [];
    const { sandbox, stripe } = await listening({
      webhookUrl: "http://127.0.0.1:9/stripe/webhook",
      webhookSecret: "whsec_pages",
      webhookSender: async ({ body, headers }) => {
        received.push({ body, signature: headers["stripe-signature"] ?? "" });
        return { status: 200 };
      },
    });
    const { account, path: page } = await linked(stripe);
    const shown = await sandbox.app.inject({ method: "GET", url: page });
    expect(shown.body).toContain("Complete onboarding");
    expect(shown.body).toContain("Save for later");
    expect(String(shown.headers["content-security-policy"])).toContain("form-action 'self' http://127.0.0.1:9");
    const done = await sandbox.app.inject({ method: "POST", url: page, payload: "action=complete", headers: form });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("http://127.0.0.1:9/return");
    expect(await stripe.accounts.retrieve(account)).toMatchObject({
      details_submitted: true,
      charges_enabled: true,
      payouts_enabled: true,
      capabilities: { transfers: "active" },
      requirements: { currently_due: [], eventually_due: [], past_due: [], disabled_reason: null },
    });
    await sandbox.idle();
    const events = received.map(({ body, signature }) => stripe.webhooks.constructEvent(body, signature, "whsec_pages", 300, undefined, now / 1000));
    expect(events.map((event) => [event.type, event.account])).toEqual([
      ["account.updated", account],
      ["capability.updated", account],
    ]);
    expect(received[0]?.signature).toBe(stripeSignatureHeader("whsec_pages", received[0]?.body ?? "", now / 1000));
    expect((events[0] as unknown as StripeEvent).data.previous_attributes).toMatchObject({ details_submitted: false, payouts_enabled: false, charges_enabled: false });
    // The link is spent: the finished form cannot be posted again, and a revisit goes to refresh_url.
    const twice = await sandbox.app.inject({ method: "POST", url: page, payload: "action=complete", headers: form });
    expect(twice.headers.location).toBe("http://127.0.0.1:9/refresh");
    expect((await sandbox.app.inject({ method: "GET", url: page })).headers.location).toBe("http://127.0.0.1:9/refresh");
    expect(sandbox.state.eventLog.events).toHaveLength(2);

    // The dashboard resends an event as Stripe retries it: the same id, a new signature over the same body.
    const firstId = events[0]?.id ?? "";
    const resent = await sandbox.app.inject({ method: "POST", url: `/sandbox/stripe/events/${firstId}/resend` });
    expect(resent.statusCode).toBe(303);
    expect(new URLSearchParams(String(resent.headers.location).split("?")[1]).get("notice")).toBe(`Resent ${firstId} (account.updated): 200.`);
    expect(received).toHaveLength(3);
    // The same event; only pending_webhooks moved (the first attempt succeeded).
    expect({ ...(JSON.parse(received[2]?.body ?? "{}") as object), pending_webhooks: 1 }).toEqual(JSON.parse(received[0]?.body ?? ""));
    expect(stripe.webhooks.constructEvent(received[2]?.body ?? "", received[2]?.signature ?? "", "whsec_pages", 300, undefined, now / 1000).id).toBe(firstId);
    expect(sandbox.state.eventLog.deliveries[0]?.attempts).toHaveLength(2);
    const dashboard = await sandbox.app.inject({ method: "GET", url: "/sandbox/stripe" });
    expect(dashboard.body).toContain("delivered (200, 2 attempts)");
  });

  it("saves for later: return_url too, and nothing changes (the return URL proves nothing)", async () => {
    const { sandbox, stripe } = await listening();
    const { account, path: page } = await linked(stripe);
    await sandbox.app.inject({ method: "GET", url: page });
    const later = await sandbox.app.inject({ method: "POST", url: page, payload: "action=later", headers: form });
    expect(later.headers.location).toBe("http://127.0.0.1:9/return");
    expect(await stripe.accounts.retrieve(account)).toMatchObject({ details_submitted: false, payouts_enabled: false, capabilities: { transfers: "inactive" } });
    expect(sandbox.state.eventLog.events).toEqual([]);
  });

  it("sends an expired link, or a form posted without the visit, to refresh_url, and 404s an unknown link", async () => {
    const { sandbox, stripe } = await listening();
    const expired = await linked(stripe);
    const unvisited = await linked(stripe);
    const posted = await sandbox.app.inject({ method: "POST", url: unvisited.path, payload: "action=complete", headers: form });
    expect(posted.headers.location).toBe("http://127.0.0.1:9/refresh");
    now += 300_000;
    const late = await sandbox.app.inject({ method: "GET", url: expired.path });
    expect(late.statusCode).toBe(302);
    expect(late.headers.location).toBe("http://127.0.0.1:9/refresh");
    expect(sandbox.state.accounts.get(expired.account)?.onboarded).toBe(false);
    expect((await sandbox.app.inject({ method: "GET", url: "/sandbox/stripe/onboard/link_nope" })).statusCode).toBe(404);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("starting it for development", () => {
  const settings = { sandboxEnabled: true, nodeEnv: "development", secretKey: KEY, webhookSecrets: ["whsec_first", "whsec_second"], appOrigin: "http://127.0.0.1:9" };

  it("starts on STRIPE_API_BASE_URL's port with the opening balance, once, the rate limit, and events signed with the first secret for /stripe/webhook", async () => {
    const port = await freePort();
    const file = path.join(dir, "stripe-state.json");
    const sent: { url: string; headers: Record<string, string>; body: string }[] = [];
    const start = () =>
      startConfiguredStripeSandbox({
        ...settings,
        apiBaseUrl: `http://127.0.0.1:${port}/`,
        stateFile: file,
        rateLimitPerSecond: 3,
        webhookSender: async (request) => {
          sent.push(request);
          return { status: 200 };
        },
      });
    const sandbox = await start();
    if (!sandbox) throw new Error("the sandbox did not start");
    open.push(sandbox);
    expect(sandbox.url).toBe(`http://127.0.0.1:${port}`);
    expect(sandbox.dashboardUrl).toBe(`http://127.0.0.1:${port}/sandbox/stripe`);
    expect(sandbox.state.availableBalance(DEV_OPENING_BALANCE.currency)).toBe(100_000_000);
    expect(sandbox.state.rateLimit).toBe(3);

    const stripe = new Stripe(KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
    const account = await stripe.accounts.create({ type: "express", capabilities: { transfers: { requested: true } } });
    const link = await stripe.accountLinks.create({ account: account.id, type: "account_onboarding", refresh_url: "http://127.0.0.1:9/r", return_url: "http://127.0.0.1:9/ok" });
    expect(link.url.startsWith(`http://127.0.0.1:${port}/sandbox/stripe/onboard/`)).toBe(true);
    sandbox.state.completeOnboarding(account.id);
    await sandbox.idle();
    expect(sent[0]?.url).toBe("http://127.0.0.1:9/stripe/webhook");
    expect(stripe.webhooks.constructEvent(sent[0]?.body ?? "", sent[0]?.headers["stripe-signature"] ?? "", "whsec_first", 300)).toMatchObject({ type: "account.updated" });

    sandbox.state.drain("usd", 1);
    await sandbox.app.close();
    open.splice(0);
    // A restart reads the file back and does not top up again.
    const restarted = await start();
    if (!restarted) throw new Error("the sandbox did not restart");
    open.push(restarted);
    expect(restarted.state.availableBalance("usd")).toBe(100_000_000 - 1);
  });

  it("does not start without SANDBOX_ENABLED or STRIPE_API_BASE_URL, and refuses production or a key that is not sk_test_", async () => {
    expect(await startConfiguredStripeSandbox({ ...settings, apiBaseUrl: undefined })).toBeUndefined();
    expect(await startConfiguredStripeSandbox({ ...settings, sandboxEnabled: false, apiBaseUrl: "http://127.0.0.1:9" })).toBeUndefined();
    await expect(startConfiguredStripeSandbox({ ...settings, apiBaseUrl: "http://127.0.0.1:9", secretKey: "sk_live_abc" })).rejects.toThrow(/not a test-mode secret key/);
    await expect(startConfiguredStripeSandbox({ ...settings, apiBaseUrl: "http://127.0.0.1:9", nodeEnv: "production" })).rejects.toThrow(/NODE_ENV=production/);
  });
});
