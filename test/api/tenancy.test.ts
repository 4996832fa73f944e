/**
 * A shop sees only its own data: for every resource, another shop's id
 * answers exactly like an id that does not exist, for every verb, and
 * nothing of the other shop's changes.
 */
import type { InjectOptions } from "fastify";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeExpert, makePool, makeProduct, makeShop, request, type TestShop } from "../helpers/factories.js";

const ctx = useTestContext();
const MISSING = "01900000-0000-7000-8000-000000000000";

let owner: TestShop;
let intruder: TestShop;
const ids: Record<string, string> = {};

beforeAll(async () => {
  const { app } = ctx();
  owner = await makeShop(app, "Owner");
  intruder = await makeShop(app, "Intruder");
  ids.product = (await makeProduct(app, owner)).id;
  ids.pool = (await makePool(app, owner)).id;
  ids.expert = (await makeExpert(app, owner)).id;
  ids.intruderExpert = (await makeExpert(app, intruder)).id;
  await request(app, owner, { method: "POST", url: `/v1/pools/${ids.pool}/members`, payload: { expertId: ids.expert } });
  await request(app, owner, { method: "POST", url: "/v1/api-keys", payload: { name: "second" } });
  const keys = await request(app, owner, { method: "GET", url: "/v1/api-keys" });
  ids.apiKey = keys.json().data[0].id;
});

type Probe = (id: string) => InjectOptions;

const probes: Record<string, Probe> = {
  "GET product": (id) => ({ method: "GET", url: `/v1/products/${id}` }),
  "PATCH product": (id) => ({ method: "PATCH", url: `/v1/products/${id}`, payload: { name: "pwned" } }),
  "DELETE product": (id) => ({ method: "DELETE", url: `/v1/products/${id}` }),
  "GET pool": (id) => ({ method: "GET", url: `/v1/pools/${id}` }),
  "PATCH pool": (id) => ({ method: "PATCH", url: `/v1/pools/${id}`, payload: { name: "pwned" } }),
  "DELETE pool": (id) => ({ method: "DELETE", url: `/v1/pools/${id}` }),
  "GET pool members": (id) => ({ method: "GET", url: `/v1/pools/${id}/members` }),
  "POST pool member": (id) => ({ method: "POST", url: `/v1/pools/${id}/members`, payload: { expertId: ids.intruderExpert } }),
  "DELETE pool member": (id) => ({ method: "DELETE", url: `/v1/pools/${id}/members/${ids.expert}` }),
  "GET expert": (id) => ({ method: "GET", url: `/v1/experts/${id}` }),
  "PATCH expert": (id) => ({ method: "PATCH", url: `/v1/experts/${id}`, payload: { name: "pwned" } }),
  "DELETE expert": (id) => ({ method: "DELETE", url: `/v1/experts/${id}` }),
  "suspend expert": (id) => ({ method: "POST", url: `/v1/experts/${id}/suspend` }),
  "reinstate expert": (id) => ({ method: "POST", url: `/v1/experts/${id}/reinstate` }),
  "revoke API key": (id) => ({ method: "DELETE", url: `/v1/api-keys/${id}` }),
};

const targetOf: Record<string, string> = {
  product: "product",
  pool: "pool",
  "pool members": "pool",
  "pool member": "pool",
  expert: "expert",
  "API key": "apiKey",
};

function idFor(name: string): string {
  const noun = Object.keys(targetOf).find((key) => name.endsWith(key));
  const id = noun ? ids[targetOf[noun] ?? ""] : undefined;
  if (!id) throw new Error(`no id for ${name}`);
  return id;
}

describe("tenant isolation", () => {
  it.each(Object.keys(probes))("%s with another shop's id is a 404 identical to a missing id", async (name) => {
    const { app } = ctx();
    const probe = probes[name];
    if (!probe) throw new Error(name);
    const foreign = await request(app, intruder, probe(idFor(name)));
    const missing = await request(app, intruder, probe(MISSING));
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(missing.statusCode).toBe(404);
    const strip = (body: string) => {
      const { requestId: _r, instance: _i, ...rest } = JSON.parse(body) as Record<string, unknown>;
      return rest;
    };
    expect(strip(foreign.body)).toEqual(strip(missing.body));
  });

  it("lists show only the caller's rows", async () => {
    const { app } = ctx();
    for (const url of ["/v1/products", "/v1/pools", "/v1/experts", "/v1/api-keys", "/v1/tags"]) {
      const mine = await request(app, intruder, { method: "GET", url });
      const rows = mine.json().data as { id: string }[];
      expect(rows.map((row) => row.id)).not.toContain(ids.product);
      expect(rows.map((row) => row.id)).not.toContain(ids.pool);
      expect(rows.map((row) => row.id)).not.toContain(ids.expert);
      expect(rows.map((row) => row.id)).not.toContain(ids.apiKey);
    }
    const filtered = await request(app, intruder, { method: "GET", url: `/v1/experts?poolId=${ids.pool}` });
    expect(filtered.json().data).toEqual([]);
    const byProduct = await request(app, intruder, { method: "GET", url: `/v1/pools?productId=${ids.product}` });
    expect(byProduct.json().data).toEqual([]);
  });

  it("after every probe, the owner's data is untouched", async () => {
    const { app } = ctx();
    const product = await request(app, owner, { method: "GET", url: `/v1/products/${ids.product}` });
    expect(product.statusCode).toBe(200);
    expect(product.json().name).not.toBe("pwned");
    const pool = await request(app, owner, { method: "GET", url: `/v1/pools/${ids.pool}` });
    expect(pool.json()).toMatchObject({ memberCount: 1 });
    expect(pool.json().name).not.toBe("pwned");
    const expert = await request(app, owner, { method: "GET", url: `/v1/experts/${ids.expert}` });
    expect(expert.json()).toMatchObject({ status: "invited" });
    expect(expert.json().name).not.toBe("pwned");
    const keys = await request(app, owner, { method: "GET", url: "/v1/api-keys" });
    expect(keys.json().data.every((key: { revokedAt: string | null }) => key.revokedAt === null)).toBe(true);
  });
});
