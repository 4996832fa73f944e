/** Product aliases (what customers call it in texts) and the expert noun (who answers, as the customer hears it). */
import { describe, expect, it } from "vitest";
import { matchProductInText } from "../../src/modules/questions/product-match.js";
import { useTestContext } from "../helpers/context.js";
import { makeProduct, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();
const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((error) => error.path).sort();

describe("product aliases and expert noun", () => {
  it("default to none, are set on create and changed or cleared on update", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const plain = await makeProduct(app, shop);
    expect(plain).toMatchObject({ aliases: [], expertNoun: null });

    const created = await request(app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "GF-G30", name: "Grainfather G30", aliases: [" G30 ", "the Grainfather"], expertNoun: " Grainfather brewer " },
    });
    expect(created.statusCode, created.body).toBe(201);
    const product = created.json();
    expect(product).toMatchObject({ aliases: ["G30", "the Grainfather"], expertNoun: "Grainfather brewer" });
    expect((await request(app, shop, { method: "GET", url: `/v1/products/${product.id}` })).json()).toEqual(product);

    const renamed = await request(app, shop, { method: "PATCH", url: `/v1/products/${product.id}`, payload: { aliases: ["G-30"] } });
    expect(renamed.json()).toMatchObject({ aliases: ["G-30"], expertNoun: "Grainfather brewer" });
    const cleared = await request(app, shop, {
      method: "PATCH",
      url: `/v1/products/${product.id}`,
      payload: { expertNoun: null, aliases: [] },
    });
    expect(cleared.json()).toMatchObject({ aliases: [], expertNoun: null, name: "Grainfather G30" });
  });

  it("drops aliases the matcher would read as the same words, keeping the first spelling", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const product = await makeProduct(app, shop, { aliases: ["G30", "g30", "G 30", "g-30", "Crème", "creme", "G30s"] });
    expect(product).toMatchObject({ aliases: ["G30", "G 30", "Crème", "G30s"] });
  });

  it("validates each alias and the noun", async () => {
    const shop = await makeShop(ctx().app);
    const bad = await request(ctx().app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "X-1", name: "x", aliases: ["ok", " ", "x".repeat(61), "!!!", 7], expertNoun: "" },
    });
    expect(bad.statusCode).toBe(400);
    expect(paths(bad.json())).toEqual(["body.aliases.1", "body.aliases.2", "body.aliases.3", "body.aliases.4", "body.expertNoun"]);
    expect(bad.json().errors.find((error: { path: string }) => error.path === "body.aliases.3").message).toContain("letter or digit");

    const tooMany = await request(ctx().app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "X-2", name: "x", aliases: Array.from({ length: 21 }, (_, index) => `a${index}`), expertNoun: "y".repeat(61) },
    });
    expect(paths(tooMany.json())).toEqual(["body.aliases", "body.expertNoun"]);
    const nul = await request(ctx().app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "X-3", name: "x", aliases: ["a\u0000b"] },
    });
    expect(paths(nul.json())).toEqual(["body.aliases.0"]);
    const atTheLimits = await request(ctx().app, shop, {
      method: "POST",
      url: "/v1/products",
      payload: { sku: "X-4", name: "x", aliases: Array.from({ length: 20 }, (_, index) => `a${index}`), expertNoun: "z".repeat(60) },
    });
    expect(atTheLimits.statusCode).toBe(201);
  });

  it("what the API stores is what the SMS matcher reads", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const g30 = await makeProduct(app, shop, { name: "Grainfather G30", aliases: ["G30"] });
    await makeProduct(app, shop, { name: "Brew Kettle", aliases: ["kettle"] });
    const products = await deps.prisma.product.findMany({
      where: { shopId: shop.id },
      select: { id: true, name: true, aliases: true },
    });
    expect(matchProductInText("my G30's pump stopped", products)).toBe(g30.id);
    expect(matchProductInText("G30 or kettle?", products)).toBeNull();
  });
});
