/**
 * Refunds and what Stripe says afterwards: a refund is netted while the
 * earning is unpaid, joins a payout under review, or is clawed back from a
 * paid transfer; Stripe's events settle payouts in any order, once.
 */
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";
import { endSession } from "../../src/modules/sessions/end.js";
import { makeShop } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { acceptQuestion, makeSessionWorld, type SessionWorld } from "../sessions/session-world.js";
import { adminHeaders, answeredSession, decide, onboardExpert, runPayoutsAsAdmin, transfersOf } from "./payments-world.js";

const ctx = useTelephonyContext({ PAYOUT_REVIEW_WINDOW_HOURS: "0" });
let world: SessionWorld;
let accountId: string;

beforeAll(async () => {
  world = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Dan Brewer", maxConcurrentSessions: 5 }] });
  accountId = await onboardExpert(ctx(), world.experts[0]!.id);
  ctx().stripe.state.topUp(10_000_000, "usd");
  // Earlier sessions of the set-up, if any, are out of the way.
  await runPayoutsAsAdmin(ctx());
});

function refund(sessionId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return ctx().app.inject({ method: "POST", url: `/v1/sessions/${sessionId}/refund`, headers: { ...world.shop.headers, ...headers }, payload: body });
}

async function ledgerOf(sessionId: string) {
  const entries = await ctx().deps.prisma.ledgerEntry.findMany({ where: { sessionId }, orderBy: { id: "asc" } });
  const sum = (kinds: string[]) => entries.filter((entry) => kinds.includes(entry.kind)).reduce((total, entry) => total + entry.amountMinor, 0);
  return { charge: sum(["shop_charge", "charge_refund"]), earning: sum(["session_earning", "earning_reversal"]), fee: sum(["platform_fee", "fee_reversal"]), entries };
}

describe("refunding a session", () => {
  it("before any payout: the shares are reversed in the ledger, and the next payout pays only what is left", async () => {
    const session = await answeredSession(ctx(), world);
    const response = await refund(session.sessionId, { amountMinor: 500, reason: "partly answered" });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ amountMinor: 500, currency: "USD", earningReversedMinor: 400, feeReversedMinor: 100, earningRecovery: "ledger", remainingMinor: 1000 });
    const ledger = await ledgerOf(session.sessionId);
    expect([ledger.charge, ledger.earning, ledger.fee]).toEqual([1000, 800, 200]);
    const refundEntries = ledger.entries.filter((entry) => entry.refundId !== null);
    expect(refundEntries.map((entry) => [entry.kind, entry.amountMinor])).toEqual([["charge_refund", -500], ["earning_reversal", -400], ["fee_reversal", -100]]);
    expect(refundEntries.every((entry) => entry.reversesEntryId !== null)).toBe(true);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    expect(await ctx().deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! } })).toMatchObject({ amountMinor: 800, sessionCount: 1 });
    await decide(ctx(), payoutId!, "reject", { note: "test tidy-up", earnings: "release" });
  });

  it("in full before any payout: nothing is left to pay, and a second refund is a 409", async () => {
    const session = await answeredSession(ctx(), world);
    expect((await refund(session.sessionId)).json()).toMatchObject({ amountMinor: 1500, earningReversedMinor: 1200, feeReversedMinor: 300, remainingMinor: 0 });
    const ids = await runPayoutsAsAdmin(ctx());
    const mine = await ctx().deps.prisma.payoutItem.count({ where: { payoutId: { in: ids }, entry: { sessionId: session.sessionId } } });
    expect(mine).toBe(0);
    const again = await refund(session.sessionId, { amountMinor: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "already-refunded" });
    for (const id of ids) await decide(ctx(), id, "reject", { note: "test tidy-up", earnings: "release" });
  });

  it("while its payout is under review: the reversal joins the payout and lowers it", async () => {
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    // The payout also carries earnings the earlier tests released back.
    const before = await ctx().deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! } });
    expect((await refund(session.sessionId, { amountMinor: 300 })).json()).toMatchObject({ earningRecovery: "ledger", earningReversedMinor: 240 });
    const detail = (await ctx().app.inject({ method: "GET", url: `/v1/admin/payouts/${payoutId}`, headers: adminHeaders })).json<{
      amountMinor: number;
      ledger: { kind: string; amountMinor: number; sessionId: string }[];
    }>();
    expect(detail.amountMinor).toBe(before.amountMinor - 240);
    expect(detail.ledger.filter((line) => line.sessionId === session.sessionId).map((line) => [line.kind, line.amountMinor])).toEqual([
      ["session_earning", 1200],
      ["earning_reversal", -240],
    ]);
    expect(detail.ledger.reduce((sum, line) => sum + line.amountMinor, 0)).toBe(detail.amountMinor);
    await decide(ctx(), payoutId!, "approve");
    await ctx().settle();
    expect(transfersOf(ctx(), payoutId!).map((transfer) => transfer.amount)).toEqual([before.amountMinor - 240]);
  });

  it("after it was paid: the platform claws the share back with a transfer reversal, and the admin sees it", async () => {
    const { settle, stripe } = ctx();
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    await decide(ctx(), payoutId!, "approve");
    await settle();
    const response = await refund(session.sessionId, { amountMinor: 1000, reason: "wrong advice" });
    expect(response.json()).toMatchObject({ earningRecovery: "clawback", earningReversedMinor: 800, clawbackStatus: "pending" });
    await settle();
    const [transfer] = transfersOf(ctx(), payoutId!);
    expect(transfer!.reversals.map((reversal) => reversal.amount)).toEqual([800]);
    expect(stripe.state.requests.some((request) => request.path.endsWith("/reversals") && request.idempotencyKey === `refund-${response.json<{ id: string }>().id}`)).toBe(true);
    const detail = (await ctx().app.inject({ method: "GET", url: `/v1/admin/payouts/${payoutId}`, headers: adminHeaders })).json<{
      status: string;
      reversedMinor: number;
      clawbacks: { amountMinor: number; status: string; stripeReversalId: string }[];
    }>();
    expect(detail).toMatchObject({ status: "transferred", reversedMinor: 800 });
    expect(detail.clawbacks).toEqual([expect.objectContaining({ amountMinor: 800, status: "done", stripeReversalId: expect.stringMatching(/^trr_/) })]);
    // Paid earnings are never gathered again, and the reversal is not netted into a later payout.
    expect(await runPayoutsAsAdmin(ctx())).toEqual([]);
  });

  it("replays a retried request (same Idempotency-Key) instead of refunding twice", async () => {
    const session = await answeredSession(ctx(), world);
    const key = { "idempotency-key": randomUUID() };
    const first = await refund(session.sessionId, { amountMinor: 100 }, key);
    const second = await refund(session.sessionId, { amountMinor: 100 }, key);
    expect(second.statusCode).toBe(201);
    expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    expect(await ctx().deps.prisma.refund.count({ where: { sessionId: session.sessionId } })).toBe(1);
  });

  it("two full refunds at once: one refunds, the other is told it is done", async () => {
    const session = await answeredSession(ctx(), world);
    const answers = await Promise.all([refund(session.sessionId), refund(session.sessionId)]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409]);
    expect((await ledgerOf(session.sessionId)).charge).toBe(0);
  });

  it("refuses bad amounts, unpriced and foreign sessions with a problem that names the field", async () => {
    const { app } = ctx();
    const session = await answeredSession(ctx(), world);
    for (const [body, field] of [
      [{ amountMinor: 1.5 }, "body.amountMinor"],
      [{ amountMinor: 0 }, "body.amountMinor"],
      [{ amountMinor: "100" }, "body.amountMinor"],
      [{ reason: "a\u0000b" }, "body.reason"],
      [{ surprise: true }, "body"],
    ] as const) {
      const response = await refund(session.sessionId, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(response.json()), JSON.stringify(body)).toContain(field);
    }
    const tooMuch = await refund(session.sessionId, { amountMinor: 1501 });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json()).toMatchObject({ code: "refund-too-large", errors: [{ path: "body.amountMinor" }] });
    const unanswered = await answeredSession(ctx(), world, { answered: false });
    expect((await refund(unanswered.sessionId)).json()).toMatchObject({ code: "nothing-to-refund" });
    const other = await makeShop(app);
    const foreign = await app.inject({ method: "POST", url: `/v1/sessions/${session.sessionId}/refund`, headers: other.headers, payload: {} });
    expect(foreign.statusCode).toBe(404);
    expect((await refund(randomUUID())).statusCode).toBe(404);
    expect((await app.inject({ method: "POST", url: `/v1/sessions/${session.sessionId}/refund`, headers: adminHeaders, payload: {} })).statusCode).toBe(401);
    expect((await ledgerOf(session.sessionId)).charge).toBe(1500);
  });
});

describe("per-minute pricing of a call", () => {
  it("bills every started minute of the bridged time, at least the minimum", async () => {
    const { deps, settle } = ctx();
    await deps.prisma.pool.update({ where: { id: world.pool.id }, data: { pricingMode: "per_minute", amountMinor: 300, minimumMinor: 500 } });
    try {
      const long = await acceptQuestion(ctx(), world);
      const short = await acceptQuestion(ctx(), world);
      await settle();
      for (const [session, seconds] of [[long, 95], [short, 20]] as const) {
        await deps.prisma.session.update({ where: { id: session.sessionId }, data: { mode: "voice", bridgedSeconds: seconds } });
        await endSession(deps, { sessionId: session.sessionId, endedBy: "customer", reason: "hangup" });
      }
      const charges = await deps.prisma.ledgerEntry.findMany({ where: { sessionId: { in: [long.sessionId, short.sessionId] }, kind: "shop_charge" } });
      const bySession = Object.fromEntries(charges.map((entry) => [entry.sessionId, [entry.amountMinor, entry.billableMinutes]]));
      expect(bySession).toEqual({ [long.sessionId]: [600, 2], [short.sessionId]: [500, 1] });
    } finally {
      await deps.prisma.pool.update({ where: { id: world.pool.id }, data: { pricingMode: "per_session", amountMinor: 1500, minimumMinor: 0 } });
    }
  });
});

describe("Stripe's events about payouts", () => {
  async function signedEvent(type: string, object: Record<string, unknown>, created: number) {
    const event = { id: `evt_${randomUUID().replaceAll("-", "")}`, object: "event", type, account: accountId, created, api_version: "2023-08-16", livemode: false, pending_webhooks: 1, request: null, data: { object } };
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: ctx().deps.config.STRIPE_WEBHOOK_SECRET[0]!, timestamp: Math.floor(Date.now() / 1000) });
    return { event, send: () => ctx().app.inject({ method: "POST", url: "/stripe/webhook", headers: { "content-type": "application/json", "stripe-signature": header }, payload }) };
  }

  it("settle each payout once, in any order, and never move a status back", async () => {
    const { deps, settle } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    await decide(ctx(), payoutId!, "approve");
    await settle();
    const later = Math.floor(Date.now() / 1000) + 60;
    const paid = await signedEvent("payout.paid", { id: "po_bank1", object: "payout", status: "paid", created: later - 5, automatic: true }, later - 5);
    const failed = await signedEvent("payout.failed", { id: "po_bank1", object: "payout", status: "failed", created: later - 5, failure_code: "account_closed", failure_message: "The bank account has been closed" }, later);
    // The failure (newer) arrives first, then the older "paid", then the failure again.
    expect((await failed.send()).statusCode).toBe(200);
    await settle();
    expect((await paid.send()).statusCode).toBe(200);
    const replay = await failed.send();
    expect(replay.statusCode).toBe(200);
    await settle();
    const row = await deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! }, include: { decisions: true } });
    expect(row).toMatchObject({ status: "failed", stripePayoutId: "po_bank1", failureReason: "account_closed: The bank account has been closed" });
    expect(row.decisions.filter((decision) => decision.actor === "system" && decision.toStatus === "failed")).toHaveLength(1);
    expect(row.decisions.some((decision) => decision.toStatus === "paid")).toBe(false);
  });

  it("tell only the payout's own shop (payout.* webhooks)", async () => {
    const { app, deps, settle } = ctx();
    const other = await makeShop(app);
    for (const shop of [world.shop, other]) {
      const created = await app.inject({ method: "POST", url: "/v1/webhook-endpoints", headers: shop.headers, payload: { url: "http://127.0.0.1:9/hook", events: ["*"] } });
      expect(created.statusCode, created.body).toBe(201);
    }
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    await decide(ctx(), payoutId!, "approve");
    await settle();
    const events = await deps.prisma.webhookEvent.findMany({ where: { type: { startsWith: "payout." } }, orderBy: { createdAt: "asc" } });
    const mine = events.filter((event) => (event.data as { payoutId?: string }).payoutId === payoutId);
    expect(mine.map((event) => event.type)).toEqual(["payout.created", "payout.approved", "payout.transferred"]);
    expect(mine.every((event) => event.shopId === world.shop.id)).toBe(true);
    expect(events.some((event) => event.shopId === other.id)).toBe(false);
    expect(JSON.stringify(mine)).not.toContain(world.experts[0]!.phone);
  });
});
