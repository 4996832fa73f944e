/**
 * phoneCountry says how to read a national-format phone; without a phone in
 * the same request it means nothing, so it is refused instead of a 200 that
 * changes nothing.
 */
import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeExpert, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

describe("PATCH /v1/experts/:id with phoneCountry", () => {
  it("phoneCountry alone is a 400 naming the field, and nothing changes", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const before = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });

    const response = await request(app, shop, { method: "PATCH", url: `/v1/experts/${expert.id}`, payload: { phoneCountry: "US" } });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: "urn:expertline:problem:validation-error",
      errors: [expect.objectContaining({ path: "body.phoneCountry", message: expect.stringContaining("send phone too") })],
    });
    const after = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(after.updatedAt).toEqual(before.updatedAt);
  });

  it("phoneCountry with a national phone is read as that country's number", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const response = await request(app, shop, {
      method: "PATCH",
      url: `/v1/experts/${expert.id}`,
      payload: { phone: "(415) 555-2671", phoneCountry: "US" },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ phone: "+14155552671" });
  });
});
