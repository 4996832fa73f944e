/**
 * POST /stripe/webhook: signature over the raw body (any configured secret,
 * for a roll), one receipt per event id, 200 for everything verified, and
 * account state that never moves back when events arrive twice or late.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { stripeSignatureHeader } from "../../src/sandbox/stripe/webhooks.js";
import { makeExpert, makeShop } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

// The sandbox signs with the test config's secret (whsec_expertline); we are mid-roll to a new one, listed first.
const NEW_SECRET = "whsec_rolledsecret";
const OLD_SECRET = "whsec_expertline";
const ctx = useTelephonyContext({ STRIPE_WEBHOOK_SECRET: `${NEW_SECRET},${OLD_SECRET}` });

let counter = 0;
const now = () => Math.floor(Date.now() / 1000);

function event(type: string, object: Record<string, unknown>, fields: { created?: number; account?: string; id?: string } = {}) {
  counter += 1;
  return {
    id: fields.id ?? `evt_test${Date.now()}x${counter}`,
    object: "event",
    api_version: "2023-08-16",
    created: fields.created ?? now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: null,
    type,
    ...(fields.account ? { account: fields.account } : {}),
  };
}

function accountObject(id: string, state: { payouts: boolean; due?: string[]; reason?: string | null }) {
  return {
    id,
    object: "account",
    payouts_enabled: state.payouts,
    details_submitted: state.payouts,
    charges_enabled: false,
    requirements: { currently_due: state.due ?? [], past_due: [], eventually_due: [], disabled_reason: state.reason ?? null },
    metadata: {},
  };
}

async function post(body: string, signature: string | null) {
  return ctx().app.inject({
    method: "POST",
    url: "/stripe/webhook",
    headers: { "content-type": "application/json; charset=utf-8", ...(signature === null ? {} : { "stripe-signature": signature }) },
    payload: body,
  });
}

/** Posts an event signed as Stripe signs (pretty-printed: the raw bytes are what is signed), then lets the job run. */
async function deliver(payload: object, secret = OLD_SECRET) {
  const body = JSON.stringify(payload, null, 2);
  const response = await post(body, stripeSignatureHeader(secret, body, now()));
  await ctx().settle();
  return response;
}

async function recorded(eventId: string) {
  const { prisma } = ctx().deps;
  const [receipts, jobs] = await Promise.all([
    prisma.webhookReceipt.count({ where: { provider: "stripe", dedupeKey: eventId } }),
    prisma.outboxEvent.count({ where: { jobId: `stripe-event-${eventId}` } }),
  ]);
  return { receipts, jobs };
}

let expertId: string;
const accountId = "acct_webhooktest0001";

beforeAll(async () => {
  const { app, deps, settle } = ctx();
  const shop = await makeShop(app);
  const expert = await makeExpert(app, shop);
  await settle();
  expertId = expert.id;
  await deps.prisma.expert.update({ where: { id: expertId }, data: { stripeAccountId: accountId } });
});

async function expertState() {
  return ctx().deps.prisma.expert.findUniqueOrThrow({
    where: { id: expertId },
    select: { payoutsEnabled: true, stripeDetailsSubmitted: true, stripeDisabledReason: true, stripeRequirementsDue: true, stripeAccountSyncedAt: true },
  });
}

describe("signature", () => {
  it("a forged, missing or stale signature is a 400 problem, and nothing is recorded", async () => {
    const payload = event("account.updated", accountObject(accountId, { payouts: true }), { account: accountId });
    const body = JSON.stringify(payload);
    const cases = [
      ["forged", stripeSignatureHeader("whsec_notours", body, now())],
      ["missing", null],
      ["garbage", "nonsense"],
      ["too old", stripeSignatureHeader(OLD_SECRET, body, now() - 600)],
      ["other body", stripeSignatureHeader(OLD_SECRET, body.replace('"payouts_enabled":true', '"payouts_enabled":false'), now())],
    ] as const;
    for (const [name, signature] of cases) {
      const response = await post(body, signature);
      expect(response.statusCode, name).toBe(400);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 400, code: "invalid-signature" });
    }
    await ctx().settle();
    expect(await recorded(payload.id)).toEqual({ receipts: 0, jobs: 0 });
    expect((await expertState()).payoutsEnabled).toBe(false);
  });

  it("while a secret is rolled, an event signed with either secret is accepted (and a header with both v1s)", async () => {
    const old = await deliver(event("balance.available", { object: "balance" }), OLD_SECRET);
    expect(old.statusCode, old.body).toBe(200);
    const fresh = await deliver(event("balance.available", { object: "balance" }), NEW_SECRET);
    expect(fresh.statusCode, fresh.body).toBe(200);
    const payload = event("balance.available", { object: "balance" });
    const body = JSON.stringify(payload);
    const t = now();
    const both = `${stripeSignatureHeader("whsec_notours", body, t)},v1=${stripeSignatureHeader(NEW_SECRET, body, t).split("v1=")[1]}`;
    expect((await post(body, both)).statusCode).toBe(200);
  });

  it("the sandbox's own signed deliveries are accepted", async () => {
    const { stripe, settle } = ctx();
    const account = await ctx().deps.stripe.accounts.create({ controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } } });
    stripe.state.completeOnboarding(account.id);
    await settle();
    const delivery = stripe.state.eventLog.deliveries.find((each) => each.event.account === account.id);
    expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([200]);
    // No expert holds this account: acknowledged and ignored.
    expect(await recorded(delivery?.event.id ?? "")).toEqual({ receipts: 1, jobs: 1 });
  });
});

describe("recording and answering", () => {
  it("a type we do not handle is answered 200 and recorded once", async () => {
    const payload = event("customer.created", { id: "cus_1", object: "customer" });
    const response = await deliver(payload);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true, duplicate: false });
    expect(await recorded(payload.id)).toEqual({ receipts: 1, jobs: 1 });
  });

  it("a duplicate event id is acknowledged and ignored", async () => {
    const payload = event("account.updated", accountObject(accountId, { payouts: false, due: ["external_account"], reason: "requirements.past_due" }), {
      account: accountId,
      created: now() - 3600,
    });
    expect((await deliver(payload)).json()).toEqual({ received: true, duplicate: false });
    const again = await deliver(payload);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ received: true, duplicate: true });
    expect(await recorded(payload.id)).toEqual({ receipts: 1, jobs: 1 });
    const job = await ctx().deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId: `stripe-event-${payload.id}` } });
    expect(job.payload).toEqual({ eventId: payload.id, type: "account.updated", account: accountId, created: payload.created, object: payload.data.object });
  });

  it("an account.updated's personal data (email, phones, person, bank accounts) is not stored: only the facts the handlers read, and the handler works", async () => {
    const { deps } = ctx();
    const shop = await makeShop(ctx().app);
    const other = await makeExpert(ctx().app, shop);
    await ctx().settle();
    const account = "acct_personaldata0001";
    await deps.prisma.expert.update({ where: { id: other.id }, data: { stripeAccountId: account } });
    const object = {
      ...accountObject(account, { payouts: true }),
      email: "dan.brewer@example.com",
      business_profile: { name: "Dan's Brewing", support_phone: "+14155550111", support_email: "help@dan.example" },
      individual: { first_name: "Dan", last_name: "Brewer", phone: "+14155550122", email: "dan.brewer@example.com", address: { line1: "1 Mash Tun Way", postal_code: "94110" } },
      external_accounts: {
        object: "list",
        data: [{ id: "ba_secret01", object: "bank_account", account_holder_name: "Dan Brewer", last4: "6789", routing_number: "110000000", fingerprint: "fpSecret" }],
      },
      tos_acceptance: { ip: "203.0.113.9", date: now() },
      capabilities: { transfers: "active", card_payments: "inactive" },
      metadata: { expertId: other.id, note: "call me on +14155550133" },
      requirements: { currently_due: [], past_due: [], eventually_due: [], disabled_reason: null, errors: [{ code: "invalid_address_zip", reason: "ZIP 94110 ...", requirement: "individual.address.postal_code" }] },
    };
    const payload = event("account.updated", object, { account });
    expect((await deliver(payload)).statusCode).toBe(200);

    const row = await deps.prisma.outboxEvent.findUniqueOrThrow({ where: { jobId: `stripe-event-${payload.id}` } });
    const stored = JSON.stringify(row.payload);
    for (const secret of ["dan.brewer@example.com", "help@dan.example", "+1415555", "Brewer", "Mash Tun", "94110", "ba_secret01", "6789", "110000000", "fpSecret", "203.0.113.9"]) {
      expect(stored, secret).not.toContain(secret);
    }
    for (const field of ["email", "business_profile", "individual", "external_accounts", "tos_acceptance"]) expect(stored).not.toContain(`"${field}"`);
    expect(row.payload).toEqual({
      eventId: payload.id,
      type: "account.updated",
      account,
      created: payload.created,
      object: {
        id: account,
        object: "account",
        payouts_enabled: true,
        details_submitted: true,
        charges_enabled: false,
        capabilities: { transfers: "active" },
        metadata: { expertId: other.id },
        requirements: { currently_due: [], past_due: [], eventually_due: [], disabled_reason: null, errors: [{ code: "invalid_address_zip", requirement: "individual.address.postal_code" }] },
      },
    });
    // The handler read what it needs from the facts.
    const expert = await deps.prisma.expert.findUniqueOrThrow({ where: { id: other.id } });
    expect(expert).toMatchObject({ payoutsEnabled: true, stripeDetailsSubmitted: true, stripeRequirementsDue: [] });
  });

  it("a verified body that is not an event is a 400 with field detail", async () => {
    const body = JSON.stringify({ id: "not-an-event", type: "x" });
    const response = await post(body, stripeSignatureHeader(OLD_SECRET, body, now()));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: "invalid-event" });
    expect(response.json().errors.map((error: { path: string }) => error.path)).toContain("body.id");
  });
});

describe("account state from events", () => {
  it("account.updated applies the account's state; duplicates and older events never move it back; a newer one does", async () => {
    const t = now();
    await deliver(event("account.updated", accountObject(accountId, { payouts: true }), { account: accountId, created: t }));
    expect(await expertState()).toMatchObject({ payoutsEnabled: true, stripeDetailsSubmitted: true, stripeDisabledReason: null, stripeRequirementsDue: [] });
    expect((await expertState()).stripeAccountSyncedAt?.getTime()).toBe(t * 1000);

    // Older (delivered late): ignored.
    await deliver(event("account.updated", accountObject(accountId, { payouts: false, due: ["external_account"], reason: "requirements.past_due" }), { account: accountId, created: t - 60 }));
    expect(await expertState()).toMatchObject({ payoutsEnabled: true, stripeRequirementsDue: [] });

    // Newer: Stripe turned payouts off (new requirements).
    await deliver(event("account.updated", accountObject(accountId, { payouts: false, due: ["individual.verification.document"], reason: "requirements.past_due" }), { account: accountId, created: t + 60 }));
    expect(await expertState()).toMatchObject({
      payoutsEnabled: false,
      stripeDisabledReason: "requirements.past_due",
      stripeRequirementsDue: ["individual.verification.document"],
    });
  });

  it("capability.updated re-reads the account and applies it", async () => {
    const { deps, stripe, settle } = ctx();
    const shop = await makeShop(ctx().app);
    const other = await makeExpert(ctx().app, shop);
    await settle();
    const account = await deps.stripe.accounts.create({
      controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } },
      capabilities: { transfers: { requested: true } },
    });
    await deps.prisma.expert.update({ where: { id: other.id }, data: { stripeAccountId: account.id } });
    // Onboarded at Stripe, without an account.updated reaching us.
    const record = stripe.state.accounts.get(account.id);
    if (!record) throw new Error("no sandbox account");
    record.onboarded = true;
    const response = await deliver(event("capability.updated", { id: "transfers", object: "capability", account: account.id, status: "active", requested: true }, { account: account.id }));
    expect(response.statusCode).toBe(200);
    const row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: other.id } });
    expect(row).toMatchObject({ payoutsEnabled: true, stripeDetailsSubmitted: true });
  });

  it("an account.updated for an account nobody holds changes nothing", async () => {
    const before = await ctx().deps.prisma.expert.findMany({ select: { id: true, payoutsEnabled: true, stripeAccountSyncedAt: true }, orderBy: { id: "asc" } });
    const response = await deliver(event("account.updated", accountObject("acct_nobodyholdsthis", { payouts: true }), { account: "acct_nobodyholdsthis" }));
    expect(response.statusCode).toBe(200);
    const after = await ctx().deps.prisma.expert.findMany({ select: { id: true, payoutsEnabled: true, stripeAccountSyncedAt: true }, orderBy: { id: "asc" } });
    expect(after).toEqual(before);
  });

  it("every request sent to Stripe matched its official spec", () => {
    expect(ctx().stripe.state.contractViolations).toEqual([]);
  });
});
