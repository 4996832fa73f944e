import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeShop } from "../helpers/factories.js";

const ctx = useTestContext();

describe("POST /v1/admin/shops", () => {
  it("creates a shop and returns its first key once", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/admin/shops",
      headers: adminHeaders,
      payload: { name: "Café Über Brew", currency: "eur" },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.shop).toMatchObject({ name: "Café Über Brew", slug: "cafe-uber-brew", currency: "EUR", status: "active" });
    expect(body.apiKey).toMatchObject({ name: "Initial key", revokedAt: null, key: expect.stringMatching(/^el_live_/) });

    const list = await app.inject({ method: "GET", url: "/v1/api-keys", headers: { authorization: `Bearer ${body.apiKey.key}` } });
    expect(list.statusCode).toBe(200);
    expect(list.json().data).toHaveLength(1);
    expect(list.json().data[0]).not.toHaveProperty("key");
  });

  it("refuses a taken slug with 409", async () => {
    const { app } = ctx();
    await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Dup", slug: "dup-shop" } });
    const again = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Other", slug: "dup-shop" } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "slug-taken" });
  });

  it("validates the body", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/admin/shops",
      headers: adminHeaders,
      payload: { name: " ", slug: "Not A Slug", currency: "dollars" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((error: { path: string }) => error.path).sort()).toEqual([
      "body.currency",
      "body.name",
      "body.slug",
    ]);
  });
});

describe("GET /v1/admin/shops", () => {
  it("pages through shops newest first", async () => {
    const { app } = ctx();
    const created: { id: string }[] = [];
    for (let index = 0; index < 5; index++) created.push(await makeShop(app, `Paged ${index}`));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response: Awaited<ReturnType<typeof app.inject>> = await app.inject({
        method: "GET",
        url: `/v1/admin/shops?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        headers: adminHeaders,
      });
      expect(response.statusCode).toBe(200);
      const page = response.json<{ data: { id: string }[]; nextCursor: string | null }>();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((shop) => shop.id));
      cursor = page.nextCursor;
    } while (cursor);
    const ours = seen.filter((id) => created.some((shop) => shop.id === id));
    expect(ours).toEqual(created.map((shop) => shop.id).reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe("API keys", () => {
  it("creates, lists and revokes keys; the last live key cannot be revoked", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const keys = await app.inject({ method: "GET", url: "/v1/api-keys", headers: shop.headers });
    const initialId = keys.json().data[0].id as string;

    const lastOne = await app.inject({ method: "DELETE", url: `/v1/api-keys/${initialId}`, headers: shop.headers });
    expect(lastOne.statusCode).toBe(409);
    expect(lastOne.json()).toMatchObject({ code: "last-api-key" });

    const created = await app.inject({ method: "POST", url: "/v1/api-keys", headers: shop.headers, payload: { name: "backup" } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: "backup", prefix: expect.stringMatching(/^el_live_/) });

    const revoked = await app.inject({ method: "DELETE", url: `/v1/api-keys/${initialId}`, headers: shop.headers });
    expect(revoked.statusCode).toBe(200);
    // Revoking again is harmless and answers the same way.
    const backupHeaders = { authorization: `Bearer ${created.json().key}` };
    const again = await app.inject({ method: "DELETE", url: `/v1/api-keys/${initialId}`, headers: backupHeaders });
    expect(again.statusCode).toBe(200);
    expect(again.json().revokedAt).toBe(revoked.json().revokedAt);
  });
});
