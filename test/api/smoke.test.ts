import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeShop } from "../helpers/factories.js";

const ctx = useTestContext();

describe("smoke", () => {
  it("creates a shop and reads it back with its key", async () => {
    const { app } = ctx();
    const shop = await makeShop(app, "Brew Barn");
    const response = await app.inject({ method: "GET", url: "/v1/shop", headers: shop.headers });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: shop.id, name: "Brew Barn", slug: "brew-barn" });
  });
});
