import { describe, expect, it } from "vitest";
import { requestFingerprint } from "../../src/plugins/idempotency.js";
import { useTestContext } from "../helpers/context.js";
import { columnsContaining } from "../helpers/db-scan.js";
import { adminHeaders, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

describe("Idempotency-Key", () => {
  it("replays the first response for the same key and body, with one effect", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const send = () =>
      request(app, shop, {
        method: "POST",
        url: "/v1/products",
        headers: { "idempotency-key": "create-kettle-1" },
        payload: { sku: "KETTLE", name: "Kettle", tags: ["a", "b"] },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(1);
  });

  it("treats the same JSON with keys in another order as the same request", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const headers = { "idempotency-key": "order-test", "content-type": "application/json" };
    const first = await request(app, shop, { method: "POST", url: "/v1/products", headers, payload: '{"sku":"O1","name":"x"}' });
    const second = await request(app, shop, { method: "POST", url: "/v1/products", headers, payload: '{"name":"x","sku":"O1"}' });
    expect(second.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
  });

  it("the same key with a different body is 422 and changes nothing", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const headers = { "idempotency-key": "reused" };
    await request(app, shop, { method: "POST", url: "/v1/products", headers, payload: { sku: "R1", name: "x" } });
    const reused = await request(app, shop, { method: "POST", url: "/v1/products", headers, payload: { sku: "R2", name: "x" } });
    expect(reused.statusCode).toBe(422);
    expect(reused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(reused.json()).toMatchObject({ type: "urn:expertline:problem:idempotency-key-reused", status: 422 });
    const onOtherRoute = await request(app, shop, { method: "POST", url: "/v1/api-keys", headers, payload: { name: "x" } });
    expect(onOtherRoute.statusCode).toBe(422);
    expect(onOtherRoute.json()).toMatchObject({ type: "urn:expertline:problem:idempotency-key-reused", status: 422 });
    expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(1);
  });

  it("replays error answers too (a 409 stays a 409)", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    await request(app, shop, { method: "POST", url: "/v1/products", payload: { sku: "DUP", name: "x" } });
    const send = () =>
      request(app, shop, { method: "POST", url: "/v1/products", headers: { "idempotency-key": "dup" }, payload: { sku: "DUP", name: "x" } });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(409);
    expect(first.json()).toMatchObject({ type: "urn:expertline:problem:sku-taken", status: 409 });
    expect(second.statusCode).toBe(409);
    expect(second.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.body).toBe(first.body);
  });

  it("keys are scoped per caller", async () => {
    const { app } = ctx();
    const [one, two] = [await makeShop(app), await makeShop(app)];
    const headers = { "idempotency-key": "shared-key" };
    const first = await request(app, one, { method: "POST", url: "/v1/products", headers, payload: { sku: "S", name: "x" } });
    const second = await request(app, two, { method: "POST", url: "/v1/products", headers, payload: { sku: "S", name: "x" } });
    expect(second.statusCode).toBe(201);
    expect(second.json().id).not.toBe(first.json().id);
  });

  it("concurrent retries create one resource", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        request(app, shop, {
          method: "POST",
          url: "/v1/experts",
          headers: { "idempotency-key": "race" },
          payload: { phone: "+14155552671", name: "Racer", timeZone: "UTC" },
        }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
    const created = responses.filter((response) => response.statusCode === 201).map((response) => response.json().id);
    expect(new Set(created).size).toBe(1);
    // A 409 here may only mean "the first attempt is still running", never a phone-taken conflict.
    for (const busy of responses.filter((response) => response.statusCode === 409)) {
      expect(busy.json()).toMatchObject({ type: "urn:expertline:problem:idempotency-key-in-use", status: 409 });
      expect(busy.headers["retry-after"]).toBe("1");
    }
    expect(await deps.prisma.expert.count({ where: { shopId: shop.id } })).toBe(1);
  });

  it("works for admin routes", async () => {
    const { app, deps } = ctx();
    const send = () =>
      app.inject({
        method: "POST",
        url: "/v1/admin/phone-numbers",
        headers: { ...adminHeaders, "idempotency-key": "admin-register" },
        payload: { e164: "+14155550142", purpose: "proxy" },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(await deps.prisma.phoneNumber.count({ where: { e164: "+14155550142" } })).toBe(1);
  });

  it("a malformed key is 400", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/products",
      headers: { "idempotency-key": "x".repeat(300) },
      payload: { sku: "K", name: "x" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].path).toBe("headers.idempotency-key");
  });

  it("a retry while the first attempt is running is 409; after a crashed attempt it takes over", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const payload = { sku: "C1", name: "x" };
    const inFlight = (key: string, ageMs: number) =>
      deps.prisma.idempotencyRecord.create({
        data: {
          scope: `shop:${shop.id}`,
          key,
          method: "POST",
          path: "/v1/products",
          requestHash: requestFingerprint("POST", "/v1/products", payload),
          createdAt: new Date(Date.now() - ageMs),
        },
      });
    const send = (key: string) =>
      request(app, shop, { method: "POST", url: "/v1/products", headers: { "idempotency-key": key }, payload });

    await inFlight("running", 1_000);
    const busy = await send("running");
    expect(busy.statusCode).toBe(409);
    expect(busy.headers["retry-after"]).toBe("1");
    expect(busy.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(busy.json()).toMatchObject({ type: "urn:expertline:problem:idempotency-key-in-use", status: 409 });
    expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(0);

    await inFlight("crashed", 10 * 60_000);
    const retry = await send("crashed");
    expect(retry.statusCode).toBe(201);
    expect((await send("crashed")).body).toBe(retry.body);
    expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(1);
  });
});

describe("Idempotency-Key on routes that issue a secret", () => {
  interface Problem {
    type: string;
    status: number;
    created?: Record<string, string>;
  }

  it("POST /v1/admin/shops: the key is never stored; a repeat is a 409 naming what was created", async () => {
    const { app, deps, schema } = ctx();
    const send = () =>
      app.inject({
        method: "POST",
        url: "/v1/admin/shops",
        headers: { ...adminHeaders, "idempotency-key": "admin-create" },
        payload: { name: "Once Only" },
      });
    const first = await send();
    expect(first.statusCode).toBe(201);
    const { shop, apiKey } = first.json<{ shop: { id: string }; apiKey: { id: string; prefix: string; key: string } }>();

    expect(await columnsContaining(deps.sql, schema, apiKey.key.slice(-32))).toEqual([]);
    // The scan reads every table: the visible prefix is found, and kept with the record.
    expect(await columnsContaining(deps.sql, schema, apiKey.prefix)).toEqual(["ApiKey.prefix", "IdempotencyRecord.body"]);

    const second = await send();
    expect(second.statusCode).toBe(409);
    expect(second.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(second.json<Problem>()).toMatchObject({
      type: "urn:expertline:problem:idempotent-secret-not-replayable",
      status: 409,
      created: { shopId: shop.id, apiKeyId: apiKey.id, prefix: apiKey.prefix },
    });
    expect(second.body).not.toContain(apiKey.key.slice(-32));
    expect(await deps.prisma.shop.count({ where: { name: "Once Only" } })).toBe(1);
  });

  it("POST /v1/api-keys: the key is never stored; a repeat is a 409 naming what was created", async () => {
    const { app, deps, schema } = ctx();
    const shop = await makeShop(app);
    const send = () =>
      request(app, shop, { method: "POST", url: "/v1/api-keys", headers: { "idempotency-key": "new-key" }, payload: { name: "ci" } });
    const first = await send();
    expect(first.statusCode).toBe(201);
    const issued = first.json<{ id: string; prefix: string; key: string }>();
    expect(await columnsContaining(deps.sql, schema, issued.key.slice(-32))).toEqual([]);

    const second = await send();
    expect(second.statusCode).toBe(409);
    expect(second.json<Problem>()).toMatchObject({
      type: "urn:expertline:problem:idempotent-secret-not-replayable",
      status: 409,
      created: { apiKeyId: issued.id, prefix: issued.prefix },
    });
    expect(second.body).not.toContain(issued.key.slice(-32));
    expect(await deps.prisma.apiKey.count({ where: { shopId: shop.id } })).toBe(2);
    // The same key with another body is still a 422, not a hint about the first request.
    const other = await request(app, shop, { method: "POST", url: "/v1/api-keys", headers: { "idempotency-key": "new-key" }, payload: { name: "cd" } });
    expect(other.json<Problem>()).toMatchObject({ type: "urn:expertline:problem:idempotency-key-reused", status: 422 });
  });

  it("an error answer of a secret-issuing route is replayed as usual (it carries no secret)", async () => {
    const { app } = ctx();
    await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Taken", slug: "taken-slug" } });
    const send = () =>
      app.inject({
        method: "POST",
        url: "/v1/admin/shops",
        headers: { ...adminHeaders, "idempotency-key": "taken" },
        payload: { name: "Taken", slug: "taken-slug" },
      });
    const first = await send();
    const second = await send();
    expect(first.json<Problem>()).toMatchObject({ type: "urn:expertline:problem:slug-taken", status: 409 });
    expect(second.body).toBe(first.body);
    expect(second.headers["idempotent-replayed"]).toBe("true");
  });
});
