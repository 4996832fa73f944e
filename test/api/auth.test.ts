import { describe, expect, it } from "vitest";
import { TEST_ADMIN_KEY } from "../helpers/config.js";
import { useTestContext } from "../helpers/context.js";
import { columnsContaining } from "../helpers/db-scan.js";
import { adminHeaders, makeShop } from "../helpers/factories.js";

const ctx = useTestContext();

describe("admin authentication", () => {
  it.each([
    ["no header", {}],
    ["wrong key", { authorization: `Bearer ${TEST_ADMIN_KEY}x` }],
    ["a prefix of the key", { authorization: `Bearer ${TEST_ADMIN_KEY.slice(0, 10)}` }],
    ["wrong scheme", { authorization: `Basic ${TEST_ADMIN_KEY}` }],
  ])("refuses %s with 401", async (_label, headers) => {
    const response = await ctx().app.inject({ method: "GET", url: "/v1/admin/shops", headers });
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="expertline"');
    expect(response.json()).toMatchObject({ code: "unauthorized" });
  });

  it("a shop key is not an admin key", async () => {
    const shop = await makeShop(ctx().app);
    const response = await ctx().app.inject({ method: "GET", url: "/v1/admin/shops", headers: shop.headers });
    expect(response.statusCode).toBe(401);
  });

  it("the admin key is not a shop key", async () => {
    const response = await ctx().app.inject({ method: "GET", url: "/v1/shop", headers: adminHeaders });
    expect(response.statusCode).toBe(401);
  });
});

describe("shop authentication", () => {
  it("refuses missing, malformed and unknown keys", async () => {
    const { app } = ctx();
    for (const authorization of [undefined, "Bearer", "Bearer nonsense", `Bearer el_live_AAAAAAAA_${"B".repeat(32)}`]) {
      const response = await app.inject({
        method: "GET",
        url: "/v1/products",
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
  });

  it("a revoked key stops working at once; other keys keep working", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const second = await app.inject({ method: "POST", url: "/v1/api-keys", headers: shop.headers, payload: { name: "ci" } });
    expect(second.statusCode).toBe(201);
    const { id, key } = second.json<{ id: string; key: string }>();
    const secondHeaders = { authorization: `Bearer ${key}` };
    expect((await app.inject({ method: "GET", url: "/v1/shop", headers: secondHeaders })).statusCode).toBe(200);

    const revoke = await app.inject({ method: "DELETE", url: `/v1/api-keys/${id}`, headers: shop.headers });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toMatchObject({ id, revokedAt: expect.any(String) });

    expect((await app.inject({ method: "GET", url: "/v1/shop", headers: secondHeaders })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: "/v1/shop", headers: shop.headers })).statusCode).toBe(200);
  });

  it("a suspended shop is refused with 403", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    await deps.prisma.shop.update({ where: { id: shop.id }, data: { status: "suspended" } });
    const response = await app.inject({ method: "GET", url: "/v1/shop", headers: shop.headers });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: "shop-suspended" });
  });

  it("stores keys only as hashes, in no table at all", async () => {
    const { app, deps, schema } = ctx();
    const shop = await makeShop(app);
    // With an Idempotency-Key too: a stored answer would be a copy of the key.
    const second = await app.inject({
      method: "POST",
      url: "/v1/api-keys",
      headers: { ...shop.headers, "idempotency-key": "second-key" },
      payload: { name: "ci" },
    });
    expect(second.statusCode).toBe(201);
    for (const key of [shop.apiKey, second.json<{ key: string }>().key]) {
      const secret = key.slice(-32);
      expect(await columnsContaining(deps.sql, schema, secret)).toEqual([]);
      // The scan does read the tables: the visible prefix is found where it is meant to be.
      expect(await columnsContaining(deps.sql, schema, key.slice(0, 16))).toContain("ApiKey.prefix");
    }
  });

  it("records when a key was last used", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    await app.inject({ method: "GET", url: "/v1/shop", headers: shop.headers });
    await expect
      .poll(async () => (await deps.prisma.apiKey.findFirst({ where: { shopId: shop.id } }))?.lastUsedAt)
      .toBeInstanceOf(Date);
  });
});
