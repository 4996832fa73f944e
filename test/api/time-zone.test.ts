/**
 * Time zones come from callers: a shop key can send any string. The validity
 * cache keeps only canonical names of valid zones, the API stores those, and
 * it refuses an over-long zone before it is checked at all.
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

  it("every casing and alias of a zone is one cache entry, so callers cannot grow it", () => {
    const zone = "america/argentina/buenos_aires";
    const letters = [...zone].map((char, index) => ({ char, index })).filter(({ char }) => /[a-z]/.test(char));
    expect(isValidTimeZone("America/Argentina/Buenos_Aires")).toBe(true);
    const before = cachedTimeZoneCount();
    for (let variant = 0; variant < 3_000; variant++) {
      const chars = [...zone];
      letters.forEach(({ char, index }, bit) => {
        if ((variant >> bit) & 1) chars[index] = char.toUpperCase();
      });
      expect(isValidTimeZone(chars.join(""))).toBe(true);
    }
    expect(cachedTimeZoneCount()).toBe(before);
  });

  it("stores the zone's canonical name, whatever spelling was sent", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const created = await request(app, shop, { method: "POST", url: "/v1/experts", payload: { phone: "+14155552672", name: "Ana", timeZone: "america/CHICAGO" } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ timeZone: "America/Chicago" });
    const changed = await request(app, shop, { method: "PATCH", url: `/v1/experts/${created.json<{ id: string }>().id}`, payload: { timeZone: "US/Pacific" } });
    expect(changed.json()).toMatchObject({ timeZone: "America/Los_Angeles" });
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
