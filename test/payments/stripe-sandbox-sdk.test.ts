/**
 * The official stripe SDK against the Stripe sandbox over real HTTP on
 * 127.0.0.1: what the product will see (error classes, retries, replay
 * headers), not just what the sandbox answers to inject().
 */
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createStripeSandbox, type StripeSandbox } from "../../src/sandbox/stripe/server.js";

const KEY = "sk_test_sdk_0123456789abcdefghij";
const clock = { now: () => new Date("2026-03-02T10:00:00Z") };
let sandbox: StripeSandbox;
let port: number;

function sdk(maxNetworkRetries = 0): Stripe {
  return new Stripe(KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries });
}

beforeAll(async () => {
  sandbox = await createStripeSandbox({ secretKey: KEY, clock });
  await sandbox.app.listen({ host: "127.0.0.1", port: 0 });
  port = (sandbox.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  expect(sandbox.state.contractViolations).toEqual([]);
  await sandbox.app.close();
});
beforeEach(() => {
  sandbox.state.setRateLimit(null);
  sandbox.state.faults = [];
  sandbox.state.drain("usd");
});

async function onboardedExpert(stripe: Stripe): Promise<string> {
  const account = await stripe.accounts.create({
    controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
    capabilities: { transfers: { requested: true } },
  });
  sandbox.state.completeOnboarding(account.id);
  return account.id;
}

describe("the stripe SDK against the sandbox", () => {
  it("creates an Express account, onboards it through the link, transfers and reverses against the balance", async () => {
    const stripe = sdk();
    const account = await stripe.accounts.create({
      controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
      capabilities: { transfers: { requested: true } },
      metadata: { expert: "ex_dan" },
    });
    expect(account.capabilities?.transfers).toBe("inactive");
    expect(account.payouts_enabled).toBe(false);
    expect(account.requirements?.currently_due?.length).toBeGreaterThan(0);
    expect(account.lastResponse.requestId).toMatch(/^req_/);

    await expect(
      stripe.accountLinks.create({ account: account.id, type: "account_update", refresh_url: "http://127.0.0.1:9/r", return_url: "http://127.0.0.1:9/ok" }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const link = await stripe.accountLinks.create({ account: account.id, type: "account_onboarding", refresh_url: "http://127.0.0.1:9/r", return_url: "http://127.0.0.1:9/ok" });
    expect(link.expires_at - link.created).toBe(300);

    const page = await fetch(link.url);
    expect(page.status).toBe(200);
    const submitted = await fetch(link.url, { method: "POST", body: new URLSearchParams({ action: "complete" }), redirect: "manual" });
    expect(submitted.status).toBe(303);
    expect(submitted.headers.get("location")).toBe("http://127.0.0.1:9/ok");

    const onboarded = await stripe.accounts.retrieve(account.id);
    expect(onboarded.capabilities?.transfers).toBe("active");
    expect(onboarded.payouts_enabled && onboarded.details_submitted).toBe(true);

    sandbox.state.topUp(9000, "usd");
    const transfer = await stripe.transfers.create({ amount: 7000, currency: "usd", destination: account.id, transfer_group: "po_1", metadata: { payout: "po_1" } });
    expect(transfer).toMatchObject({ amount: 7000, destination: account.id, transfer_group: "po_1", reversed: false });
    const reversal = await stripe.transfers.createReversal(transfer.id, { amount: 1500 });
    expect(reversal).toMatchObject({ object: "transfer_reversal", amount: 1500, transfer: transfer.id });
    const after = await stripe.transfers.retrieve(transfer.id);
    expect(after.amount_reversed).toBe(1500);
    const balance = await stripe.balance.retrieve();
    expect(balance.available).toEqual([expect.objectContaining({ currency: "usd", amount: 3500 })]);
    // Everything the SDK sent fits Stripe's spec; `controller` is newer than the 2023 spec, so only reported.
    expect(sandbox.state.contractViolations).toEqual([]);
    expect(sandbox.state.contractUnknownParams.map((entry) => entry.path)).toContain("/v1/accounts");
  });

  it("raises balance_insufficient as an invalid request", async () => {
    const stripe = sdk();
    const destination = await onboardedExpert(stripe);
    sandbox.state.topUp(100, "usd");
    const error = await stripe.transfers.create({ amount: 101, currency: "usd", destination }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ code: "balance_insufficient", statusCode: 400 });
  });

  it("replays a keyed request with Idempotent-Replayed and refuses the key with other parameters", async () => {
    const stripe = sdk();
    const destination = await onboardedExpert(stripe);
    sandbox.state.topUp(1000, "usd");
    const before = sandbox.state.transfers.size;
    const first = await stripe.transfers.create({ amount: 300, currency: "usd", destination }, { idempotencyKey: "payout-po_42" });
    const again = await stripe.transfers.create({ amount: 300, currency: "usd", destination }, { idempotencyKey: "payout-po_42" });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(first.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
    expect(sandbox.state.transfers.size).toBe(before + 1);

    const changed = await stripe.transfers.create({ amount: 301, currency: "usd", destination }, { idempotencyKey: "payout-po_42" }).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(changed).toMatchObject({ statusCode: 400, type: "StripeIdempotencyError" });
  });

  it("answers 409 to a concurrent request with a key in use", async () => {
    const stripe = sdk();
    const destination = await onboardedExpert(stripe);
    sandbox.state.topUp(1000, "usd");
    const hold = sandbox.state.holdNext("/v1/transfers");
    const first = stripe.transfers.create({ amount: 100, currency: "usd", destination }, { idempotencyKey: "busy" });
    await hold.reached;
    const concurrent = await stripe.transfers.create({ amount: 100, currency: "usd", destination }, { idempotencyKey: "busy" }).catch((e: unknown) => e);
    expect(concurrent).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(concurrent).toMatchObject({ statusCode: 409, code: "idempotency_key_in_use" });
    hold.release();
    expect((await first).amount).toBe(100);
  });

  it("answers 429 rate_limit beyond the limit, which the SDK does not retry (Stripe-Should-Retry: false)", async () => {
    const stripe = sdk(2);
    sandbox.state.setRateLimit(1);
    await stripe.balance.retrieve();
    const seen = sandbox.state.requests.length;
    const error = await stripe.balance.retrieve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: "rate_limit" });
    expect(sandbox.state.requests.length).toBe(seen + 1);
  });

  it("retries a 429 lock_timeout (Stripe-Should-Retry: true) with the same idempotency key", async () => {
    const stripe = sdk(1);
    const destination = await onboardedExpert(stripe);
    sandbox.state.topUp(1000, "usd");
    sandbox.state.lockTimeoutNext(1, "/v1/transfers");
    const seen = sandbox.state.requests.length;
    const transfer = await stripe.transfers.create({ amount: 100, currency: "usd", destination });
    expect(transfer.amount).toBe(100);
    const attempts = sandbox.state.requests.slice(seen);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(attempts[1]?.idempotencyKey).toBe(attempts[0]?.idempotencyKey);
  });

  it("survives a dropped connection after the transfer is created: the SDK's one retry replays it, one transfer exists", async () => {
    const stripe = sdk(0);
    const destination = await onboardedExpert(stripe);
    sandbox.state.topUp(1000, "usd");
    sandbox.state.dropAfterTransferCreated = 1;
    const before = sandbox.state.transfers.size;
    const seen = sandbox.state.requests.length;
    const transfer = await stripe.transfers.create({ amount: 250, currency: "usd", destination, transfer_group: "po_drop" });
    expect(transfer.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(sandbox.state.transfers.size).toBe(before + 1);
    expect(sandbox.state.requests.slice(seen)).toHaveLength(2);
    expect(sandbox.state.events.some((event) => event.kind === "connection-dropped")).toBe(true);
  });

  it("drops the connection without a retry to rely on when the caller sends no key", async () => {
    // Raw HTTP, no Idempotency-Key: the transfer exists and the caller only sees a reset.
    sandbox.state.topUp(1000, "usd");
    const destination = await onboardedExpert(sdk());
    sandbox.state.dropAfterTransferCreated = 1;
    const before = sandbox.state.transfers.size;
    const error = await fetch(`http://127.0.0.1:${port}/v1/transfers`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/x-www-form-urlencoded" },
      body: `amount=10&currency=usd&destination=${destination}`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(sandbox.state.transfers.size).toBe(before + 1);
  });
});

describe("payouts through the SDK's stripeAccount option", () => {
  it("creates and reads a payout on the connected account and its balance", async () => {
    const stripe = sdk();
    const account = await onboardedExpert(stripe);
    sandbox.state.topUp(2000, "usd");
    await stripe.transfers.create({ amount: 2000, currency: "usd", destination: account });
    const payout = await stripe.payouts.create({ amount: 1500, currency: "usd" }, { stripeAccount: account });
    expect(payout).toMatchObject({ object: "payout", status: "pending", amount: 1500 });
    sandbox.state.settlePayout(account, payout.id, "paid");
    expect((await stripe.payouts.retrieve(payout.id, {}, { stripeAccount: account })).status).toBe("paid");
    const balance = await stripe.balance.retrieve({}, { stripeAccount: account });
    expect(balance.available).toEqual([expect.objectContaining({ currency: "usd", amount: 500 })]);
  });
});

describe("events signed as Stripe signs them", () => {
  it("delivers account.updated (Connect, with account), transfer.created and transfer.reversed, verified by the SDK's constructEvent", async () => {
    const received: { body: string; signature: string }[] = [];
    const secret = "whsec_sandbox_test_secret";
    const withHooks = await createStripeSandbox({
      secretKey: KEY,
      clock,
      webhookUrl: "http://127.0.0.1:9/stripe/webhook",
      webhookSecret: secret,
      webhookSender: async ({ body, headers }) => {
        received.push({ body, signature: headers["stripe-signature"] ?? "" });
        return { status: 200 };
      },
    });
    try {
      await withHooks.app.listen({ host: "127.0.0.1", port: 0 });
      const stripe = new Stripe(KEY, { host: "127.0.0.1", port: (withHooks.app.server.address() as AddressInfo).port, protocol: "http", maxNetworkRetries: 0 });
      const account = await stripe.accounts.create({ type: "express", capabilities: { transfers: { requested: true } } });
      withHooks.state.completeOnboarding(account.id);
      withHooks.state.topUp(1000, "usd");
      const transfer = await stripe.transfers.create({ amount: 600, currency: "usd", destination: account.id }, { idempotencyKey: "payout-po_7" });
      await stripe.transfers.createReversal(transfer.id, { amount: 100 });
      await withHooks.idle();

      const receivedAt = clock.now().getTime() / 1000;
      const events = received.map(({ body, signature }) => stripe.webhooks.constructEvent(body, signature, secret, 300, undefined, receivedAt));
      expect(events.map((event) => event.type)).toEqual(["account.updated", "capability.updated", "transfer.created", "transfer.reversed"]);
      const [updated, capability, created, reversed] = events;
      expect(updated).toMatchObject({ account: account.id, request: null, data: { object: { id: account.id, payouts_enabled: true }, previous_attributes: { payouts_enabled: false } } });
      expect(capability).toMatchObject({ account: account.id, data: { object: { object: "capability", id: "transfers", account: account.id, status: "active" }, previous_attributes: { status: "inactive" } } });
      expect(created?.account).toBeUndefined();
      expect(created?.request).toMatchObject({ idempotency_key: "payout-po_7" });
      expect(created?.request?.id).toMatch(/^req_/);
      expect(reversed).toMatchObject({ data: { object: { id: transfer.id, amount_reversed: 100, reversed: false }, previous_attributes: { amount_reversed: 0 } } });
      expect(new Set(events.map((event) => event.id)).size).toBe(4);
      expect(await stripe.events.retrieve(created?.id ?? "")).toMatchObject({ id: created?.id, type: "transfer.created" });
      await expect(stripe.events.retrieve("evt_missing")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
      expect(() => stripe.webhooks.constructEvent(received[0]?.body ?? "", received[0]?.signature ?? "", "whsec_other", 300, undefined, receivedAt)).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
      expect(withHooks.state.contractViolations).toEqual([]);
      expect(withHooks.state.eventLog.deliveries.every((delivery) => delivery.attempts[0]?.status === 200 && delivery.event.pending_webhooks === 0)).toBe(true);
    } finally {
      await withHooks.app.close();
    }
  });
});
