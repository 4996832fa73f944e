/**
 * The SMS pumping guard on real Redis and PostgreSQL: rate limits (scope,
 * Retry-After, refusals take nothing, keys expire), the daily cap on new
 * customer numbers (exact under concurrency), countries, and the problems
 * REST callers get.
 */
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger.js";
import {
  admitCustomerNumber,
  checkQuestionDestination,
  guardQuestionDestination,
  rateRulesOf,
  takeTextAllowance,
  type GuardDeps,
  type GuardedShop,
  type TextLimits,
} from "../../src/modules/questions/sms-guards.js";
import errors from "../../src/plugins/errors.js";
import { useTestContext } from "../helpers/context.js";
import { makeShop, nextPhone } from "../helpers/factories.js";

const ctx = useTestContext();

const T0 = new Date("2026-05-04T10:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;
const roomy: TextLimits = { shopPerMinute: 1000, destinationPerHour: 1000, destinationPerDay: 1000 };

/** A fresh key space per test, under the file's prefix (which the context deletes at the end). */
function limiter(limits: Partial<TextLimits> = {}) {
  const prefix = `${ctx().deps.queuePrefix}:${randomBytes(3).toString("hex")}`;
  const merged = { ...roomy, ...limits };
  return {
    prefix,
    take: (shopId: string, phone: string, now: Date) =>
      takeTextAllowance(ctx().deps.redis, { prefix, shopId, phone, now, limits: merged }),
    keys: (shopId: string, phone: string) => rateRulesOf(prefix, shopId, phone, merged).map((rule) => rule.key),
  };
}

describe("takeTextAllowance", () => {
  it("refuses a destination past its hourly limit, says when to retry, and takes nothing while refusing", async () => {
    const { take, keys } = limiter({ destinationPerHour: 3 });
    const phone = nextPhone();
    for (const ms of [0, 1000, 2000]) expect(await take("shop-a", phone, at(ms))).toEqual({ allowed: true });

    const refused = await take("shop-a", phone, at(10_000));
    expect(refused).toEqual({ allowed: false, scope: "destination", window: "hour", limit: 3, retryAfterSeconds: 3590 });
    for (let index = 0; index < 20; index++) await take("shop-a", phone, at(20_000));
    const [shopKey, hourKey, dayKey] = keys("shop-a", phone);
    const redis = ctx().deps.redis;
    expect(await redis.zcard(hourKey!)).toBe(3);
    expect(await redis.zcard(dayKey!)).toBe(3);
    expect(await redis.zcard(shopKey!)).toBe(3); // the shop's minute holds the three taken, none of the 21 refused

    // One millisecond before the first entry leaves: still refused, for one second at least.
    expect(await take("shop-a", phone, at(HOUR - 1))).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(await take("shop-a", phone, at(HOUR))).toEqual({ allowed: true });
    expect(await take("shop-a", phone, at(HOUR + 1))).toMatchObject({ allowed: false, scope: "destination", retryAfterSeconds: 1 });
  });

  it("limits a destination across shops, and each shop's minute separately", async () => {
    const { take } = limiter({ destinationPerHour: 2, shopPerMinute: 2 });
    const phone = nextPhone();
    expect(await take("shop-a", phone, at(0))).toEqual({ allowed: true });
    expect(await take("shop-b", phone, at(0))).toEqual({ allowed: true });
    expect(await take("shop-c", phone, at(0))).toMatchObject({ allowed: false, scope: "destination" });

    expect(await take("shop-a", nextPhone(), at(30_000))).toEqual({ allowed: true });
    expect(await take("shop-a", nextPhone(), at(40_000))).toEqual({
      allowed: false,
      scope: "shop",
      window: "minute",
      limit: 2,
      retryAfterSeconds: 20,
    });
    expect(await take("shop-b", nextPhone(), at(40_000))).toEqual({ allowed: true });
    expect(await take("shop-a", nextPhone(), at(60_000))).toEqual({ allowed: true });
  });

  it("a refusal by one limit takes nothing from the others", async () => {
    const { take, keys } = limiter({ destinationPerHour: 1 });
    const phone = nextPhone();
    await take("shop-a", phone, at(0));
    for (let index = 0; index < 5; index++) expect((await take("shop-a", phone, at(1000))).allowed).toBe(false);
    const [shopKey, , dayKey] = keys("shop-a", phone);
    expect(await ctx().deps.redis.zcard(shopKey!)).toBe(1);
    expect(await ctx().deps.redis.zcard(dayKey!)).toBe(1);
  });

  it("reports the longest wait when several limits refuse", async () => {
    const { take } = limiter({ destinationPerHour: 1, destinationPerDay: 1 });
    const phone = nextPhone();
    await take("shop-a", phone, at(0));
    expect(await take("shop-a", phone, at(HOUR / 2))).toEqual({
      allowed: false,
      scope: "destination",
      window: "day",
      limit: 1,
      retryAfterSeconds: 24 * 3600 - 1800,
    });
    expect(await take("shop-a", phone, at(HOUR))).toMatchObject({ window: "day", retryAfterSeconds: 23 * 3600 });
  });

  it("lets exactly the limit through among concurrent callers", async () => {
    const { take } = limiter({ destinationPerHour: 5 });
    const phone = nextPhone();
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => take(`shop-${index}`, phone, at(index))));
    expect(results.filter((result) => result.allowed)).toHaveLength(5);
  });

  it("keys expire one window after their last entry, and name no phone number", async () => {
    const { take, keys, prefix } = limiter({ destinationPerHour: 2 });
    const phone = nextPhone();
    await take("shop-a", phone, at(0));
    const redis = ctx().deps.redis;
    const [shopKey, hourKey, dayKey] = keys("shop-a", phone);
    const ttls = await Promise.all([shopKey!, hourKey!, dayKey!].map((key) => redis.pttl(key)));
    expect(ttls[0]).toBeGreaterThan(55_000);
    expect(ttls[0]).toBeLessThanOrEqual(60_000);
    expect(ttls[1]).toBeGreaterThan(HOUR - 5000);
    expect(ttls[1]).toBeLessThanOrEqual(HOUR);
    expect(ttls[2]).toBeGreaterThan(24 * HOUR - 5000);
    expect(ttls[2]).toBeLessThanOrEqual(24 * HOUR);

    const stored = await redis.keys(`${prefix}:*`);
    expect(stored.sort()).toEqual([shopKey, hourKey, dayKey].sort());
    expect(stored.every((key) => key.startsWith(`${prefix}:rate:`))).toBe(true);
    expect(stored.join(" ")).not.toContain(phone.slice(2));
  });

  it("uses the configured defaults when given no limits", async () => {
    const prefix = `${ctx().deps.queuePrefix}:${randomBytes(3).toString("hex")}`;
    const phone = nextPhone();
    const take = (ms: number) => takeTextAllowance(ctx().deps.redis, { prefix, shopId: "shop-a", phone, now: at(ms) });
    for (let index = 0; index < 5; index++) expect(await take(index)).toEqual({ allowed: true });
    expect(await take(10)).toMatchObject({ allowed: false, scope: "destination", window: "hour", limit: 5 });
  });
});

async function shopRow(caps: { smsCountries?: string[]; dailyNewCustomerCap?: number } = {}) {
  const { app, deps } = ctx();
  const shop = await makeShop(app);
  return deps.prisma.shop.update({
    where: { id: shop.id },
    data: caps,
    select: { id: true, country: true, smsCountries: true, dailyNewCustomerCap: true },
  });
}

const admit = (shopId: string, phone: string, cap: number, now = T0) =>
  ctx().deps.prisma.$transaction((tx) => admitCustomerNumber(tx, { shopId, phone, cap, now }));

describe("admitCustomerNumber", () => {
  it("admits exactly `cap` new numbers among 20 concurrent ones", async () => {
    const shop = await shopRow();
    const phones = Array.from({ length: 20 }, () => nextPhone());
    const results = await Promise.all(phones.map((phone) => admit(shop.id, phone, 5)));
    expect(results.filter(Boolean)).toHaveLength(5);
    const recorded = await ctx().deps.prisma.shopCustomer.findMany({ where: { shopId: shop.id } });
    expect(recorded).toHaveLength(5);
    const admitted = phones.filter((_, index) => results[index]);
    expect(recorded.map((row) => row.phone).sort()).toEqual(admitted.sort());
    expect(recorded.every((row) => row.firstSeenAt.getTime() === T0.getTime())).toBe(true);
  });

  it("always admits a number seen before; a new one waits for the next UTC day", async () => {
    const shop = await shopRow();
    const [first, second, third] = [nextPhone(), nextPhone(), nextPhone()];
    expect(await admit(shop.id, first, 2)).toBe(true);
    expect(await admit(shop.id, second, 2)).toBe(true);
    expect(await admit(shop.id, third, 2)).toBe(false);
    expect(await admit(shop.id, first, 2)).toBe(true);
    expect(await admit(shop.id, first, 0)).toBe(true);
    // a raised cap admits it the same day
    expect(await admit(shop.id, third, 3)).toBe(true);

    const lateTonight = new Date("2026-05-04T23:59:59.999Z");
    const tomorrow = new Date("2026-05-05T00:00:00.000Z");
    const fourth = nextPhone();
    expect(await admit(shop.id, fourth, 3, lateTonight)).toBe(false);
    expect(await admit(shop.id, fourth, 3, tomorrow)).toBe(true);
    const row = await ctx().deps.prisma.shopCustomer.findUniqueOrThrow({
      where: { shopId_phone: { shopId: shop.id, phone: fourth } },
    });
    expect(row.firstSeenAt).toEqual(tomorrow);
  });

  it("counts per shop, and one number arriving many times at once is one customer", async () => {
    const [shopA, shopB] = [await shopRow(), await shopRow()];
    const phone = nextPhone();
    const results = await Promise.all(Array.from({ length: 10 }, () => admit(shopA.id, phone, 1)));
    expect(results.every(Boolean)).toBe(true);
    expect(await ctx().deps.prisma.shopCustomer.count({ where: { shopId: shopA.id } })).toBe(1);
    expect(await admit(shopB.id, phone, 1)).toBe(true);
    expect(await admit(shopA.id, nextPhone(), 1)).toBe(false);
  });

  it("takes no new number at cap 0", async () => {
    const shop = await shopRow();
    expect(await admit(shop.id, nextPhone(), 0)).toBe(false);
    expect(await ctx().deps.prisma.shopCustomer.count({ where: { shopId: shop.id } })).toBe(0);
  });
});

/** The context's deps with a fixed clock, tight limits and a fresh key space. */
function guardDeps(overrides: Partial<GuardDeps> = {}, limits: Record<string, number> = {}): GuardDeps {
  const { deps } = ctx();
  return {
    ...deps,
    queuePrefix: `${deps.queuePrefix}:${randomBytes(3).toString("hex")}`,
    clock: { now: () => T0 },
    config: {
      ...deps.config,
      SMS_GUARD_SHOP_PER_MINUTE: 1000,
      SMS_GUARD_DESTINATION_PER_HOUR: 1000,
      SMS_GUARD_DESTINATION_PER_DAY: 1000,
      ...limits,
    },
    ...overrides,
  };
}

const TORONTO = "+14165550123";

describe("checkQuestionDestination / guardQuestionDestination", () => {
  const check = (deps: GuardDeps, shop: GuardedShop, phone: string) =>
    ctx().deps.prisma.$transaction((tx) => checkQuestionDestination(deps, tx, { shop, phone }));

  it("refuses a country the shop does not serve, before recording or counting anything", async () => {
    const shop = await shopRow();
    const deps = guardDeps();
    expect(await check(deps, shop, TORONTO)).toEqual({ reason: "country-not-allowed", country: "CA" });
    expect(await ctx().deps.prisma.shopCustomer.count({ where: { shopId: shop.id } })).toBe(0);
    expect(await ctx().deps.redis.keys(`${deps.queuePrefix}:*`)).toEqual([]);

    const northAmerican = await shopRow({ smsCountries: ["US", "CA"] });
    expect(await check(deps, northAmerican, TORONTO)).toBeNull();
    expect(await check(deps, northAmerican, "+18765551234")).toEqual({ reason: "country-not-allowed", country: "JM" });
  });

  it("refuses past the daily cap, and a rate-limited new number does not use the cap up", async () => {
    const shop = await shopRow({ dailyNewCustomerCap: 2 });
    const customers = () => ctx().deps.prisma.shopCustomer.count({ where: { shopId: shop.id } });
    const oneAMinute = guardDeps({}, { SMS_GUARD_SHOP_PER_MINUTE: 1 });
    const [first, second] = [nextPhone(), nextPhone()];
    expect(await check(oneAMinute, shop, first)).toBeNull();
    expect(await check(oneAMinute, shop, second)).toMatchObject({ reason: "rate-limited", scope: "shop", retryAfterSeconds: 60 });
    expect(await customers()).toBe(1);

    // Fresh limits: the second number still fits the cap of 2, the third does not.
    expect(await check(guardDeps(), shop, second)).toBeNull();
    expect(await customers()).toBe(2);
    expect(await check(guardDeps(), shop, nextPhone())).toEqual({ reason: "new-customer-cap", cap: 2, retryAfterSeconds: 14 * 3600 });
    expect(await check(guardDeps(), shop, first)).toBeNull();
  });

  it("throws problems REST answers with: 422 at the field, 429 with Retry-After", async () => {
    const shop = await shopRow({ dailyNewCustomerCap: 1 });
    const deps = guardDeps({}, { SMS_GUARD_DESTINATION_PER_HOUR: 1 });
    const app = Fastify();
    await app.register(errors);
    app.post<{ Body: { phone: string } }>("/questions", async (request) => {
      await ctx().deps.prisma.$transaction((tx) => guardQuestionDestination(deps, tx, { shop, phone: request.body.phone }));
      return { ok: true };
    });
    const ask = (phone: string) => app.inject({ method: "POST", url: "/questions", payload: { phone } });
    const known = nextPhone();

    const country = await ask(TORONTO);
    expect(country.statusCode).toBe(422);
    expect(country.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(country.json()).toMatchObject({
      code: "sms-country-not-allowed",
      errors: [{ path: "body.customer.phone", message: "this shop cannot text numbers in CA" }],
    });

    expect((await ask(known)).statusCode).toBe(200);
    const rate = await ask(known);
    expect(rate.statusCode).toBe(429);
    expect(rate.headers["retry-after"]).toBe("3600");
    expect(rate.json()).toMatchObject({ code: "rate-limited", status: 429 });
    expect(rate.json().detail).toContain("destination per hour");

    const cap = await ask(nextPhone());
    expect(cap.statusCode).toBe(429);
    expect(cap.headers["retry-after"]).toBe(String(14 * 3600));
    expect(cap.json()).toMatchObject({ code: "new-customer-cap" });
    expect(cap.json().detail).toContain("admin can raise it");
    await app.close();
  });

  it("lets questions through when Redis is unreachable, with a warning that names no phone number", async () => {
    const shop = await shopRow();
    const lines: string[] = [];
    const logger = createLogger({
      level: "warn",
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const unreachable = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    unreachable.on("error", () => {}); // connection refused, as intended
    try {
      const phone = nextPhone();
      expect(await check(guardDeps({ redis: unreachable, logger }), shop, phone)).toBeNull();
      expect(lines.join("")).toContain("SMS rate limits unavailable");
      expect(lines.join("")).not.toContain(phone.slice(2));
      // the daily cap, in PostgreSQL, still counted the number
      expect(await ctx().deps.prisma.shopCustomer.count({ where: { shopId: shop.id } })).toBe(1);
    } finally {
      unreachable.disconnect();
    }
  });
});
