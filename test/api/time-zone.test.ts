/**
 * Time zones come from callers: a shop key can send any string. The validity
 * cache keeps only valid zones, within a bound, and the API refuses an
 * over-long zone before it is checked at all.
 */
import { describe, expect, it } from "vitest";
import { cachedTimeZoneCount, isValidTimeZone } from "../../src/lib/schedule.js";
import { useTestContext } from "../helpers/context.js";
import { makeExpert, makeShop, request } from "../helpers/factories.js";

const ctx = useTestContext();

describe("time-zone validation", () => {
  it("distinct invalid zones do not grow the cache", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    const before = cachedTimeZoneCount();
    for (let index = 0; index < 5_000; index++) expect(isValidTimeZone(`Nowhere/Zone_${index}`)).toBe(false);
    expect(cachedTimeZoneCount()).toBe(before);
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(cachedTimeZoneCount()).toBe(before);
  });

  it("the cache of valid zones is bounded (Intl accepts every casing of a zone)", () => {
    const zone = "america/argentina/buenos_aires";
    const letters = [...zone].map((char, index) => ({ char, index })).filter(({ char }) => /[a-z]/.test(char));
    for (let variant = 0; variant < 3_000; variant++) {
      const chars = [...zone];
      letters.forEach(({ char, index }, bit) => {
        if ((variant >> bit) & 1) chars[index] = char.toUpperCase();
      });
      expect(isValidTimeZone(chars.join(""))).toBe(true);
    }
    expect(cachedTimeZoneCount()).toBeLessThanOrEqual(1_000);
  });

  it("an over-long zone is a 400 naming the field, on create and on change", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const long = `America/${"X".repeat(100)}`;
    for (const response of [
      await request(app, shop, { method: "POST", url: "/v1/experts", payload: { phone: "+14155552671", name: "Dan", timeZone: long } }),
      await request(app, shop, { method: "PATCH", url: `/v1/experts/${(await makeExpert(app, shop)).id}`, payload: { timeZone: long } }),
    ]) {
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json<{ errors: { path: string }[] }>().errors).toEqual([expect.objectContaining({ path: "body.timeZone" })]);
    }
  });
});
