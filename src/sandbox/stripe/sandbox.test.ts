import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStripeSandbox, type StripeSandbox } from "./server.js";
import { KEY_RETENTION_MS } from "./idempotency.js";

const KEY = "sk_test_sandbox_0123456789abcdef";
const START = Date.parse("2026-03-02T10:00:00Z");

let now = START;
const clock = { now: () => new Date(now) };
let sandbox: StripeSandbox;

beforeEach(async () => {
  now = START;
  sandbox = await createStripeSandbox({ secretKey: KEY, clock, publicBaseUrl: "http://127.0.0.1:3002" });
});
afterEach(async () => {
  await sandbox.app.close();
});

function post(url: string, form: string, headers: Record<string, string> = {}) {
  return sandbox.app.inject({
    method: "POST",
    url,
    payload: form,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/x-www-form-urlencoded", ...headers },
  });
}
function get(url: string) {
  return sandbox.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${KEY}` } });
}

async function onboardedAccount(): Promise<string> {
  const created = await post("/v1/accounts", "type=express&capabilities[transfers][requested]=true");
  const id = created.json<{ id: string }>().id;
  sandbox.state.completeOnboarding(id);
  return id;
}

describe("auth and errors", () => {
  it("refuses a missing or wrong key with Stripe's error shape and a Request-Id", async () => {
    const missing = await sandbox.app.inject({ method: "GET", url: "/v1/balance" });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers["request-id"]).toMatch(/^req_/);
    expect(missing.json()).toMatchObject({ error: { type: "invalid_request_error" } });
    const wrong = await sandbox.app.inject({ method: "GET", url: "/v1/balance", headers: { authorization: "Bearer sk_test_wrongwrongwrong1234" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json<{ error: { message: string } }>().error.message).toBe("Invalid API Key provided: sk_test_***************1234");
  });

  it("answers unknown routes and resources with 404s in Stripe's shape", async () => {
    const route = await get("/v1/nothing");
    expect(route.statusCode).toBe(404);
    expect(route.headers["request-id"]).toMatch(/^req_/);
    const transfer = await get("/v1/transfers/tr_missing");
    expect(transfer.statusCode).toBe(404);
    expect(transfer.json()).toEqual({
      error: { type: "invalid_request_error", code: "resource_missing", param: "id", message: "No such transfer: 'tr_missing'", doc_url: "https://stripe.com/docs/error-codes/resource-missing" },
    });
  });

  it("names a missing or unknown parameter", async () => {
    const missing = await post("/v1/transfers", "amount=100&destination=acct_x");
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: "parameter_missing", param: "currency" } });
    const unknown = await post("/v1/transfers", "amount=100&currency=usd&destination=acct_x&colour=red");
    expect(unknown.json()).toMatchObject({ error: { code: "parameter_unknown", param: "colour" } });
    const zero = await post("/v1/transfers", "amount=0&currency=usd&destination=acct_x");
    expect(zero.json()).toMatchObject({ error: { code: "parameter_invalid_integer", param: "amount" } });
  });
});

describe("contract", () => {
  it("refuses what the official spec forbids and the sandbox would not notice, and reports parameters the 2023 spec lacks", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    expect(sandbox.state.contractUnknownParams.some((entry) => entry.path === "/v1/accounts")).toBe(false);
    await post("/v1/accounts", "controller[stripe_dashboard][type]=express&capabilities[transfers][requested]=true");
    expect(sandbox.state.contractUnknownParams).toContainEqual(expect.objectContaining({ path: "/v1/accounts", unknownParams: expect.arrayContaining([expect.stringContaining("controller")]) as unknown }));
    expect(sandbox.state.contractViolations).toEqual([]);

    const bad = await post("/v1/transfers", `amount=100&currency=usd&destination=${destination}&source_type=bogus`, { "idempotency-key": "k-contract" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toContain("source_type");
    expect(sandbox.state.contractViolations).toHaveLength(1);
    expect(sandbox.state.transfers.size).toBe(0);
    // Refused before execution: the key is free for the corrected request.
    const good = await post("/v1/transfers", `amount=100&currency=usd&destination=${destination}`, { "idempotency-key": "k-contract" });
    expect(good.statusCode).toBe(200);
  });
});

describe("Connect Express onboarding", () => {
  it("creates an account with controller properties, links it, and completes onboarding", async () => {
    const created = await post(
      "/v1/accounts",
      "controller[stripe_dashboard][type]=express&controller[fees][payer]=application&controller[losses][payments]=application&capabilities[transfers][requested]=true&metadata[expert]=ex_1",
    );
    expect(created.statusCode).toBe(200);
    const account = created.json<{ id: string; requirements: { currently_due: string[] } }>();
    expect(account.id).toMatch(/^acct_/);
    expect(account).toMatchObject({
      object: "account",
      type: "none",
      capabilities: { transfers: "inactive" },
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, requirement_collection: "stripe" },
      metadata: { expert: "ex_1" },
    });
    expect(account.requirements.currently_due.length).toBeGreaterThan(0);

    const update = await post("/v1/account_links", `account=${account.id}&type=account_update&refresh_url=https://app/refresh&return_url=https://app/return`);
    expect(update.statusCode).toBe(400);
    expect(update.json()).toMatchObject({ error: { type: "invalid_request_error", param: "type" } });

    const linked = await post("/v1/account_links", `account=${account.id}&type=account_onboarding&refresh_url=https://app/refresh&return_url=https://app/return`);
    const link = linked.json<{ object: string; created: number; expires_at: number; url: string }>();
    expect(link.object).toBe("account_link");
    expect(link.created).toBe(START / 1000);
    expect(link.expires_at - link.created).toBe(300);
    const path = new URL(link.url).pathname;
    expect(link.url.startsWith("http://127.0.0.1:3002/sandbox/stripe/onboard/")).toBe(true);

    const page = await sandbox.app.inject({ method: "GET", url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Complete onboarding");
    // Single use: a second visit (a link preview, a reload) goes to refresh_url.
    const again = await sandbox.app.inject({ method: "GET", url: path });
    expect(again.statusCode).toBe(302);
    expect(again.headers.location).toBe("https://app/refresh");

    const done = await sandbox.app.inject({ method: "POST", url: path, payload: "action=complete", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("https://app/return");
    const fetched = (await get(`/v1/accounts/${account.id}`)).json();
    expect(fetched).toMatchObject({
      capabilities: { transfers: "active" },
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], past_due: [], disabled_reason: null },
    });
  });

  it("lets an expired link go to refresh_url, and a type=express account read fees.payer application_express", async () => {
    const account = (await post("/v1/accounts", "type=express&capabilities[transfers][requested]=true")).json<{ id: string; controller: unknown }>();
    expect(account.controller).toMatchObject({ fees: { payer: "application_express" }, stripe_dashboard: { type: "express" } });
    const link = (await post("/v1/account_links", `account=${account.id}&type=account_onboarding&refresh_url=https://app/r&return_url=https://app/ok`)).json<{ url: string }>();
    now += 300_000;
    const page = await sandbox.app.inject({ method: "GET", url: new URL(link.url).pathname });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe("https://app/r");
  });
});

describe("transfers against the platform balance", () => {
  it("moves money, reverses part then the rest, and refuses an over-reversal", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(10_000, "usd");
    const created = await post("/v1/transfers", `amount=7000&currency=USD&destination=${destination}&transfer_group=po_1&metadata[payout]=po_1&description=week`);
    expect(created.statusCode).toBe(200);
    const transfer = created.json<{ id: string }>();
    expect(transfer).toMatchObject({ object: "transfer", amount: 7000, amount_reversed: 0, currency: "usd", destination, transfer_group: "po_1", metadata: { payout: "po_1" }, reversed: false, livemode: false });
    expect(transfer.id).toMatch(/^tr_/);
    expect((await get("/v1/balance")).json()).toMatchObject({ object: "balance", available: [{ amount: 3000, currency: "usd" }] });

    const partial = await post(`/v1/transfers/${transfer.id}/reversals`, "amount=2000");
    expect(partial.json()).toMatchObject({ object: "transfer_reversal", amount: 2000, transfer: transfer.id, currency: "usd" });
    expect(partial.json<{ id: string }>().id).toMatch(/^trr_/);
    const over = await post(`/v1/transfers/${transfer.id}/reversals`, "amount=6000");
    expect(over.statusCode).toBe(400);
    expect(over.json()).toMatchObject({ error: { type: "invalid_request_error", param: "amount" } });
    const rest = await post(`/v1/transfers/${transfer.id}/reversals`, "");
    expect(rest.json()).toMatchObject({ amount: 5000 });
    expect((await get(`/v1/transfers/${transfer.id}`)).json()).toMatchObject({ amount_reversed: 7000, reversed: true, reversals: { total_count: 2 } });
    expect(sandbox.state.availableBalance("usd")).toBe(10_000);
    expect((await post(`/v1/transfers/${transfer.id}/reversals`, "")).statusCode).toBe(400);
  });

  it("answers balance_insufficient when the available balance is short, and debits nothing", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(500, "usd");
    sandbox.state.drain("usd");
    sandbox.state.topUp(499, "usd");
    const short = await post("/v1/transfers", `amount=500&currency=usd&destination=${destination}`);
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ error: { type: "invalid_request_error", code: "balance_insufficient" } });
    expect(sandbox.state.availableBalance("usd")).toBe(499);
    expect(sandbox.state.transfers.size).toBe(0);
  });

  it("refuses a destination that does not exist or whose transfers capability is not active", async () => {
    sandbox.state.topUp(1000, "usd");
    const unknown = await post("/v1/transfers", "amount=100&currency=usd&destination=acct_nobody");
    expect(unknown.json()).toMatchObject({ error: { code: "resource_missing", param: "destination" } });
    const pending = (await post("/v1/accounts", "type=express&capabilities[transfers][requested]=true")).json<{ id: string }>();
    const inactive = await post("/v1/transfers", `amount=100&currency=usd&destination=${pending.id}`);
    expect(inactive.statusCode).toBe(400);
    expect(inactive.json()).toMatchObject({ error: { param: "destination" } });
  });
});

describe("idempotency", () => {
  it("replays the saved answer with Idempotent-Replayed, and creates one transfer", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    const form = `amount=400&currency=usd&destination=${destination}&metadata[payout]=po_9`;
    const first = await post("/v1/transfers", form, { "idempotency-key": "payout-po_9" });
    const second = await post("/v1/transfers", form, { "idempotency-key": "payout-po_9" });
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.json()).toEqual(first.json());
    expect(second.headers["request-id"]).not.toBe(first.headers["request-id"]);
    expect(sandbox.state.transfers.size).toBe(1);
    expect(sandbox.state.availableBalance("usd")).toBe(600);
  });

  it("replays an execution error too, but does not save a validation failure", async () => {
    const destination = await onboardedAccount();
    const short = await post("/v1/transfers", `amount=400&currency=usd&destination=${destination}`, { "idempotency-key": "k-short" });
    expect(short.json()).toMatchObject({ error: { code: "balance_insufficient" } });
    sandbox.state.topUp(1000, "usd");
    const replay = await post("/v1/transfers", `amount=400&currency=usd&destination=${destination}`, { "idempotency-key": "k-short" });
    expect(replay.statusCode).toBe(400);
    expect(replay.headers["idempotent-replayed"]).toBe("true");

    const invalid = await post("/v1/transfers", `amount=-1&currency=usd&destination=${destination}`, { "idempotency-key": "k-invalid" });
    expect(invalid.statusCode).toBe(400);
    const fixed = await post("/v1/transfers", `amount=100&currency=usd&destination=${destination}`, { "idempotency-key": "k-invalid" });
    expect(fixed.statusCode).toBe(200);
    expect(fixed.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("refuses the same key with other parameters or on another endpoint, in Stripe's words", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    await post("/v1/transfers", `amount=100&currency=usd&destination=${destination}`, { "idempotency-key": "k1" });
    const changed = await post("/v1/transfers", `amount=101&currency=usd&destination=${destination}`, { "idempotency-key": "k1" });
    expect(changed.statusCode).toBe(400);
    expect(changed.json()).toEqual({
      error: {
        type: "idempotency_error",
        message:
          "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k1' if you meant to execute a different request.",
      },
    });
    const elsewhere = await post("/v1/accounts", "type=express", { "idempotency-key": "k1" });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json<{ error: { message: string } }>().error.message).toContain("('/v1/transfers' vs '/v1/accounts')");
    expect(sandbox.state.transfers.size).toBe(1);
  });

  it("answers 409 idempotency_key_in_use while the first request with the key is running", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    const hold = sandbox.state.holdNext("/v1/transfers");
    const form = `amount=100&currency=usd&destination=${destination}`;
    const first = post("/v1/transfers", form, { "idempotency-key": "k-busy" });
    await hold.reached;
    const concurrent = await post("/v1/transfers", form, { "idempotency-key": "k-busy" });
    expect(concurrent.statusCode).toBe(409);
    expect(concurrent.json()).toMatchObject({ error: { code: "idempotency_key_in_use" } });
    hold.release();
    expect((await first).statusCode).toBe(200);
    const after = await post("/v1/transfers", form, { "idempotency-key": "k-busy" });
    expect(after.headers["idempotent-replayed"]).toBe("true");
    expect(sandbox.state.transfers.size).toBe(1);
  });

  it("forgets keys after 24 hours of the sandbox clock", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    const form = `amount=100&currency=usd&destination=${destination}`;
    await post("/v1/transfers", form, { "idempotency-key": "k-old" });
    now += KEY_RETENTION_MS - 1;
    expect((await post("/v1/transfers", form, { "idempotency-key": "k-old" })).headers["idempotent-replayed"]).toBe("true");
    now += 1;
    expect((await post("/v1/transfers", form, { "idempotency-key": "k-old" })).headers["idempotent-replayed"]).toBeUndefined();
    expect(sandbox.state.transfers.size).toBe(2);
  });
});

describe("rate limit and faults", () => {
  it("answers 429 rate_limit beyond the limit, until the sandbox clock refills the bucket", async () => {
    sandbox.state.setRateLimit(3);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get("/v1/balance"));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 429]);
    const limited = answers[3];
    expect(limited?.json()).toMatchObject({ error: { type: "invalid_request_error", code: "rate_limit" } });
    expect(limited?.headers["stripe-should-retry"]).toBe("false");
    now += 334;
    expect((await get("/v1/balance")).statusCode).toBe(200);
    expect((await get("/v1/balance")).statusCode).toBe(429);
  });

  it("fails the next N matching requests with a 500 api_error, which is not saved under the key", async () => {
    const destination = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    sandbox.state.failNext(2, { path: "/v1/transfers" });
    expect((await get("/v1/balance")).statusCode).toBe(200);
    const form = `amount=100&currency=usd&destination=${destination}`;
    const failed = await post("/v1/transfers", form, { "idempotency-key": "k-500" });
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toMatchObject({ error: { type: "api_error" } });
    expect((await post("/v1/transfers", form, { "idempotency-key": "k-500" })).statusCode).toBe(500);
    const ok = await post("/v1/transfers", form, { "idempotency-key": "k-500" });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["idempotent-replayed"]).toBeUndefined();
  });
});

describe("webhook deliveries", () => {
  it("records a failed attempt and keeps the event pending", async () => {
    const hooked = await createStripeSandbox({
      secretKey: KEY,
      clock,
      webhookUrl: "http://127.0.0.1:9/stripe/webhook",
      webhookSecret: "whsec_x",
      webhookSender: () => Promise.reject(new Error("connect ECONNREFUSED")),
    });
    try {
      const created = await hooked.app.inject({
        method: "POST",
        url: "/v1/accounts",
        payload: "type=express&capabilities[transfers][requested]=true",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/x-www-form-urlencoded" },
      });
      hooked.state.completeOnboarding(created.json<{ id: string }>().id);
      hooked.state.completeOnboarding(created.json<{ id: string }>().id);
      await hooked.idle();
      // Completing twice changes nothing the second time: account.updated and capability.updated, once.
      expect(hooked.state.eventLog.deliveries.map((entry) => entry.event.type)).toEqual(["account.updated", "capability.updated"]);
      const [delivery] = hooked.state.eventLog.deliveries;
      expect(delivery?.attempts).toEqual([{ at: START / 1000, status: null, error: "connect ECONNREFUSED" }]);
      expect(delivery?.event.pending_webhooks).toBe(1);
    } finally {
      await hooked.app.close();
    }
  });

  it("needs both a webhook URL and a secret, or neither", async () => {
    await expect(createStripeSandbox({ secretKey: KEY, clock, webhookUrl: "http://127.0.0.1:9/x" })).rejects.toThrow(/both/);
  });
});

describe("payouts on connected accounts (Stripe-Account)", () => {
  it("pays out of the connected account's balance, settles in order, and gives the money back when it fails", async () => {
    const account = await onboardedAccount();
    sandbox.state.topUp(5000, "usd");
    await post("/v1/transfers", `amount=3000&currency=usd&destination=${account}`);
    const asAccount = { "stripe-account": account };
    const balance = await sandbox.app.inject({ method: "GET", url: "/v1/balance", headers: { authorization: `Bearer ${KEY}`, ...asAccount } });
    expect(balance.json()).toMatchObject({ available: [{ amount: 3000, currency: "usd" }] });

    const created = await post("/v1/payouts", "amount=1000&currency=usd&metadata[payout]=po_1", asAccount);
    expect(created.statusCode).toBe(200);
    const payout = created.json<{ id: string }>();
    expect(payout).toMatchObject({ object: "payout", status: "pending", amount: 1000, method: "standard", automatic: false });
    expect(payout.id).toMatch(/^po_/);
    expect(sandbox.state.accountBalance(account)).toBe(2000);

    // Without Stripe-Account it is refused: the sandbox models no platform payouts.
    expect((await get(`/v1/payouts/${payout.id}`)).statusCode).toBe(400);
    sandbox.state.settlePayout(account, payout.id, "in_transit");
    sandbox.state.settlePayout(account, payout.id, "paid");
    expect(() => sandbox.state.settlePayout(account, payout.id, "in_transit")).toThrow(/cannot become/);
    // "Some failed payouts may initially show as paid".
    sandbox.state.settlePayout(account, payout.id, "failed");
    const read = await sandbox.app.inject({ method: "GET", url: `/v1/payouts/${payout.id}`, headers: { authorization: `Bearer ${KEY}`, ...asAccount } });
    expect(read.json()).toMatchObject({ status: "failed", failure_code: "account_closed" });
    expect(sandbox.state.accountBalance(account)).toBe(3000);
    expect(sandbox.state.eventLog.events.filter((event) => event.type.startsWith("payout.")).map((event) => [event.type, event.account])).toEqual([
      ["payout.created", account],
      ["payout.updated", account],
      ["payout.updated", account],
      ["payout.paid", account],
      ["payout.updated", account],
      ["payout.failed", account],
    ]);
  });

  it("refuses payouts beyond the account's balance, before onboarding, without the header, or for an unknown account", async () => {
    const account = await onboardedAccount();
    const short = await post("/v1/payouts", "amount=1&currency=usd", { "stripe-account": account });
    expect(short.json()).toMatchObject({ error: { code: "balance_insufficient" } });
    const fresh = (await post("/v1/accounts", "type=express&capabilities[transfers][requested]=true")).json<{ id: string }>();
    expect((await post("/v1/payouts", "amount=1&currency=usd", { "stripe-account": fresh.id })).json()).toMatchObject({ error: { code: "payouts_not_allowed" } });
    expect((await post("/v1/payouts", "amount=1&currency=usd")).statusCode).toBe(400);
    expect((await post("/v1/payouts", "amount=1&currency=usd", { "stripe-account": "acct_nobody" })).statusCode).toBe(403);
    expect((await post("/v1/transfers", `amount=1&currency=usd&destination=${account}`, { "stripe-account": account })).statusCode).toBe(400);
  });

  it("keeps idempotency keys per account", async () => {
    const one = await onboardedAccount();
    const two = await onboardedAccount();
    sandbox.state.topUp(1000, "usd");
    await post("/v1/transfers", `amount=100&currency=usd&destination=${one}`);
    await post("/v1/transfers", `amount=100&currency=usd&destination=${two}`);
    const first = await post("/v1/payouts", "amount=50&currency=usd", { "stripe-account": one, "idempotency-key": "same" });
    const second = await post("/v1/payouts", "amount=50&currency=usd", { "stripe-account": two, "idempotency-key": "same" });
    expect(second.headers["idempotent-replayed"]).toBeUndefined();
    expect(second.json<{ id: string }>().id).not.toBe(first.json<{ id: string }>().id);
  });
});
