/**
 * A transfer's reversals: the transfer object embeds only the 10 most recent
 * (as Stripe does), and GET /v1/transfers/{id}/reversals pages through all of
 * them, newest first. Over inject() for the wire shape, and through the
 * official SDK's auto-pagination over real HTTP for what the product sees.
 */
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStripeSandbox, type StripeSandbox } from "./server.js";

const KEY = "sk_test_reversals_0123456789abcdef";
const clock = { now: () => new Date("2026-03-02T10:00:00Z") };
let sandbox: StripeSandbox;

beforeEach(async () => {
  sandbox = await createStripeSandbox({ secretKey: KEY, clock });
});
afterEach(async () => {
  await sandbox.app.close();
});

function get(url: string) {
  return sandbox.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${KEY}` } });
}

interface ReversalJson {
  id: string;
  object: string;
  amount: number;
  transfer: string;
  metadata: Record<string, string>;
}
interface ListJson {
  object: string;
  data: ReversalJson[];
  has_more: boolean;
  url: string;
  total_count?: number;
}

/** A transfer of 10_000 with `count` reversals of 1..count cents, oldest first; returns the reversal ids in creation order. */
async function transferWithReversals(count: number): Promise<{ transferId: string; reversalIds: string[] }> {
  const created = await sandbox.app.inject({
    method: "POST",
    url: "/v1/accounts",
    payload: "type=express&capabilities[transfers][requested]=true",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/x-www-form-urlencoded" },
  });
  const account = created.json<{ id: string }>();
  sandbox.state.completeOnboarding(account.id);
  sandbox.state.topUp(10_000, "usd");
  const transfer = sandbox.state.createTransfer({ amount: 10_000, currency: "usd", destination: account.id, description: null, metadata: {}, transferGroup: null });
  const reversalIds: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    reversalIds.push(sandbox.state.reverseTransfer(transfer.id, { amount: i, description: null, metadata: { n: String(i) } }).id);
  }
  return { transferId: transfer.id, reversalIds };
}

describe("a transfer object's embedded reversals", () => {
  it("embeds all of up to 10 reversals, newest first, with has_more false", async () => {
    const { transferId, reversalIds } = await transferWithReversals(10);
    const transfer = (await get(`/v1/transfers/${transferId}`)).json<{ reversals: ListJson; amount_reversed: number }>();
    expect(transfer.reversals).toMatchObject({ object: "list", has_more: false, total_count: 10, url: `/v1/transfers/${transferId}/reversals` });
    expect(transfer.reversals.data.map((r) => r.id)).toEqual([...reversalIds].reverse());
    expect(transfer.amount_reversed).toBe(55);
  });

  it("embeds only the 10 most recent of 13, with has_more true and the full total_count", async () => {
    const { transferId, reversalIds } = await transferWithReversals(13);
    const transfer = (await get(`/v1/transfers/${transferId}`)).json<{ reversals: ListJson; amount_reversed: number }>();
    expect(transfer.reversals).toMatchObject({ object: "list", has_more: true, total_count: 13 });
    expect(transfer.reversals.data.map((r) => r.id)).toEqual(reversalIds.slice(3).reverse());
    expect(transfer.reversals.data.some((r) => r.id === reversalIds[0])).toBe(false);
    // amount_reversed still counts every reversal, embedded or not.
    expect(transfer.amount_reversed).toBe(91);
  });

  it("embeds the 10 most recent in the transfer.reversed event's object too", async () => {
    const { transferId, reversalIds } = await transferWithReversals(12);
    const last = sandbox.state.eventLog.events.filter((event) => event.type === "transfer.reversed").at(-1);
    const object = last?.data.object as { id: string; reversals: ListJson };
    expect(object.id).toBe(transferId);
    expect(object.reversals.data.map((r) => r.id)).toEqual(reversalIds.slice(2).reverse());
    expect(object.reversals.has_more).toBe(true);
  });
});

describe("GET /v1/transfers/{id}/reversals", () => {
  it("lists 10 newest first by default, then pages with starting_after and back with ending_before", async () => {
    const { transferId, reversalIds } = await transferWithReversals(13);
    const newestFirst = [...reversalIds].reverse();
    const first = await get(`/v1/transfers/${transferId}/reversals`);
    expect(first.statusCode).toBe(200);
    const page1 = first.json<ListJson>();
    expect(page1).toMatchObject({ object: "list", has_more: true, url: `/v1/transfers/${transferId}/reversals` });
    expect(page1.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 10));
    expect(page1.data[0]).toMatchObject({ object: "transfer_reversal", transfer: transferId, amount: 13, metadata: { n: "13" } });

    const page2 = (await get(`/v1/transfers/${transferId}/reversals?limit=2&starting_after=${newestFirst[9]}`)).json<ListJson>();
    expect(page2.data.map((r) => r.id)).toEqual(newestFirst.slice(10, 12));
    expect(page2.has_more).toBe(true);
    const page3 = (await get(`/v1/transfers/${transferId}/reversals?limit=2&starting_after=${newestFirst[11]}`)).json<ListJson>();
    expect(page3.data.map((r) => r.id)).toEqual(newestFirst.slice(12));
    expect(page3.has_more).toBe(false);

    const back = (await get(`/v1/transfers/${transferId}/reversals?limit=3&ending_before=${newestFirst[5]}`)).json<ListJson>();
    expect(back.data.map((r) => r.id)).toEqual(newestFirst.slice(2, 5));
    expect(back.has_more).toBe(true);
    const all = (await get(`/v1/transfers/${transferId}/reversals?limit=100`)).json<ListJson>();
    expect(all.data.map((r) => r.id)).toEqual(newestFirst);
    expect(all.has_more).toBe(false);
    expect(sandbox.state.contractViolations).toEqual([]);
    expect(sandbox.state.contractUnknownParams).toEqual([]);
  });

  it("lists an empty page for a transfer without reversals, and only that transfer's reversals", async () => {
    const { transferId: other } = await transferWithReversals(2);
    const { transferId } = await transferWithReversals(0);
    expect((await get(`/v1/transfers/${transferId}/reversals`)).json()).toEqual({ object: "list", data: [], has_more: false, url: `/v1/transfers/${transferId}/reversals` });
    expect((await get(`/v1/transfers/${other}/reversals`)).json<ListJson>().data).toHaveLength(2);
  });

  it("answers resource_missing 404 for an unknown transfer", async () => {
    const missing = await get("/v1/transfers/tr_missing/reversals");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { type: "invalid_request_error", code: "resource_missing", param: "id", message: "No such transfer: 'tr_missing'" } });
  });

  it("refuses a limit outside 1 to 100, both cursors at once, a cursor of another transfer, and unknown parameters", async () => {
    const { transferId: other, reversalIds: otherIds } = await transferWithReversals(1);
    const { transferId } = await transferWithReversals(3);
    for (const [query, param] of [
      ["limit=101", "limit"],
      ["limit=0", "limit"],
      ["limit=ten", "limit"],
      [`starting_after=${otherIds[0]}`, "starting_after"],
      [`ending_before=${otherIds[0]}`, "ending_before"],
      ["starting_after=trr_a&ending_before=trr_b", "starting_after"],
      ["amount=5", "amount"],
    ] as const) {
      const response = await get(`/v1/transfers/${transferId}/reversals?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json(), query).toMatchObject({ error: { type: "invalid_request_error", param } });
    }
    expect((await get(`/v1/transfers/${transferId}/reversals?limit=100`)).statusCode).toBe(200);
    expect((await get(`/v1/transfers/${transferId}/reversals?limit=1`)).json<ListJson>().data).toHaveLength(1);
    expect(other).not.toBe(transferId);
  });
});

describe("the official SDK against the list", () => {
  it("auto-paginates listReversals through every reversal, and the contract check finds nothing", async () => {
    await sandbox.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = sandbox.app.server.address() as AddressInfo;
    const stripe = new Stripe(KEY, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0, telemetry: false });
    const { transferId, reversalIds } = await transferWithReversals(25);

    const seen: string[] = [];
    for await (const reversal of stripe.transfers.listReversals(transferId, { limit: 10 })) seen.push(reversal.id);
    expect(seen).toEqual([...reversalIds].reverse());
    const pages = sandbox.state.requests.filter((request) => request.method === "GET" && request.path === `/v1/transfers/${transferId}/reversals`);
    expect(pages).toHaveLength(3);

    const retrieved = await stripe.transfers.retrieve(transferId);
    expect(retrieved.reversals.data).toHaveLength(10);
    expect(retrieved.reversals.has_more).toBe(true);
    await expect(stripe.transfers.listReversals("tr_missing")).rejects.toMatchObject({ type: "StripeInvalidRequestError", code: "resource_missing", statusCode: 404 });
    expect(sandbox.state.contractViolations).toEqual([]);
    expect(sandbox.state.contractUnknownParams).toEqual([]);
  });
});
