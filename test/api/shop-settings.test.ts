/**
 * The shop's own settings (PATCH /v1/shop: name, frame ancestors) and the
 * admin's (PATCH /v1/admin/shops/:id: SMS pumping guard, country, status),
 * and how both show in the shop views.
 */
import { describe, expect, it } from "vitest";
import { normaliseFrameAncestor, updateShopBody } from "../../src/modules/shops/schemas.js";
import { admitCustomerNumber } from "../../src/modules/questions/sms-guards.js";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeShop, nextPhone, request, type TestShop } from "../helpers/factories.js";

const ctx = useTestContext();

const patchShop = (shop: TestShop, payload: object) => request(ctx().app, shop, { method: "PATCH", url: "/v1/shop", payload });
const getShop = (shop: TestShop) => request(ctx().app, shop, { method: "GET", url: "/v1/shop" });
const createShop = (payload: object) => ctx().app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload });
const adminPatch = (id: string, payload: object, headers: Record<string, string> = adminHeaders) =>
  ctx().app.inject({ method: "PATCH", url: `/v1/admin/shops/${id}`, headers, payload });
const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((error) => error.path).sort();

describe("shop views", () => {
  it("show the guard's settings with their defaults: own country, 200 new numbers a day, no framing", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const own = await getShop(shop);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ country: "US", smsCountries: ["US"], dailyNewCustomerCap: 200, frameAncestors: [] });

    const asAdmin = await app.inject({ method: "GET", url: `/v1/admin/shops/${shop.id}`, headers: adminHeaders });
    expect(asAdmin.json()).toEqual(own.json());
    const listed = await app.inject({ method: "GET", url: "/v1/admin/shops?limit=100", headers: adminHeaders });
    expect(listed.json().data.find((row: { id: string }) => row.id === shop.id)).toEqual(own.json());
  });

  it("the admin creates a shop in its country", async () => {
    const created = await createShop({ name: "Brew UK", country: "gb" });
    expect(created.statusCode).toBe(201);
    expect(created.json().shop).toMatchObject({ country: "GB", smsCountries: ["GB"] });
    const bad = await createShop({ name: "Brew UK", country: "UK" });
    expect(bad.statusCode).toBe(400);
    expect(paths(bad.json())).toEqual(["body.country"]);
  });

  it("an unknown shop is 404 to the admin", async () => {
    const id = "0196a000-0000-7000-8000-000000000000";
    expect((await ctx().app.inject({ method: "GET", url: `/v1/admin/shops/${id}`, headers: adminHeaders })).statusCode).toBe(404);
    expect((await adminPatch(id, { dailyNewCustomerCap: 5 })).statusCode).toBe(404);
  });
});

describe("PATCH /v1/shop", () => {
  it("renames the shop and sets the origins that may frame its status pages, normalised", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await patchShop(shop, {
      name: "  Brew Barn  ",
      frameAncestors: [
        "https://BrewBarn.example:443/",
        "https://brewbarn.example",
        "http://localhost:5173",
        "https://bücher.example:8443",
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      name: "Brew Barn",
      frameAncestors: ["https://brewbarn.example", "http://localhost:5173", "https://xn--bcher-kva.example:8443"],
    });
    expect((await getShop(shop)).json()).toEqual(response.json());

    const cleared = await patchShop(shop, { frameAncestors: [] });
    expect(cleared.json()).toMatchObject({ name: "Brew Barn", frameAncestors: [] });
  });

  it("names each refused origin by its index", async () => {
    const shop = await makeShop(ctx().app);
    const response = await patchShop(shop, {
      frameAncestors: [
        "https://ok.example",
        "http://brewbarn.example",
        "https://brewbarn.example/embed",
        "https://*.brewbarn.example",
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(response.json().errors).toEqual([
      expect.objectContaining({ path: "body.frameAncestors.1", message: "must use https (http only for localhost and 127.0.0.1)" }),
      expect.objectContaining({ path: "body.frameAncestors.2", message: expect.stringContaining("origin only") }),
      expect.objectContaining({ path: "body.frameAncestors.3", message: expect.stringContaining("wildcards are not accepted") }),
    ]);
    expect((await getShop(shop)).json().frameAncestors).toEqual([]);
  });

  it("takes at most 10 origins and at least one field, and refuses the admin's settings", async () => {
    const shop = await makeShop(ctx().app);
    const eleven = Array.from({ length: 11 }, (_, index) => `https://s${index}.example`);
    const tooMany = await patchShop(shop, { frameAncestors: eleven });
    expect(tooMany.statusCode).toBe(400);
    expect(paths(tooMany.json())).toEqual(["body.frameAncestors"]);
    expect((await patchShop(shop, { frameAncestors: eleven.slice(0, 10) })).statusCode).toBe(200);

    expect((await patchShop(shop, {})).statusCode).toBe(400);
    expect(paths((await patchShop(shop, { name: " " })).json())).toEqual(["body.name"]);

    const raise = await patchShop(shop, { name: "Sneaky", dailyNewCustomerCap: 100_000, smsCountries: ["JM"] });
    expect(raise.statusCode).toBe(400);
    expect(raise.json().code).toBe("validation-error");
    const after = (await getShop(shop)).json();
    expect(after).toMatchObject({ dailyNewCustomerCap: 200, smsCountries: ["US"] });
    expect(after.name).not.toBe("Sneaky");
  });
});

describe("frame ancestor origins", () => {
  it.each([
    ["https://brewbarn.example", "https://brewbarn.example"],
    ["https://BREWBARN.example/", "https://brewbarn.example"],
    ["https://shop.brewbarn.example:444", "https://shop.brewbarn.example:444"],
    ["https://brewbarn.example:443", "https://brewbarn.example"],
    ["http://localhost", "http://localhost"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
    ["https://localhost:3000", "https://localhost:3000"],
    ["https://münchen.example", "https://xn--mnchen-3ya.example"],
  ])("%s -> %s", (input, origin) => {
    expect(normaliseFrameAncestor(input)).toEqual({ origin });
  });

  it.each([
    ["http://brewbarn.example", "must use https"],
    ["ftp://brewbarn.example", "must use https"],
    ["javascript:alert(1)", "must use https"],
    ["http://localhost.evil.example", "must use https"],
    ["https://brewbarn.example/embed", "origin only"],
    ["https://brewbarn.example?x=1", "origin only"],
    ["https://brewbarn.example/?", "origin only"],
    ["https://brewbarn.example#top", "origin only"],
    ["https://*.brewbarn.example", "wildcards"],
    ["*", "wildcards"],
    ["https://user:pass@brewbarn.example", "user name or password"],
    ["https://brewbarn.example.", "must name a host"],
    ["https://intranet", "must name a host"],
    ["https://[::1]", "must name a host"],
    ["https://brew_barn.example", "must name a host"],
    ["https://-brewbarn.example", "must name a host"],
    ["https://brewbarn.example;script-src", "must name a host"],
    ["brewbarn.example", "must be an origin"],
    ["https://", "must be an origin"],
    ["'self'", "must be an origin"],
  ])("%s is refused (%s)", (input, message) => {
    const result = normaliseFrameAncestor(input);
    expect(result).toEqual({ error: expect.stringContaining(message) });
  });

  it("drops repeats after normalising", () => {
    const parsed = updateShopBody.parse({ frameAncestors: ["https://a.example", "https://A.example:443/", "https://b.example"] });
    expect(parsed.frameAncestors).toEqual(["https://a.example", "https://b.example"]);
  });
});

describe("PATCH /v1/admin/shops/:id", () => {
  it("sets the pumping guard's settings; [] returns to the shop's own country", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await adminPatch(shop.id, { dailyNewCustomerCap: 5000, smsCountries: ["ca", "US", "CA"] });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ id: shop.id, dailyNewCustomerCap: 5000, smsCountries: ["CA", "US"], country: "US" });
    expect((await getShop(shop)).json()).toMatchObject({ smsCountries: ["CA", "US"] });

    const moved = await adminPatch(shop.id, { country: "gb", smsCountries: [] });
    expect(moved.json()).toMatchObject({ country: "GB", smsCountries: ["GB"], dailyNewCustomerCap: 5000 });
    const stored = await ctx().deps.prisma.shop.findUniqueOrThrow({ where: { id: shop.id } });
    expect(stored.smsCountries).toEqual([]);
  });

  it("a raised cap admits new numbers the same day", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    await adminPatch(shop.id, { dailyNewCustomerCap: 0 });
    const admit = async () => {
      const cap = (await getShop(shop)).json<{ dailyNewCustomerCap: number }>().dailyNewCustomerCap;
      return deps.prisma.$transaction((tx) =>
        admitCustomerNumber(tx, { shopId: shop.id, phone: nextPhone(), cap, now: new Date() }),
      );
    };
    expect(await admit()).toBe(false);
    await adminPatch(shop.id, { dailyNewCustomerCap: 1 });
    expect(await admit()).toBe(true);
    expect(await admit()).toBe(false);
  });

  it("suspends and reinstates a shop", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    expect((await adminPatch(shop.id, { status: "suspended" })).json()).toMatchObject({ status: "suspended" });
    const refused = await getShop(shop);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("shop-suspended");
    await adminPatch(shop.id, { status: "active" });
    expect((await getShop(shop)).statusCode).toBe(200);
  });

  it("is for the admin only: a shop key, even for its own shop, is refused", async () => {
    const shop = await makeShop(ctx().app);
    const response = await adminPatch(shop.id, { dailyNewCustomerCap: 1_000_000 }, shop.headers);
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe("unauthorized");
    expect((await adminPatch(shop.id, { dailyNewCustomerCap: 1 }, {})).statusCode).toBe(401);
    expect((await getShop(shop)).json().dailyNewCustomerCap).toBe(200);
  });

  it("validates each field", async () => {
    const shop = await makeShop(ctx().app);
    const bad = await adminPatch(shop.id, {
      dailyNewCustomerCap: 1.5,
      smsCountries: ["US", "UK", "usa"],
      country: "XX",
      status: "closed",
    });
    expect(bad.statusCode).toBe(400);
    expect(paths(bad.json())).toEqual([
      "body.country",
      "body.dailyNewCustomerCap",
      "body.smsCountries.1",
      "body.smsCountries.2",
      "body.status",
    ]);
    expect(paths((await adminPatch(shop.id, { dailyNewCustomerCap: -1 })).json())).toEqual(["body.dailyNewCustomerCap"]);
    expect(paths((await adminPatch(shop.id, { dailyNewCustomerCap: 1_000_001 })).json())).toEqual(["body.dailyNewCustomerCap"]);
    expect((await adminPatch(shop.id, { dailyNewCustomerCap: 1_000_000 })).statusCode).toBe(200);
    expect((await adminPatch(shop.id, {})).statusCode).toBe(400);
    expect((await adminPatch(shop.id, { frameAncestors: ["https://a.example"] })).statusCode).toBe(400);
    const badId = await adminPatch("nope", { status: "active" });
    expect(paths(badId.json())).toEqual(["params.id"]);
  });
});
