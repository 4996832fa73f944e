/**
 * PostgreSQL text cannot hold U+0000. A NUL in any free-text field, body or
 * query string, is a 400 naming the field, and nothing is written; a NUL that
 * slips past the schemas is still a 400, not a 500.
 */
import { describe, expect, it } from "vitest";
import { toProblem } from "../../src/plugins/errors.js";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeExpert, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();
const NUL = "\u0000";

interface Problem {
  code: string;
  errors?: { path: string; message: string }[];
}

function expectNulRejected(response: { statusCode: number; headers: Record<string, unknown>; body: string }, path: string) {
  expect(response.statusCode, response.body).toBe(400);
  expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(response.body) as Problem;
  expect(body.code).toBe("validation-error");
  expect(body.errors).toContainEqual(expect.objectContaining({ path, message: expect.stringContaining("NUL") }));
}

describe("a NUL character in free text", () => {
  it("shop name: 400, no shop created", async () => {
    const { app, deps } = ctx();
    const before = await deps.prisma.shop.count();
    const response = await app.inject({
      method: "POST",
      url: "/v1/admin/shops",
      headers: adminHeaders,
      payload: { name: `Brew${NUL}Barn`, slug: "nul-shop" },
    });
    expectNulRejected(response, "body.name");
    expect(await deps.prisma.shop.count()).toBe(before);
  });

  it("API-key name: 400, no key created", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, { method: "POST", url: "/v1/api-keys", payload: { name: `ci${NUL}` } });
    expectNulRejected(response, "body.name");
    expect(await deps.prisma.apiKey.count({ where: { shopId: shop.id } })).toBe(1);
  });

  it("product name and description: 400, no product created or changed", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const created = await request(app, shop, { method: "POST", url: "/v1/products", payload: { sku: "K1", name: `Ket${NUL}tle` } });
    expectNulRejected(created, "body.name");
    const described = await request(app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "K1", name: "Kettle", description: `a${NUL}b` },
    });
    expectNulRejected(described, "body.description");
    expect(await deps.prisma.product.count({ where: { shopId: shop.id } })).toBe(0);

    const product = (await request(app, shop, { method: "POST", url: "/v1/products", payload: { sku: "K2", name: "Kettle" } })).json<{ id: string }>();
    const renamed = await request(app, shop, { method: "PATCH", url: `/v1/products/${product.id}`, payload: { name: `x${NUL}` } });
    expectNulRejected(renamed, "body.name");
    expect((await deps.prisma.product.findUniqueOrThrow({ where: { id: product.id } })).name).toBe("Kettle");
  });

  it("?sku= in a product search: 400", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    expectNulRejected(await request(app, shop, { method: "GET", url: "/v1/products?sku=a%00b" }), "querystring.sku");
  });

  it("tag label and description: 400, no tag created", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    expectNulRejected(await request(app, shop, { method: "PUT", url: "/v1/tags/brewing", payload: { label: `Brew${NUL}` } }), "body.label");
    expectNulRejected(
      await request(app, shop, { method: "PUT", url: "/v1/tags/brewing", payload: { label: "Brewing", description: NUL } }),
      "body.description",
    );
    expect(await deps.prisma.skillTag.count({ where: { shopId: shop.id } })).toBe(0);
  });

  it("expert name, on create and on change: 400, nothing written", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const created = await request(app, shop, {
      method: "POST",
      url: "/v1/experts",
      payload: { phone: "+14155552671", name: `Dan${NUL}`, timeZone: "UTC" },
    });
    expectNulRejected(created, "body.name");
    expect(await deps.prisma.expert.count({ where: { shopId: shop.id } })).toBe(0);

    const expert = await makeExpert(app, shop);
    const renamed = await request(app, shop, { method: "PATCH", url: `/v1/experts/${expert.id}`, payload: { name: `D${NUL}` } });
    expectNulRejected(renamed, "body.name");
    expect((await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } })).name).toBe("Dan Brewer");
  });

  it("pool name: 400, no pool created", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/pools",
      payload: { name: `Pool${NUL}`, pricing: { mode: "per_session", amountMinor: 100, platformFeeBps: 100 } },
    });
    expectNulRejected(response, "body.name");
    expect(await deps.prisma.pool.count({ where: { shopId: shop.id } })).toBe(0);
  });

  it("a NUL that reaches PostgreSQL (22021 in text, 22P05 in jsonb) is a 400 problem, not a 500", async () => {
    const { deps } = ctx();
    const failures = await Promise.all([
      deps.prisma.$queryRaw`SELECT ${`a${NUL}b`}::text`.catch((error: unknown) => error),
      deps.prisma.$queryRaw`SELECT ${JSON.stringify({ a: NUL })}::jsonb`.catch((error: unknown) => error),
      deps.sql.query("SELECT $1::text", [`a${NUL}b`]).catch((error: unknown) => error),
    ]);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(Error);
      expect(toProblem(failure as Error)).toMatchObject({ body: { status: 400, code: "invalid-text" }, serverFault: false });
    }
  });
});
