/**
 * An admin's retry of a failed clawback runs under a new Idempotency-Key, so
 * only looking first keeps it from reversing twice. Stripe embeds only a
 * transfer's 10 most recent reversals in the transfer object: the look must
 * page through GET /v1/transfers/{id}/reversals, or an earlier reversal on a
 * busy transfer is missed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { invalidRequest } from "../../src/sandbox/stripe/errors.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { makeSessionWorld, type SessionWorld } from "../sessions/session-world.js";
import { adminHeaders, answeredSession, decide, onboardExpert, runPayoutsAsAdmin, transfersOf } from "./payments-world.js";

const ctx = useTelephonyContext({ PAYOUT_REVIEW_WINDOW_HOURS: "0" });
let world: SessionWorld;

beforeAll(async () => {
  world = await makeSessionWorld(ctx(), { shopName: "Brew Barn", experts: [{ name: "Dan Brewer", maxConcurrentSessions: 5 }] });
  await onboardExpert(ctx(), world.experts[0]!.id);
  ctx().stripe.state.topUp(10_000_000, "usd");
  // Earlier sessions of the set-up, if any, are out of the way.
  await runPayoutsAsAdmin(ctx());
});

/** A session paid out in a transfer of its own; returns the session, the payout and its transfer id. */
async function paidSession() {
  const session = await answeredSession(ctx(), world);
  const [payoutId] = await runPayoutsAsAdmin(ctx());
  expect((await decide(ctx(), payoutId!, "approve")).statusCode).toBe(200);
  await ctx().settle();
  const [transfer] = transfersOf(ctx(), payoutId!);
  expect(transfer, "the payout was transferred").toBeDefined();
  return { session, payoutId: payoutId!, transferId: transfer!.id };
}

/** Refunds the session; Stripe refuses its clawback, so the refund is failed at attempt 0 and Stripe holds no reversal for it. */
async function refundWithFailedClawback(sessionId: string): Promise<string> {
  const { app, deps, settle, stripe } = ctx();
  stripe.state.failNext(1, { path: /\/reversals$/, error: invalidRequest("Insufficient funds in the connected account.", { code: "insufficient_funds" }) });
  const response = await app.inject({ method: "POST", url: `/v1/sessions/${sessionId}/refund`, headers: world.shop.headers, payload: { amountMinor: 500 } });
  expect(response.statusCode, response.body).toBe(201);
  const refundId = response.json<{ id: string }>().id;
  await settle();
  expect(await deps.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).toMatchObject({ clawbackStatus: "failed", clawbackAttempt: 0, stripeReversalId: null });
  return refundId;
}

/** Other reversals on the transfer (other refunds, made directly), newer than anything before. */
async function fillerReversals(transferId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await ctx().deps.stripe.transfers.createReversal(transferId, { amount: 1, metadata: { refundId: `other-${i}` } });
  }
}

function reversalsFor(transferId: string, refundId: string) {
  const transfer = ctx().stripe.state.transfers.get(transferId);
  return (transfer?.reversals ?? []).filter((reversal) => reversal.metadata.refundId === refundId);
}

async function retryClawback(refundId: string) {
  const response = await ctx().app.inject({ method: "POST", url: `/v1/admin/refunds/${refundId}/retry-clawback`, headers: adminHeaders });
  expect(response.statusCode, response.body).toBe(202);
  expect(response.json()).toEqual({ refundId, attempt: 1 });
  await ctx().settle();
}

describe("retrying a clawback on a transfer with more than 10 reversals", () => {
  it("finds the reversal Stripe made that we did not record, beyond the 10 the transfer embeds, and does not reverse again", async () => {
    const { deps, stripe } = ctx();
    const { session, payoutId, transferId } = await paidSession();
    const refundId = await refundWithFailedClawback(session.sessionId);
    // Stripe made this refund's reversal, but our record of it was lost (a dropped answer, retries exhausted).
    const earlier = await deps.stripe.transfers.createReversal(transferId, { amount: 400, metadata: { refundId } });
    await deps.prisma.refund.update({ where: { id: refundId }, data: { clawbackStatus: "failed", clawbackAttempt: 0, clawbackFailure: "Stripe did not answer after several tries" } });
    await fillerReversals(transferId, 11);
    // The precondition: the transfer object no longer shows the earlier reversal.
    const embedded = await deps.stripe.transfers.retrieve(transferId);
    expect(embedded.reversals.has_more).toBe(true);
    expect(embedded.reversals.data.some((reversal) => reversal.id === earlier.id)).toBe(false);
    const postsBefore = stripe.state.requests.filter((request) => request.method === "POST" && request.path === `/v1/transfers/${transferId}/reversals`).length;

    await retryClawback(refundId);

    expect(reversalsFor(transferId, refundId).map((reversal) => reversal.id)).toEqual([earlier.id]);
    expect(stripe.state.requests.filter((request) => request.method === "POST" && request.path === `/v1/transfers/${transferId}/reversals`)).toHaveLength(postsBefore);
    expect(stripe.state.requests.some((request) => request.method === "GET" && request.path === `/v1/transfers/${transferId}/reversals`)).toBe(true);
    expect(await deps.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).toMatchObject({ clawbackStatus: "done", stripeReversalId: earlier.id, clawbackFailure: null, clawbackAttempt: 1 });
    const transfer = stripe.state.transfers.get(transferId)!;
    expect(await deps.prisma.payout.findUniqueOrThrow({ where: { id: payoutId } })).toMatchObject({ reversedMinor: transfer.amountReversed });
    expect(transfer.amountReversed).toBe(400 + 11);
    expect(stripe.state.contractViolations).toEqual([]);
  });

  it("reverses once under the new key when no earlier reversal exists among more than 10", async () => {
    const { deps, stripe } = ctx();
    const { session, transferId } = await paidSession();
    const refundId = await refundWithFailedClawback(session.sessionId);
    await fillerReversals(transferId, 12);

    await retryClawback(refundId);

    const made = reversalsFor(transferId, refundId);
    expect(made.map((reversal) => reversal.amount)).toEqual([400]);
    expect(await deps.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).toMatchObject({ clawbackStatus: "done", stripeReversalId: made[0]!.id });
    const keys = stripe.state.requests.filter((request) => request.method === "POST" && request.path === `/v1/transfers/${transferId}/reversals` && request.idempotencyKey?.startsWith(`refund-${refundId}`));
    expect(keys.map((request) => request.idempotencyKey)).toEqual([`refund-${refundId}`, `refund-${refundId}-attempt-1`]);
    expect(stripe.state.contractViolations).toEqual([]);
  });
});
