import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeExpert, makePool, makeProduct, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

describe("/v1/pools", () => {
  it("creates a pool with pricing, offer policy and products", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const kettle = await makeProduct(app, shop);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/pools",
      payload: {
        name: "All-grain brewers",
        tags: ["mash", "all-grain"],
        productIds: [kettle.id, kettle.id],
        pricing: { mode: "per_minute", amountMinor: 150, minimumMinor: 300, platformFeeBps: 1500 },
        offerPolicy: { mode: "broadcast", timeoutSeconds: 90, fanout: 3 },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      name: "All-grain brewers",
      tags: ["all-grain", "mash"],
      productIds: [kettle.id],
      pricing: { mode: "per_minute", amountMinor: 150, minimumMinor: 300, currency: "USD", platformFeeBps: 1500 },
      offerPolicy: { mode: "broadcast", timeoutSeconds: 90, fanout: 3 },
      memberCount: 0,
    });
  });

  it("defaults the offer policy to sequential", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const pool = await makePool(app, shop);
    const read = await request(app, shop, { method: "GET", url: `/v1/pools/${pool.id}` });
    expect(read.json().offerPolicy).toEqual({ mode: "sequential", timeoutSeconds: 120, fanout: 1 });
  });

  it.each([
    [{ pricing: { mode: "per_session", amountMinor: 12.5, platformFeeBps: 100 } }, "body.pricing.amountMinor"],
    [{ pricing: { mode: "per_session", amountMinor: -1, platformFeeBps: 100 } }, "body.pricing.amountMinor"],
    [{ pricing: { mode: "per_minute", amountMinor: 5_000_001, platformFeeBps: 100 } }, "body.pricing.amountMinor"],
    [{ pricing: { mode: "per_minute", amountMinor: 100, minimumMinor: 0.5, platformFeeBps: 100 } }, "body.pricing.minimumMinor"],
    [{ pricing: { mode: "per_session", amountMinor: 100, platformFeeBps: 10_001 } }, "body.pricing.platformFeeBps"],
    [{ pricing: { mode: "per_hour", amountMinor: 100, platformFeeBps: 0 } }, "body.pricing.mode"],
    [{ pricing: { mode: "per_session", amountMinor: 100, platformFeeBps: 0, currency: "US" } }, "body.pricing.currency"],
    [{ offerPolicy: { mode: "sequential", timeoutSeconds: 60, fanout: 3 } }, "body.offerPolicy.fanout"],
    [{ offerPolicy: { mode: "broadcast", timeoutSeconds: 5, fanout: 3 } }, "body.offerPolicy.timeoutSeconds"],
  ])("refuses invalid pricing or policy %o", async (change, path) => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/pools",
      payload: { name: "Bad", pricing: { mode: "per_session", amountMinor: 100, platformFeeBps: 0 }, ...change },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((error: { path: string }) => error.path)).toContain(path);
  });

  it("refuses products it cannot see (another shop's as well as missing) with 422", async () => {
    const { app } = ctx();
    const [shop, other] = [await makeShop(app), await makeShop(app)];
    const foreign = await makeProduct(app, other);
    const own = await makeProduct(app, shop);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/pools",
      payload: {
        name: "Mixed",
        productIds: [own.id, foreign.id, "01900000-0000-7000-8000-000000000000"],
        pricing: { mode: "per_session", amountMinor: 100, platformFeeBps: 0 },
      },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([
      { path: "body.productIds.1", message: "no such product in this shop" },
      { path: "body.productIds.2", message: "no such product in this shop" },
    ]);
    const pools = await request(app, shop, { method: "GET", url: "/v1/pools" });
    expect(pools.json().data).toHaveLength(0); // nothing half-written
  });

  it("updates parts of a pool and replaces its products", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const [first, second] = [await makeProduct(app, shop), await makeProduct(app, shop)];
    const pool = await makePool(app, shop, { productIds: [first.id] });
    const response = await request(app, shop, {
      method: "PATCH",
      url: `/v1/pools/${pool.id}`,
      payload: { productIds: [second.id], pricing: { mode: "per_session", amountMinor: 2500, currency: "cad", platformFeeBps: 0 } },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      productIds: [second.id],
      pricing: { amountMinor: 2500, currency: "CAD" },
      offerPolicy: { mode: "sequential" },
    });
    const byProduct = await request(app, shop, { method: "GET", url: `/v1/pools?productId=${first.id}` });
    expect(byProduct.json().data).toHaveLength(0);
  });

  it("keeps pool names unique per shop", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    await makePool(app, shop, { name: "Hops" });
    const again = await request(app, shop, {
      method: "POST",
      url: "/v1/pools",
      payload: { name: "Hops", pricing: { mode: "per_session", amountMinor: 1, platformFeeBps: 0 } },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "pool-name-taken" });
  });

  it("adds, lists and removes members", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const pool = await makePool(app, shop);
    const dan = await makeExpert(app, shop, { name: "Dan" });
    const url = `/v1/pools/${pool.id}/members`;

    const added = await request(app, shop, { method: "POST", url, payload: { expertId: dan.id } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ poolId: pool.id, expertId: dan.id, expertName: "Dan" });
    const again = await request(app, shop, { method: "POST", url, payload: { expertId: dan.id } });
    expect(again.statusCode).toBe(200);
    expect(again.json().createdAt).toBe(added.json().createdAt);

    const members = await request(app, shop, { method: "GET", url });
    expect(members.json().data.map((member: { expertId: string }) => member.expertId)).toEqual([dan.id]);
    expect((await request(app, shop, { method: "GET", url: `/v1/pools/${pool.id}` })).json().memberCount).toBe(1);
    const filtered = await request(app, shop, { method: "GET", url: `/v1/experts?poolId=${pool.id}` });
    expect(filtered.json().data.map((expert: { id: string }) => expert.id)).toEqual([dan.id]);

    expect((await request(app, shop, { method: "DELETE", url: `${url}/${dan.id}` })).statusCode).toBe(204);
    expect((await request(app, shop, { method: "DELETE", url: `${url}/${dan.id}` })).statusCode).toBe(404);
  });

  it("refuses another shop's expert as a member with 422", async () => {
    const { app } = ctx();
    const [shop, other] = [await makeShop(app), await makeShop(app)];
    const pool = await makePool(app, shop);
    const stranger = await makeExpert(app, other);
    const response = await request(app, shop, { method: "POST", url: `/v1/pools/${pool.id}/members`, payload: { expertId: stranger.id } });
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([{ path: "body.expertId", message: "no such expert in this shop" }]);
  });

  it("deleting a pool removes its memberships, not its experts", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const pool = await makePool(app, shop);
    const dan = await makeExpert(app, shop);
    await request(app, shop, { method: "POST", url: `/v1/pools/${pool.id}/members`, payload: { expertId: dan.id } });
    expect((await request(app, shop, { method: "DELETE", url: `/v1/pools/${pool.id}` })).statusCode).toBe(204);
    expect((await request(app, shop, { method: "GET", url: `/v1/experts/${dan.id}` })).statusCode).toBe(200);
    expect((await request(app, shop, { method: "GET", url: `/v1/pools/${pool.id}/members` })).statusCode).toBe(404);
  });
});
