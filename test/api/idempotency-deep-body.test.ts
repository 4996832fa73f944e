/**
 * The Idempotency-Key fingerprint reads the raw body before validation, so
 * it must survive any body the parser accepts: one nested tens of thousands
 * deep fits well within the body limit. It is a 400 problem, as it is
 * without the key, never a 500, and leaves no idempotency record behind.
 */
import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

const deepArray = "[".repeat(30_000) + "]".repeat(30_000);
const deepObject = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);

describe("Idempotency-Key with a deeply nested body", () => {
  for (const [slug, shape, payload] of [
    ["array", "array", deepArray],
    ["object", "object", deepObject],
    ["field", "array under a valid field", `{"sku":"DEEP","name":"x","tags":${deepArray}}`],
  ] as const) {
    it(`answers 400 problem+json for a deeply nested ${shape}, with or without the key`, async () => {
      const { app, deps } = ctx();
      const shop = await makeShop(app);
      expect(Buffer.byteLength(payload)).toBeLessThan(64 * 1024);
      const send = (headers: Record<string, string>) =>
        request(app, shop, {
          method: "POST",
          url: "/v1/products",
          headers: { "content-type": "application/json", ...headers },
          payload,
        });

      const withKey = await send({ "idempotency-key": `deep-${slug}` });
      expect(withKey.statusCode, withKey.body).toBe(400);
      expect(withKey.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(withKey.json()).toMatchObject({
        status: 400,
        code: "validation-error",
        detail: "The request body is nested deeper than 64 levels",
        errors: [{ path: "body", message: "must not be nested deeper than 64 levels" }],
      });

      const withoutKey = await send({});
      expect(withoutKey.statusCode).toBe(400);
      expect(await deps.prisma.idempotencyRecord.count({ where: { key: `deep-${slug}` } })).toBe(0);
      expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(0);
    });
  }

  it("still accepts and fingerprints an ordinary nested body", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const send = () =>
      request(app, shop, {
        method: "POST",
        url: "/v1/products",
        headers: { "idempotency-key": "shallow" },
        payload: { sku: "SHALLOW", name: "x", tags: ["a", "b"] },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.headers["idempotent-replayed"]).toBe("true");
  });
});
