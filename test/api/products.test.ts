import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeProduct, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

describe("/v1/products", () => {
  it("creates, reads, updates and deletes a product", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const created = await request(app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "KETTLE-10G", name: "10 gallon kettle", tags: ["Equipment", "all-grain", "equipment"] },
    });
    expect(created.statusCode).toBe(201);
    const product = created.json();
    expect(product).toMatchObject({ sku: "KETTLE-10G", description: "", tags: ["all-grain", "equipment"] });

    const read = await request(app, shop, { method: "GET", url: `/v1/products/${product.id}` });
    expect(read.json()).toEqual(product);

    const patched = await request(app, shop, {
      method: "PATCH",
      url: `/v1/products/${product.id}`,
      payload: { description: "Stainless, with ball valve", tags: ["mash"] },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ sku: "KETTLE-10G", description: "Stainless, with ball valve", tags: ["mash"] });

    const removed = await request(app, shop, { method: "DELETE", url: `/v1/products/${product.id}` });
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe("");
    expect((await request(app, shop, { method: "GET", url: `/v1/products/${product.id}` })).statusCode).toBe(404);
    expect((await request(app, shop, { method: "DELETE", url: `/v1/products/${product.id}` })).statusCode).toBe(404);
  });

  it("registers the tags it uses in the shop's vocabulary", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    await makeProduct(app, shop, { tags: ["hops", "mash-ph"] });
    const tags = await request(app, shop, { method: "GET", url: "/v1/tags" });
    expect(tags.json().data.map((tag: { slug: string }) => tag.slug).sort()).toEqual(["hops", "mash-ph"]);

    const renamed = await request(app, shop, { method: "PUT", url: "/v1/tags/mash-ph", payload: { label: "Mash pH" } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ slug: "mash-ph", label: "Mash pH" });
  });

  it("keeps skus unique per shop, not across shops", async () => {
    const { app } = ctx();
    const [first, second] = [await makeShop(app), await makeShop(app)];
    await makeProduct(app, first, { sku: "SAME" });
    await makeProduct(app, second, { sku: "SAME" });
    const duplicate = await request(app, first, { method: "POST", url: "/v1/products", payload: { sku: "SAME", name: "x" } });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: "sku-taken" });

    const other = await makeProduct(app, first, { sku: "OTHER" });
    const rename = await request(app, first, { method: "PATCH", url: `/v1/products/${other.id}`, payload: { sku: "SAME" } });
    expect(rename.statusCode).toBe(409);
    const unchanged = await request(app, first, { method: "GET", url: `/v1/products/${other.id}` });
    expect(unchanged.json().sku).toBe("OTHER");
  });

  it("filters by tag and sku and pages", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    for (let index = 0; index < 3; index++) await makeProduct(app, shop, { tags: ["hops"] });
    await makeProduct(app, shop, { sku: "YEAST-1", tags: ["yeast"] });

    const hops = await request(app, shop, { method: "GET", url: "/v1/products?tag=hops&limit=2" });
    expect(hops.json().data).toHaveLength(2);
    const rest = await request(app, shop, { method: "GET", url: `/v1/products?tag=hops&limit=2&cursor=${hops.json().nextCursor}` });
    expect(rest.json()).toMatchObject({ nextCursor: null });
    expect(rest.json().data).toHaveLength(1);

    const bySku = await request(app, shop, { method: "GET", url: "/v1/products?sku=YEAST-1" });
    expect(bySku.json().data.map((product: { sku: string }) => product.sku)).toEqual(["YEAST-1"]);
  });

  it("refuses an empty update and invalid fields", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const product = await makeProduct(app, shop);
    const empty = await request(app, shop, { method: "PATCH", url: `/v1/products/${product.id}`, payload: {} });
    expect(empty.statusCode).toBe(400);
    const bad = await request(app, shop, { method: "POST", url: "/v1/products", payload: { sku: "has space", name: "x", tags: "hops" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.sku", "body.tags"]);
  });
});
