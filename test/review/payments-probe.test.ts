/**
 * Payments review probes (issue 9): odd input on the refund, ledger, statement,
 * admin payout, Stripe webhook and onboarding routes is a 4xx, never a 500;
 * a signed Stripe event carrying a NUL character is acknowledged.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { adminHeaders } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { makeSessionWorld, type SessionWorld } from "../sessions/session-world.js";
import { answeredSession, onboardExpert } from "../payments/payments-world.js";

const ctx = useTelephonyContext({ PAYOUT_REVIEW_WINDOW_HOURS: "0" });
let world: SessionWorld;

beforeAll(async () => {
  world = await makeSessionWorld(ctx(), { shopName: "Probe Shop", experts: [{ name: "Pat Probe", maxConcurrentSessions: 5 }] });
  await onboardExpert(ctx(), world.experts[0]!.id);
});

describe("bad input probes", () => {
  it("P5 no 500s on odd input", async () => {
    const { app } = ctx();
    const session = await answeredSession(ctx(), world);
    const admin = adminHeaders;
    const cases: [string, string, Record<string, string>, unknown?][] = [
      ["POST", `/v1/sessions/${session.sessionId}/refund`, world.shop.headers, { amountMinor: "12" }],
      ["POST", `/v1/sessions/${session.sessionId}/refund`, world.shop.headers, { amountMinor: 1e20 }],
      ["POST", `/v1/sessions/${session.sessionId}/refund`, world.shop.headers, { amountMinor: 1, reason: "a\u0000b" }],
      ["POST", `/v1/sessions/not-a-uuid/refund`, world.shop.headers, {}],
      ["GET", `/v1/statements/2026-13`, world.shop.headers],
      ["GET", `/v1/statements/0000-01`, world.shop.headers],
      ["GET", `/v1/statements/%00`, world.shop.headers],
      ["GET", `/v1/ledger?from=2026-02-30`, world.shop.headers],
      ["GET", `/v1/ledger?from=2026-01-01T00:00:00%2B99:00`, world.shop.headers],
      ["GET", `/v1/ledger?from=9999-12-31T23:59:59-23:59`, world.shop.headers],
      ["GET", `/v1/ledger?from=0001-01-01`, world.shop.headers],
      ["GET", `/v1/ledger?kind=session_earning`, world.shop.headers],
      ["GET", `/v1/admin/payouts?limit=abc`, admin],
      ["GET", `/v1/admin/payouts?cursor=${crypto.randomUUID()}`, admin],
      ["POST", `/v1/admin/payouts/${crypto.randomUUID()}/reject`, admin, { note: "x", earnings: "maybe" }],
      ["POST", `/v1/admin/payouts/${crypto.randomUUID()}/hold`, admin, { note: "\u0000" }],
      ["POST", `/v1/admin/payouts/${crypto.randomUUID()}/approve`, admin, "not json"],
      ["POST", `/stripe/webhook`, { "stripe-signature": "t=1,v1=00", "content-type": "application/json" }, "{}"],
      ["POST", `/stripe/webhook`, { "stripe-signature": "t=1,v1=00", "content-type": "text/plain" }, "{}"],
      ["GET", `/e/onboard/${"A".repeat(32)}/return`, {}],
    ];
    const results: string[] = [];
    for (const [method, url, headers, payload] of cases) {
      const r = await app.inject({ method: method as "GET", url, headers, ...(payload !== undefined ? { payload: payload as string } : {}) });
      results.push(`${r.statusCode} ${method} ${url} ${r.statusCode >= 500 ? r.body.slice(0, 200) : ""}`);
    }
    expect(results.filter((line) => line.startsWith("5"))).toEqual([]);
  });

  it("P6 a signed event whose object has a NUL character is acknowledged, not a 500", async () => {
    const { app, deps } = ctx();
    const payload = JSON.stringify({ id: `evt_probe${Date.now()}`, object: "event", type: "customer.updated", created: Math.floor(Date.now() / 1000), data: { object: { id: "x", name: "a\u0000b" } } });
    const header = deps.stripe.webhooks.generateTestHeaderString({ payload, secret: deps.config.STRIPE_WEBHOOK_SECRET[0]! });
    const r = await app.inject({ method: "POST", url: "/stripe/webhook", headers: { "stripe-signature": header, "content-type": "application/json" }, payload });
    expect(r.statusCode, r.body).toBeLessThan(500);
  });
});
