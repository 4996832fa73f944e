import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeShop } from "../helpers/factories.js";

const ctx = useTestContext();
const post = (payload: Record<string, unknown>, headers: Record<string, string> = adminHeaders) =>
  ctx().app.inject({ method: "POST", url: "/v1/admin/phone-numbers", headers, payload });

describe("/v1/admin/phone-numbers", () => {
  it("registers a shop's expert line and proxy numbers, and lists them", async () => {
    const shop = await makeShop(ctx().app);
    const line = await post({ e164: "+1 (415) 555-0170", purpose: "expert_line", shopId: shop.id });
    expect(line.statusCode).toBe(201);
    expect(line.json()).toMatchObject({ e164: "+14155550170", purpose: "expert_line", shopId: shop.id });
    expect((await post({ e164: "+14155550171", purpose: "proxy" })).statusCode).toBe(201);

    const proxies = await ctx().app.inject({ method: "GET", url: "/v1/admin/phone-numbers?purpose=proxy", headers: adminHeaders });
    expect(proxies.json().data.map((number: { e164: string }) => number.e164)).toEqual(["+14155550171"]);
  });

  it("refuses what cannot be", async () => {
    const shop = await makeShop(ctx().app);
    await post({ e164: "+14155550172", purpose: "expert_line", shopId: shop.id });
    expect((await post({ e164: "+14155550173", purpose: "expert_line" })).json()).toMatchObject({ status: 422, errors: [{ path: "body.shopId" }] });
    expect((await post({ e164: "+14155550174", purpose: "proxy", shopId: shop.id })).statusCode).toBe(422);
    expect((await post({ e164: "+14155550175", purpose: "expert_line", shopId: shop.id })).json()).toMatchObject({ status: 409, code: "expert-line-exists" });
    expect((await post({ e164: "+14155550172", purpose: "proxy" })).json()).toMatchObject({ status: 409, code: "number-registered" });
    expect((await post({ e164: "555-0176", purpose: "proxy" })).json()).toMatchObject({ status: 400, errors: [{ path: "body.e164" }] });
    const huge = await post({ e164: `+1${"4".repeat(40_000)}`, purpose: "proxy" });
    expect(huge.json()).toMatchObject({ status: 400, errors: [{ path: "body.e164", message: "is too long for a phone number" }] });
    const unknownShop = await post({ e164: "+14155550177", purpose: "expert_line", shopId: "01900000-0000-7000-8000-000000000000" });
    expect(unknownShop.statusCode).toBe(422);
    expect((await post({ e164: "+14155550178", purpose: "proxy" }, shop.headers)).statusCode).toBe(401);
  });
});
