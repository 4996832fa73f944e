/**
 * Money end to end through both sandboxes: a session ends priced, a payout
 * run gathers it for review, the admin decides, the transfer reaches the
 * Stripe sandbox once, and Stripe's signed events settle it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { requeueStuckMoney, STUCK_AFTER_MS, transferPayout, transferIdempotencyKey } from "../../src/modules/payments/payout-transfer.js";
import { invalidRequest } from "../../src/sandbox/stripe/errors.js";
import { endSession } from "../../src/modules/sessions/end.js";
import { makeShop } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { makeSessionWorld, type SessionWorld } from "../sessions/session-world.js";
import { adminHeaders, answeredSession, decide, onboardExpert, runPayoutsAsAdmin, transfersOf } from "./payments-world.js";

const ctx = useTelephonyContext({ PAYOUT_REVIEW_WINDOW_HOURS: "0" });
let world: SessionWorld;
let expert: { id: string; phone: string };
let accountId: string;

beforeAll(async () => {
  world = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Dan Brewer", maxConcurrentSessions: 5 }] });
  expert = world.experts[0]!;
  accountId = await onboardExpert(ctx(), expert.id);
  ctx().stripe.state.topUp(10_000_000, "usd");
});

interface PayoutDetail {
  status: string;
  amountMinor: number;
  stripeTransferId: string | null;
  stripePayoutId: string | null;
  failureReason: string | null;
  sessions: { id: string }[];
  ledger: { kind: string; amountMinor: number }[];
  decisions: { action: string; actor: string; toStatus: string }[];
}

async function payout(id: string) {
  const response = await ctx().app.inject({ method: "GET", url: `/v1/admin/payouts/${id}`, headers: adminHeaders });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<PayoutDetail>();
}

describe("pricing at the end of a session", () => {
  it("posts the shop's charge, the expert's earning and the platform fee once, however often the end is processed", async () => {
    const { deps } = ctx();
    const session = await answeredSession(ctx(), world);
    const entries = await deps.prisma.ledgerEntry.findMany({ where: { sessionId: session.sessionId }, orderBy: { kind: "asc" } });
    expect(entries.map((entry) => [entry.kind, entry.amountMinor, entry.currency])).toEqual([
      ["shop_charge", 1500, "USD"],
      ["session_earning", 1200, "USD"],
      ["platform_fee", 300, "USD"],
    ]);
    expect(await endSession(deps, { sessionId: session.sessionId, endedBy: "customer" })).toBe(false);
    expect(await deps.prisma.ledgerEntry.count({ where: { sessionId: session.sessionId } })).toBe(3);
  });

  it("charges nothing when the expert never answered", async () => {
    const session = await answeredSession(ctx(), world, { answered: false });
    expect(await ctx().deps.prisma.ledgerEntry.count({ where: { sessionId: session.sessionId } })).toBe(0);
  });

  it("refuses to change or delete a ledger entry, even from SQL", async () => {
    const { deps } = ctx();
    const entry = await deps.prisma.ledgerEntry.findFirstOrThrow();
    await expect(deps.prisma.$executeRaw`UPDATE "LedgerEntry" SET "amountMinor" = 1 WHERE "id" = ${entry.id}::uuid`).rejects.toThrow(/immutable/);
    await expect(deps.prisma.$executeRaw`DELETE FROM "LedgerEntry" WHERE "id" = ${entry.id}::uuid`).rejects.toThrow(/immutable/);
  });
});

describe("a payout from review to the bank", () => {
  it("gathers, is approved by a named admin, transfers once with a key from the payout, and is settled by Stripe's events", async () => {
    const { deps, settle, stripe } = ctx();
    await runPayoutsAsAdmin(ctx()); // earlier tests' sessions
    const session = await answeredSession(ctx(), world, { rating: 5 });
    const [payoutId, ...others] = await runPayoutsAsAdmin(ctx());
    expect(others).toEqual([]);
    const gathered = await payout(payoutId!);
    expect(gathered).toMatchObject({ status: "pending_review", amountMinor: 1200, currency: "USD", sessionCount: 1, expertName: "Dan Brewer", payoutsEnabled: true });
    expect(gathered.sessions.map((row) => row.id)).toEqual([session.sessionId]);
    expect(gathered.ledger.map((line) => [line.kind, line.amountMinor])).toEqual([["session_earning", 1200]]);
    // Nothing moves before the decision.
    expect(transfersOf(ctx(), payoutId!)).toEqual([]);
    expect(await runPayoutsAsAdmin(ctx())).toEqual([]);

    const approved = await decide(ctx(), payoutId!, "approve", { note: "looks fine" });
    expect(approved.statusCode, approved.body).toBe(200);
    await settle();
    const [transfer, ...more] = transfersOf(ctx(), payoutId!);
    expect(more).toEqual([]);
    expect(transfer).toMatchObject({ amount: 1200, currency: "usd", destination: accountId, transferGroup: payoutId });
    expect(stripe.state.requests.filter((request) => request.path === "/v1/transfers" && request.method === "POST").at(-1)?.idempotencyKey).toBe(
      transferIdempotencyKey(payoutId!, 0),
    );
    expect(await payout(payoutId!)).toMatchObject({ status: "transferred", stripeTransferId: transfer!.id, reviewedBy: "admin", reviewNote: "looks fine" });

    stripe.state.payOutNow(accountId);
    await settle();
    const paid = await payout(payoutId!);
    expect(paid.status).toBe("paid");
    expect(paid.stripePayoutId).toMatch(/^po_/);
    expect(paid.decisions.map((decision) => [decision.action, decision.actor, decision.toStatus])).toEqual([
      ["approve", "admin", "approved"],
      ["transferred", "system", "transferred"],
      ["bank_payout_paid", "system", "paid"],
    ]);
    expect(stripe.state.contractViolations).toEqual([]);
    void deps;
  });

  it("refuses approval while the expert's payouts are not enabled, and flags it", async () => {
    const { app, deps } = ctx();
    const other = await makeSessionWorld(ctx(), { shopName: "Hop Shop" });
    await answeredSession(ctx(), other);
    const ids = await runPayoutsAsAdmin(ctx());
    const mine = (await deps.prisma.payout.findMany({ where: { id: { in: ids }, expertId: other.experts[0]!.id } }))[0]!;
    expect(mine.riskFlags).toContain("payouts_not_enabled");
    const refused = await decide(ctx(), mine.id, "approve");
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: "payouts-not-enabled" });
    expect(refused.headers["content-type"]).toMatch(/application\/problem\+json/);
    void app;
  });

  it("holds with a note, then approves; a hold or reject without a note is a 400 naming the field", async () => {
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    const bare = await decide(ctx(), payoutId!, "hold", {});
    expect(bare.statusCode).toBe(400);
    expect(JSON.stringify(bare.json())).toContain("note");
    const noEarnings = await decide(ctx(), payoutId!, "reject", { note: "x" });
    expect(noEarnings.statusCode).toBe(400);
    expect((await decide(ctx(), payoutId!, "hold", { note: "checking the short session" })).statusCode).toBe(200);
    expect((await payout(payoutId!)).status).toBe("held");
    expect((await decide(ctx(), payoutId!, "approve")).statusCode).toBe(200);
    await ctx().settle();
    expect((await payout(payoutId!)).status).toBe("transferred");
    expect(transfersOf(ctx(), payoutId!)).toHaveLength(1);
    // Decided once: approving again is a conflict, not a second transfer.
    expect((await decide(ctx(), payoutId!, "approve")).statusCode).toBe(409);
  });

  it("rejects with release: the earnings come back in the next payout, paid once", async () => {
    const { deps } = ctx();
    const session = await answeredSession(ctx(), world);
    const [first] = await runPayoutsAsAdmin(ctx());
    expect((await decide(ctx(), first!, "reject", { note: "wrong currency set-up, redo", earnings: "release" })).statusCode).toBe(200);
    const [second] = await runPayoutsAsAdmin(ctx());
    expect(second).not.toBe(first);
    const again = await payout(second!);
    expect(again.sessions.map((row) => row.id)).toEqual([session.sessionId]);
    expect(await deps.prisma.payoutItem.count({ where: { payoutId: first!, releasedAt: null } })).toBe(0);
    expect(transfersOf(ctx(), first!)).toEqual([]);
  });

  it("rejects with reverse: the session is refunded to the shop and nobody is paid for it", async () => {
    const { deps } = ctx();
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    expect((await decide(ctx(), payoutId!, "reject", { note: "self-dealing", earnings: "reverse" })).statusCode).toBe(200);
    const entries = await deps.prisma.ledgerEntry.findMany({ where: { sessionId: session.sessionId } });
    const sum = (kind: string) => entries.filter((entry) => entry.kind === kind).reduce((total, entry) => total + entry.amountMinor, 0);
    expect([sum("shop_charge") + sum("charge_refund"), sum("session_earning") + sum("earning_reversal"), sum("platform_fee") + sum("fee_reversal")]).toEqual([0, 0, 0]);
    expect(await runPayoutsAsAdmin(ctx())).toEqual([]);
    expect(transfersOf(ctx(), payoutId!)).toEqual([]);
  });
});

describe("Stripe refusing or failing a transfer", () => {
  it("holds the payout with Stripe's reason on balance_insufficient, and a new approval pays once with a new key", async () => {
    const { settle, stripe } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    stripe.state.drain("usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    const held = await payout(payoutId!);
    expect(held.status).toBe("held");
    expect(held.failureReason).toMatch(/^balance_insufficient/);
    expect(held.decisions.at(-1)).toMatchObject({ action: "transfer_failed", actor: "system", toStatus: "held" });
    stripe.state.topUp(10_000_000, "usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    expect((await payout(payoutId!)).status).toBe("transferred");
    expect(transfersOf(ctx(), payoutId!)).toHaveLength(1);
    const keys = stripe.state.requests.filter((request) => request.path === "/v1/transfers" && request.method === "POST").slice(-2).map((request) => request.idempotencyKey);
    expect(keys).toEqual([transferIdempotencyKey(payoutId!, 0), transferIdempotencyKey(payoutId!, 1)]);
  });

  it("a crash between Stripe's answer and our commit: the retry reuses the key and no second transfer exists", async () => {
    const { deps, stripe } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    // Approved, and the job's first run reached Stripe, then the process died before writing.
    await deps.prisma.payout.update({ where: { id: payoutId! }, data: { status: "approved" } });
    const row = await deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! } });
    const made = await deps.stripe.transfers.create(
      { amount: row.amountMinor, currency: "usd", destination: accountId, transfer_group: payoutId!, description: `expertline payout ${payoutId}`, metadata: { payoutId: payoutId! } },
      { idempotencyKey: transferIdempotencyKey(payoutId!, 0) },
    );
    const context = { attempt: 1, rateLimited: () => Promise.reject(new Error("not rate limited")) };
    await transferPayout(deps, payoutId!, context);
    await transferPayout(deps, payoutId!, { ...context, attempt: 2 });
    expect(transfersOf(ctx(), payoutId!).map((transfer) => transfer.id)).toEqual([made.id]);
    expect(await deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! } })).toMatchObject({ status: "transferred", stripeTransferId: made.id });
    void stripe;
  });

  it("a dropped connection after Stripe made the transfer: the SDK's retry gets the same transfer back", async () => {
    const { settle, stripe } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    stripe.state.dropAfterTransferCreated = 1;
    await decide(ctx(), payoutId!, "approve");
    await settle();
    expect(transfersOf(ctx(), payoutId!)).toHaveLength(1);
    expect((await payout(payoutId!)).status).toBe("transferred");
  });
});

describe("the admin's endpoints", () => {
  it("refuse a shop's key", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    for (const [method, url] of [["GET", "/v1/admin/payouts"], ["POST", "/v1/admin/payouts/run"], ["GET", `/v1/admin/payouts/${crypto.randomUUID()}`]] as const) {
      const response = await app.inject({ method, url, headers: shop.headers });
      expect(response.statusCode, url).toBe(401);
    }
  });

  it("list by status, and 404 for an unknown payout, 400 for a bad id or status", async () => {
    const { app } = ctx();
    const list = await app.inject({ method: "GET", url: "/v1/admin/payouts?status=paid", headers: adminHeaders });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ data: { status: string }[] }>().data.every((row) => row.status === "paid")).toBe(true);
    expect((await app.inject({ method: "GET", url: `/v1/admin/payouts/${crypto.randomUUID()}`, headers: adminHeaders })).statusCode).toBe(404);
    expect((await app.inject({ method: "GET", url: "/v1/admin/payouts/nope", headers: adminHeaders })).statusCode).toBe(400);
    expect((await app.inject({ method: "GET", url: "/v1/admin/payouts?status=lost", headers: adminHeaders })).statusCode).toBe(400);
  });
});

describe("decisions that could pay twice or lose a refund", () => {
  function refund(sessionId: string, body: Record<string, unknown> = {}) {
    return ctx().app.inject({ method: "POST", url: `/v1/sessions/${sessionId}/refund`, headers: world.shop.headers, payload: body });
  }

  it("an approved payout cannot be held: its transfer may be on its way", async () => {
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    await decide(ctx(), payoutId!, "approve");
    const hold = await decide(ctx(), payoutId!, "hold", { note: "wait" });
    expect(hold.statusCode).toBe(409);
    expect(hold.json()).toMatchObject({ code: "payout-status" });
    await ctx().settle();
    expect(transfersOf(ctx(), payoutId!)).toHaveLength(1);
  });

  it("a payout that refunds emptied cannot be approved", async () => {
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    expect((await refund(session.sessionId)).statusCode).toBe(201);
    const approve = await decide(ctx(), payoutId!, "approve");
    expect(approve.statusCode).toBe(409);
    expect(approve.json()).toMatchObject({ code: "nothing-to-pay" });
    expect((await decide(ctx(), payoutId!, "reject", { note: "all refunded", earnings: "release" })).statusCode).toBe(200);
  });

  it("a refund after approval waits for the transfer and claws back, even through a refusal and a second approval", async () => {
    const { settle, stripe } = ctx();
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    stripe.state.drain("usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    expect((await payout(payoutId!)).status).toBe("held");
    // Held by the system after approval: the amount is fixed, so the share comes back by clawback.
    const refunded = await refund(session.sessionId, { amountMinor: 500 });
    expect(refunded.json()).toMatchObject({ earningRecovery: "clawback", earningReversedMinor: 400, clawbackStatus: "pending" });
    await settle();
    expect((await ctx().deps.prisma.refund.findUniqueOrThrow({ where: { id: refunded.json<{ id: string }>().id } })).clawbackStatus).toBe("pending");
    stripe.state.topUp(10_000_000, "usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    const [transfer] = transfersOf(ctx(), payoutId!);
    expect(transfer!.amount).toBe(1200);
    // Recording the transfer runs the waiting clawback at once (its own job would look again only in 10 minutes).
    expect(transfer!.reversals.map((reversal) => reversal.amount)).toEqual([400]);
    expect(await ctx().deps.prisma.refund.findUniqueOrThrow({ where: { id: refunded.json<{ id: string }>().id } })).toMatchObject({ clawbackStatus: "done" });
  });

  it("rejecting a held payout that Stripe did pay records the transfer and refuses the rejection", async () => {
    const { deps, settle, stripe } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    stripe.state.drain("usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    stripe.state.topUp(10_000_000, "usd");
    // A transfer Stripe made that we never recorded (an ambiguous failure long ago).
    const made = await deps.stripe.transfers.create({ amount: 1200, currency: "usd", destination: accountId, transfer_group: payoutId!, metadata: { payoutId: payoutId! } });
    const reject = await decide(ctx(), payoutId!, "reject", { note: "no", earnings: "release" });
    expect(reject.statusCode).toBe(409);
    expect(reject.json()).toMatchObject({ code: "payout-transferred" });
    expect(await payout(payoutId!)).toMatchObject({ status: "transferred", stripeTransferId: made.id });
    expect(await runPayoutsAsAdmin(ctx())).toEqual([]);
  });

  it("a clawback Stripe refuses is shown failed with why, and the admin's retry takes a new key", async () => {
    const { app, settle, stripe } = ctx();
    const session = await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    await decide(ctx(), payoutId!, "approve");
    await settle();
    stripe.state.failNext(1, { path: /\/reversals$/, error: invalidRequest("Insufficient funds in the connected account.", { code: "insufficient_funds" }) });
    const refunded = (await refund(session.sessionId)).json<{ id: string }>();
    await settle();
    const failed = (await payout(payoutId!)) as unknown as { clawbacks: { refundId: string; status: string; failure: string | null }[] };
    expect(failed.clawbacks).toEqual([expect.objectContaining({ refundId: refunded.id, status: "failed", failure: expect.stringMatching(/^insufficient_funds/) })]);
    const retry = await app.inject({ method: "POST", url: `/v1/admin/refunds/${refunded.id}/retry-clawback`, headers: adminHeaders });
    expect(retry.statusCode, retry.body).toBe(202);
    expect(retry.json()).toEqual({ refundId: refunded.id, attempt: 1 });
    await settle();
    const done = (await payout(payoutId!)) as unknown as { reversedMinor: number; clawbacks: { status: string }[] };
    expect(done).toMatchObject({ reversedMinor: 1200, clawbacks: [{ status: "done" }] });
    const keys = stripe.state.requests.filter((request) => request.method === "POST" && request.path.endsWith("/reversals")).map((request) => request.idempotencyKey);
    expect(keys.slice(-2)).toEqual([`refund-${refunded.id}`, `refund-${refunded.id}-attempt-1`]);
    expect((await app.inject({ method: "POST", url: `/v1/admin/refunds/${refunded.id}/retry-clawback`, headers: adminHeaders })).statusCode).toBe(409);
  });

  it("approves with no body at all (curl -X POST without -d)", async () => {
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    const response = await ctx().app.inject({ method: "POST", url: `/v1/admin/payouts/${payoutId}/approve`, headers: adminHeaders });
    expect(response.statusCode, response.body).toBe(200);
    await ctx().settle();
    expect(transfersOf(ctx(), payoutId!)).toHaveLength(1);
  });

  it("a rejection that cannot ask Stripe whether the payout was paid is a 503 to retry, and changes nothing", async () => {
    const { settle, stripe } = ctx();
    await answeredSession(ctx(), world);
    const [payoutId] = await runPayoutsAsAdmin(ctx());
    stripe.state.drain("usd");
    await decide(ctx(), payoutId!, "approve");
    await settle();
    stripe.state.topUp(10_000_000, "usd");
    // Stripe-Should-Retry: false on the 500, so the SDK asks once.
    stripe.state.failNext(1, { path: /^\/v1\/transfers$/ });
    const reject = await decide(ctx(), payoutId!, "reject", { note: "no", earnings: "release" });
    expect(reject.statusCode).toBe(503);
    expect(reject.json()).toMatchObject({ code: "stripe-unavailable" });
    expect(reject.headers["retry-after"]).toBe("60");
    expect((await payout(payoutId!)).status).toBe("held");
  });

  it("the hourly sweep runs again an approved payout whose job was lost, looking Stripe up first, so a transfer made long ago is recorded, not repeated", async () => {
    const { deps, settle } = ctx();
    await answeredSession(ctx(), world);
    await answeredSession(ctx(), world, { expert: world.experts[0]! });
    const ids = await runPayoutsAsAdmin(ctx());
    expect(ids).toHaveLength(1);
    const [payoutId] = ids;
    // Approved, then its job lost (Redis lost its data) after a run that made the transfer under a key Stripe has since forgotten.
    const old = new Date(Date.now() - STUCK_AFTER_MS - 60_000);
    await deps.prisma.payout.update({ where: { id: payoutId! }, data: { status: "approved" } });
    await deps.prisma.$executeRaw`UPDATE "Payout" SET "updatedAt" = ${old} WHERE "id" = ${payoutId!}::uuid`;
    const row = await deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId! } });
    const made = await deps.stripe.transfers.create(
      { amount: row.amountMinor, currency: "usd", destination: accountId, transfer_group: payoutId!, metadata: { payoutId: payoutId! } },
      { idempotencyKey: "a-key-stripe-forgot" },
    );
    expect(await requeueStuckMoney(deps)).toMatchObject({ transfers: 1 });
    await settle();
    expect(transfersOf(ctx(), payoutId!).map((transfer) => transfer.id)).toEqual([made.id]);
    expect((await payout(payoutId!)).status).toBe("transferred");
    // Nothing is left for the next sweep.
    expect(await requeueStuckMoney(deps)).toEqual({ transfers: 0, clawbacks: 0 });
  });
});
