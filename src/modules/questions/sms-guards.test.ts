/** The pure parts of the SMS pumping guard; Redis and PostgreSQL parts are in test/questions/sms-guards.test.ts. */
import { describe, expect, it } from "vitest";
import {
  countryOfPhone,
  destinationAllowed,
  isCostlyNumber,
  rateRulesOf,
  refusalError,
  secondsUntilNextUtcDay,
  smsCountriesOf,
  textLimitsOf,
  utcDayOf,
} from "./sms-guards.js";

const SAN_FRANCISCO = "+14155550123";
const TORONTO = "+14165550123";
const JAMAICA = "+18765551234";
const LONDON_MOBILE = "+447400123456";
const JERSEY = "+441534123456";
const FREEPHONE = "+80012345678";

describe("countryOfPhone", () => {
  it.each([
    [SAN_FRANCISCO, "US"],
    [TORONTO, "CA"],
    [JAMAICA, "JM"],
    [LONDON_MOBILE, "GB"],
    [JERSEY, "JE"],
    ["+33612345678", "FR"],
    [FREEPHONE, null],
    ["+1415", null],
    ["not a number", null],
    ["", null],
  ])("%s -> %s", (phone, country) => {
    expect(countryOfPhone(phone)).toBe(country);
  });
});

describe("smsCountriesOf", () => {
  it("is the shop's own country when the list is empty", () => {
    expect(smsCountriesOf({ country: "GB", smsCountries: [] })).toEqual(["GB"]);
  });
  it("is the list when one is set, and a copy of it", () => {
    const smsCountries = ["US", "CA"];
    const effective = smsCountriesOf({ country: "US", smsCountries });
    expect(effective).toEqual(["US", "CA"]);
    effective.push("MX");
    expect(smsCountries).toEqual(["US", "CA"]);
  });
});

describe("destinationAllowed", () => {
  const usShop = { country: "US", smsCountries: [] };
  it.each([
    ["own country", SAN_FRANCISCO, usShop, true],
    ["NANP neighbour by its real region", TORONTO, usShop, false],
    ["NANP Caribbean premium ranges", JAMAICA, usShop, false],
    ["listed neighbour", TORONTO, { country: "US", smsCountries: ["US", "CA"] }, true],
    ["the list replaces the own country", SAN_FRANCISCO, { country: "US", smsCountries: ["CA"] }, false],
    ["Channel Islands are not the UK", JERSEY, { country: "GB", smsCountries: [] }, false],
    ["UK mobile in a UK shop", LONDON_MOBILE, { country: "GB", smsCountries: [] }, true],
    ["no country at all", FREEPHONE, usShop, false],
    ["invalid number", "+1415", usShop, false],
  ])("%s", (_, phone, shop, allowed) => {
    expect(destinationAllowed(phone, shop)).toBe(allowed);
  });
});

describe("utcDayOf / secondsUntilNextUtcDay", () => {
  it.each([
    ["2026-03-05T00:00:00.000Z", "2026-03-05T00:00:00.000Z", "2026-03-06T00:00:00.000Z", 86_400],
    ["2026-03-05T23:59:59.999Z", "2026-03-05T00:00:00.000Z", "2026-03-06T00:00:00.000Z", 1],
    ["2026-03-05T23:59:59.000Z", "2026-03-05T00:00:00.000Z", "2026-03-06T00:00:00.000Z", 1],
    ["2026-03-05T23:59:58.500Z", "2026-03-05T00:00:00.000Z", "2026-03-06T00:00:00.000Z", 2],
    ["2026-12-31T12:00:00.000Z", "2026-12-31T00:00:00.000Z", "2027-01-01T00:00:00.000Z", 43_200],
  ])("%s is in [%s, %s), %i s left", (now, start, end, seconds) => {
    expect(utcDayOf(new Date(now))).toEqual({ start: new Date(start), end: new Date(end) });
    expect(secondsUntilNextUtcDay(new Date(now))).toBe(seconds);
  });
});

describe("rateRulesOf / textLimitsOf", () => {
  const limits = textLimitsOf({ SMS_GUARD_SHOP_PER_MINUTE: 7, SMS_GUARD_DESTINATION_PER_HOUR: 3, SMS_GUARD_DESTINATION_PER_DAY: 9 });

  it("reads the limits from config", () => {
    expect(limits).toEqual({ shopPerMinute: 7, destinationPerHour: 3, destinationPerDay: 9 });
  });

  it("keys every limit under the prefix, without the phone number", () => {
    const rules = rateRulesOf("pfx", "shop-1", SAN_FRANCISCO, limits);
    expect(rules.map(({ scope, window, limit }) => ({ scope, window, limit }))).toEqual([
      { scope: "shop", window: "minute", limit: 7 },
      { scope: "destination", window: "hour", limit: 3 },
      { scope: "destination", window: "day", limit: 9 },
    ]);
    expect(rules[0]?.key).toBe("pfx:rate:shop:shop-1:minute");
    for (const rule of rules) {
      expect(rule.key.startsWith("pfx:rate:")).toBe(true);
      expect(rule.key).not.toContain("4155550123");
    }
    expect(rules[1]?.key).toMatch(/^pfx:rate:destination:[0-9a-f]{32}:hour$/);
    expect(rules[2]?.key).toBe(rules[1]?.key.replace(/hour$/, "day"));
  });

  it("shares a destination's keys across shops and tells numbers apart", () => {
    const [, hourA] = rateRulesOf("p", "shop-a", SAN_FRANCISCO, limits);
    const [, hourB] = rateRulesOf("p", "shop-b", SAN_FRANCISCO, limits);
    const [, hourOther] = rateRulesOf("p", "shop-a", TORONTO, limits);
    expect(hourA?.key).toBe(hourB?.key);
    expect(hourA?.key).not.toBe(hourOther?.key);
  });
});

describe("refusalError", () => {
  it("a country refusal is a 422 naming the field and the country", () => {
    expect(refusalError({ reason: "costly-number" })).toMatchObject({
      status: 422,
      code: "sms-costly-number",
      errors: [{ path: "body.customer.phone", code: "sms-costly-number" }],
    });
    const error = refusalError({ reason: "country-not-allowed", country: "JM" });
    expect(error).toMatchObject({ status: 422, code: "sms-country-not-allowed", message: "This shop cannot text numbers in JM" });
    expect(error.errors).toEqual([
      { path: "body.customer.phone", message: "this shop cannot text numbers in JM", code: "sms-country-not-allowed" },
    ]);
    expect(error.headers).toBeUndefined();
  });

  it("a number of no country says so, at the field the caller names", () => {
    const error = refusalError({ reason: "country-not-allowed", country: null }, "body.phone");
    expect(error.errors).toEqual([
      {
        path: "body.phone",
        message: "this shop cannot text this number (no country could be told from it)",
        code: "sms-country-not-allowed",
      },
    ]);
  });

  it.each([
    [
      { scope: "shop", window: "minute", limit: 120, retryAfterSeconds: 12 },
      "This shop may start at most 120 questions a minute (limit: shop per minute); retry in 12 s",
    ],
    [
      { scope: "destination", window: "hour", limit: 5, retryAfterSeconds: 1800 },
      "One phone number may be sent at most 5 questions an hour (limit: destination per hour); retry in 1800 s",
    ],
    [
      { scope: "destination", window: "day", limit: 20, retryAfterSeconds: 3 },
      "One phone number may be sent at most 20 questions a day (limit: destination per day); retry in 3 s",
    ],
  ] as const)("a rate limit is a 429 with Retry-After: %o", (limit, message) => {
    const error = refusalError({ reason: "rate-limited", ...limit });
    expect(error).toMatchObject({ status: 429, code: "rate-limited", message });
    expect(error.headers).toEqual({ "retry-after": String(limit.retryAfterSeconds) });
    expect(error.errors).toBeUndefined();
  });

  it("the daily cap is a 429 that says the admin can raise it", () => {
    const error = refusalError({ reason: "new-customer-cap", cap: 200, retryAfterSeconds: 3600 });
    expect(error).toMatchObject({ status: 429, code: "new-customer-cap" });
    expect(error.message).toBe(
      "This shop reached its cap of 200 new customer numbers today (UTC); numbers that asked before still work, " +
        "the cap resets at 00:00 UTC, and the platform admin can raise it",
    );
    expect(error.headers).toEqual({ "retry-after": "3600" });
  });
});

describe("isCostlyNumber", () => {
  it.each([
    ["+19005550123", true], // US 900 premium rate
    ["+449098790001", true], // UK 09 premium rate
    ["+14155550123", false],
    ["+447700900123", false],
    ["not a number", false],
  ])("%s -> %s", (phone, costly) => {
    expect(isCostlyNumber(phone)).toBe(costly);
  });
});
