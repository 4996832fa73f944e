/**
 * The candidate query on real PostgreSQL: each filter, the pool rules, the
 * widen levels, availability in the expert's own zone across DST changes
 * (checked against src/lib/schedule.ts), the window and its round robin,
 * continuity, and what a candidate carries for ranking.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { Prisma } from "../../src/generated/prisma/client.js";
import { isReachable, type AvailabilityWindow, type QuietHours } from "../../src/lib/schedule.js";
import {
  DEFAULT_CANDIDATE_LIMIT,
  findCandidates,
  findPreviousExpert,
  POOL_DOMAIN_MAX,
  POOL_MEAN_MAX_AGE_MS,
  requiredTags,
  type CandidateQuery,
} from "../../src/modules/routing/candidates.js";
import { useTestContext } from "../helpers/context.js";
import { makePool, makeProduct, makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { makeReadyExpert } from "../helpers/routing.js";

const ctx = useTestContext();

/** A Wednesday, 12:00 in Chicago (CST): inside office hours, outside any night-time quiet hours. */
const NOON_CHICAGO = new Date("2026-12-02T18:00:00Z");
const unique = () => randomBytes(4).toString("hex");

type Fields = Record<string, unknown>;

interface World {
  shop: TestShop;
  product: { id: string };
  pool: { id: string };
}

/** A shop with a product and a pool listing it (tag all-grain). */
async function world(options: { pool?: Fields; product?: Fields } = {}): Promise<World> {
  const { app } = ctx();
  const shop = await makeShop(app);
  const product = await makeProduct(app, shop, { tags: ["all-grain"], ...options.product });
  const pool = await makePool(app, shop, { productIds: [product.id], ...options.pool });
  return { shop, product, pool };
}

async function join(poolId: string, expertId: string) {
  await ctx().deps.prisma.poolMember.create({ data: { poolId, expertId } });
}

/** An approved, active expert with all-grain at 4 (no schedule, no quiet hours), in `pools`. */
async function expert(shop: TestShop, pools: { id: string }[], fields: Fields = {}) {
  const { app, deps } = ctx();
  const made = await makeReadyExpert(app, deps, shop, { timeZone: "America/Chicago", ...fields });
  for (const pool of pools) await join(pool.id, made.id);
  return made;
}

async function question(shop: TestShop, fields: Partial<Prisma.QuestionUncheckedCreateInput> = {}) {
  return ctx().deps.prisma.question.create({
    data: {
      shopId: shop.id,
      statusToken: `tok-${unique()}`,
      channel: "api",
      tags: ["all-grain"],
      body: "Mash pH keeps drifting",
      customerPhone: nextPhone(),
      ...fields,
    },
  });
}

/** Runs the query for a question of `w`'s shop (about its product unless told otherwise). */
async function find(w: World, fields: Partial<CandidateQuery> = {}) {
  const questionId = fields.questionId ?? (await question(w.shop, { productId: w.product.id })).id;
  return findCandidates(ctx().deps.sql, {
    shopId: w.shop.id,
    questionId,
    productId: w.product.id,
    tags: ["all-grain"],
    optionalTags: [],
    widenLevel: 0,
    now: NOON_CHICAGO,
    ...fields,
  });
}

const ids = (candidates: { expertId: string }[]) => candidates.map((c) => c.expertId).sort();

/** A session of `expertId` in `status`, with the question and accepted offer it needs. */
async function session(shop: TestShop, expertId: string, status: "connecting" | "active" | "ended", fields: Fields = {}) {
  const { prisma } = ctx().deps;
  const asked = await question(shop, (fields.question as Partial<Prisma.QuestionUncheckedCreateInput>) ?? {});
  const offer = await prisma.offer.create({
    data: { questionId: asked.id, expertId, code: "ACC", status: "accepted", expiresAt: NOON_CHICAGO },
  });
  return prisma.session.create({
    data: {
      questionId: asked.id,
      offerId: offer.id,
      expertId,
      shopId: shop.id,
      customerPhone: asked.customerPhone,
      expertPhone: "+14155550100",
      mode: "sms",
      status,
      ...(fields.createdAt ? { createdAt: fields.createdAt as Date } : {}),
    },
  });
}

describe("a candidate", () => {
  it("carries what ranking needs: skills for every tag of the question, rating, offers, last offer, pool and its mean", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const dan = await expert(w.shop, [w.pool], {
      name: "Dan Brewer",
      skills: [
        { tag: "all-grain", level: 4 },
        { tag: "water-chemistry", level: 2 },
        { tag: "kegging", level: 5 },
      ],
    });
    const ann = await expert(w.shop, [w.pool]);
    const lastOfferedAt = new Date("2026-12-01T10:00:00Z");
    await prisma.expert.update({
      where: { id: dan.id },
      data: { ratingSum: 23, ratingCount: 5, offersReceived: 9, offersAccepted: 5, offersDeclined: 2, offersTimedOut: 1, lastOfferedAt },
    });
    await prisma.expert.update({ where: { id: ann.id }, data: { ratingSum: 7, ratingCount: 3 } });

    const found = await find(w, { optionalTags: ["water-chemistry", "yeast"], widenLevel: 1 });
    expect(found.find((c) => c.expertId === dan.id)).toEqual({
      expertId: dan.id,
      name: "Dan Brewer",
      poolId: w.pool.id,
      skills: { "all-grain": 4, "water-chemistry": 2 },
      ratingSum: 23,
      ratingCount: 5,
      poolMeanRating: 30 / 8,
      offersReceived: 9,
      offersAccepted: 5,
      offersDeclined: 2,
      offersTimedOut: 1,
      lastOfferedAt,
    });
    expect(ids(found)).toEqual(ids([{ expertId: dan.id }, { expertId: ann.id }]));
  });

  it("carries a pool mean kept for a minute, then served stale once while it is refreshed", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const dan = await expert(w.shop, [w.pool]);
    await prisma.expert.update({ where: { id: dan.id }, data: { ratingSum: 8, ratingCount: 2 } });
    const meanNow = async () => (await find(w))[0]?.poolMeanRating;
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      expect(await meanNow()).toBe(4);
      await prisma.expert.update({ where: { id: dan.id }, data: { ratingSum: 13, ratingCount: 3 } });
      expect(await meanNow()).toBe(4);
      vi.setSystemTime(Date.now() + POOL_MEAN_MAX_AGE_MS + 1);
      expect(await meanNow()).toBe(4); // stale, served while the refresh runs
      await vi.waitFor(async () => expect(await meanNow()).toBeCloseTo(13 / 3, 10));
    } finally {
      vi.useRealTimers();
    }
  });

  it("has no pool mean while nobody in the pool has a rating", async () => {
    const w = await world();
    await expert(w.shop, [w.pool]);
    const [candidate] = await find(w);
    expect(candidate?.poolMeanRating).toBeNull();
  });

  it("is placed in the pool that lists the product rather than a shop-wide one", async () => {
    const { app } = ctx();
    const w = await world();
    const shopWide = await makePool(app, w.shop, { productIds: [] });
    const dan = await expert(w.shop, [shopWide, w.pool]);
    const [candidate] = await find(w);
    expect(candidate).toMatchObject({ expertId: dan.id, poolId: w.pool.id });
  });
});

describe("the expert's own state", () => {
  it.each([
    ["invited", { status: "invited" }],
    ["suspended", { status: "suspended" }],
    ["vetting pending", { vettingStatus: "pending" }],
    ["vetting rejected", { vettingStatus: "rejected" }],
    ["paused", { paused: true }],
  ] as const)("leaves out an expert who is %s", async (_state, data) => {
    const w = await world();
    const ready = await expert(w.shop, [w.pool]);
    const other = await expert(w.shop, [w.pool]);
    await ctx().deps.prisma.expert.update({ where: { id: other.id }, data });
    expect(ids(await find(w))).toEqual([ready.id]);
  });
});

describe("pools", () => {
  it("takes members of a pool listing the product or of a shop-wide pool, not of a pool for other products", async () => {
    const { app } = ctx();
    const w = await world();
    const otherProduct = await makeProduct(app, w.shop, { tags: ["all-grain"] });
    const otherPool = await makePool(app, w.shop, { productIds: [otherProduct.id] });
    const shopWide = await makePool(app, w.shop, { productIds: [] });
    const listed = await expert(w.shop, [w.pool]);
    const general = await expert(w.shop, [shopWide]);
    await expert(w.shop, [otherPool]);
    await expert(w.shop, []);

    expect(ids(await find(w))).toEqual(ids([{ expertId: listed.id }, { expertId: general.id }]));
  });

  it("without a product: shop-wide pools and pools whose tags overlap the question's", async () => {
    const { app } = ctx();
    const w = await world({ pool: { tags: ["kegging"] } });
    const grainPool = await makePool(app, w.shop, { productIds: [w.product.id], tags: ["all-grain", "mash-ph"] });
    const shopWide = await makePool(app, w.shop, { productIds: [], tags: ["bottling"] });
    const inGrainPool = await expert(w.shop, [grainPool]);
    const general = await expert(w.shop, [shopWide]);
    await expert(w.shop, [w.pool]); // holds all-grain, but the pool is about kegging and lists a product

    const found = await find(w, { productId: null, questionId: (await question(w.shop)).id });
    expect(ids(found)).toEqual(ids([{ expertId: inGrainPool.id }, { expertId: general.id }]));
  });

  it("at widen level 2, takes members of any pool of the shop, never of another shop's or of none", async () => {
    const { app } = ctx();
    const w = await world();
    const otherProduct = await makeProduct(app, w.shop, { tags: ["all-grain"] });
    const otherPool = await makePool(app, w.shop, { productIds: [otherProduct.id] });
    const listed = await expert(w.shop, [w.pool]);
    const elsewhere = await expert(w.shop, [otherPool]);
    await expert(w.shop, []);
    const stranger = await world();
    await expert(stranger.shop, [stranger.pool]);

    expect(ids(await find(w, { widenLevel: 1 }))).toEqual([listed.id]);
    expect(ids(await find(w, { widenLevel: 2 }))).toEqual(ids([{ expertId: listed.id }, { expertId: elsewhere.id }]));
  });

  it("never crosses shops, even through a membership in another shop's pool", async () => {
    const w = await world();
    const stranger = await world();
    const outsider = await expert(stranger.shop, [stranger.pool]);
    await join(w.pool.id, outsider.id);
    const member = await expert(w.shop, [w.pool]);
    expect(ids(await find(w, { widenLevel: 2 }))).toEqual([member.id]);
  });
});

describe("tags", () => {
  it("requires every tag, and the optional ones until the search widens", async () => {
    const w = await world();
    const both = await expert(w.shop, [w.pool], { skills: [{ tag: "all-grain", level: 2 }, { tag: "mash-ph", level: 3 }, { tag: "yeast", level: 1 }] });
    const noOptional = await expert(w.shop, [w.pool], { skills: [{ tag: "all-grain", level: 5 }, { tag: "mash-ph", level: 5 }] });
    await expert(w.shop, [w.pool], { skills: [{ tag: "all-grain", level: 5 }, { tag: "yeast", level: 5 }] });

    const asked = { tags: ["all-grain", "mash-ph"], optionalTags: ["yeast"] };
    expect(ids(await find(w, { ...asked, widenLevel: 0 }))).toEqual([both.id]);
    expect(ids(await find(w, { ...asked, widenLevel: 1 }))).toEqual(ids([{ expertId: both.id }, { expertId: noOptional.id }]));
    expect(requiredTags({ ...asked, widenLevel: 0 })).toEqual(["all-grain", "mash-ph", "yeast"]);
    expect(requiredTags({ ...asked, widenLevel: 2 })).toEqual(["all-grain", "mash-ph"]);
  });

  it("with no tags at all, takes every member of the covering pools", async () => {
    const w = await world();
    const a = await expert(w.shop, [w.pool], { skills: [] });
    const b = await expert(w.shop, [w.pool], { skills: [{ tag: "hops", level: 1 }] });
    expect(ids(await find(w, { tags: [] }))).toEqual(ids([{ expertId: a.id }, { expertId: b.id }]));
  });
});

describe("availability in the expert's own time zone", () => {
  const officeHours: AvailabilityWindow[] = ["mon", "tue", "wed", "thu", "fri"].map((day) => ({
    day: day as AvailabilityWindow["day"],
    start: "09:00",
    end: "17:00",
  }));

  it.each([
    ["inside the weekly schedule", "America/Chicago", officeHours, null, "2026-12-02T18:00:00Z", true], // Wed 12:00 CST
    ["before it starts", "America/Chicago", officeHours, null, "2026-12-02T14:59:00Z", false], // Wed 08:59
    ["at its start", "America/Chicago", officeHours, null, "2026-12-02T15:00:00Z", true], // Wed 09:00
    ["at its end", "America/Chicago", officeHours, null, "2026-12-02T23:00:00Z", false], // Wed 17:00
    ["on a day without a window", "America/Chicago", officeHours, null, "2026-12-05T18:00:00Z", false], // Sat
    ["on the local day, not the UTC one", "Asia/Tokyo", officeHours, null, "2026-12-04T23:30:00Z", false], // Sat 08:30 in Tokyo, Fri in UTC
    ["a window ending at 24:00", "UTC", [{ day: "wed", start: "20:00", end: "24:00" }], null, "2026-12-02T23:59:00Z", true],
    ["an empty schedule: never", "UTC", [], null, "2026-12-02T12:00:00Z", false],
    ["no schedule: any time", "UTC", null, null, "2026-12-06T03:00:00Z", true],
    ["quiet hours across midnight, late", "America/Chicago", null, { start: "22:00", end: "07:00" }, "2026-12-03T04:30:00Z", false], // 22:30
    ["quiet hours across midnight, early", "America/Chicago", null, { start: "22:00", end: "07:00" }, "2026-12-03T12:59:00Z", false], // 06:59
    ["quiet hours just over", "America/Chicago", null, { start: "22:00", end: "07:00" }, "2026-12-03T13:00:00Z", true], // 07:00
    ["daytime quiet hours", "Europe/Berlin", null, { start: "12:00", end: "13:00" }, "2026-12-02T11:30:00Z", false], // 12:30 CET
    ["after daytime quiet hours", "Europe/Berlin", null, { start: "12:00", end: "13:00" }, "2026-12-02T12:00:00Z", true], // 13:00 CET
  ])("%s (%s)", async (_name, timeZone, weeklyAvailability, quietHours, at, reachable) => {
    const w = await world();
    const dan = await expert(w.shop, [w.pool], { timeZone, weeklyAvailability, quietHours });
    expect(ids(await find(w, { now: new Date(at) }))).toEqual(reachable ? [dan.id] : []);
  });

  // The same UTC instant is a different local hour on each side of a DST change; PostgreSQL's zone rules must agree with Node's.
  it.each([
    // America/Chicago springs forward on Sunday 2026-03-08 at 02:00 (CST, UTC-6 -> CDT, UTC-5).
    ["Chicago, the day before spring forward: 14:00 UTC is 08:00 CST", "America/Chicago", "2026-03-07T14:00:00Z", false],
    ["Chicago, the day after: 14:00 UTC is 09:00 CDT", "America/Chicago", "2026-03-09T14:00:00Z", true],
    ["Chicago, spring-forward Sunday 08:59 CDT", "America/Chicago", "2026-03-08T13:59:00Z", false],
    ["Chicago, spring-forward Sunday 09:00 CDT", "America/Chicago", "2026-03-08T14:00:00Z", true],
    // ...and falls back on Sunday 2026-11-01 at 02:00 (CDT -> CST).
    ["Chicago, fall-back Sunday 08:59 CST (09:59 by the summer clock)", "America/Chicago", "2026-11-01T14:59:00Z", false],
    ["Chicago, fall-back Sunday 09:00 CST", "America/Chicago", "2026-11-01T15:00:00Z", true],
    ["Chicago, the day before fall back: 14:00 UTC is 09:00 CDT", "America/Chicago", "2026-10-31T14:00:00Z", true],
    // Europe/Berlin springs forward on Sunday 2026-03-29 at 02:00 (CET, UTC+1 -> CEST, UTC+2).
    ["Berlin, spring-forward Sunday 08:59 CEST", "Europe/Berlin", "2026-03-29T06:59:00Z", false],
    ["Berlin, spring-forward Sunday 09:00 CEST", "Europe/Berlin", "2026-03-29T07:00:00Z", true],
    ["Berlin, the day before: 07:00 UTC is 08:00 CET", "Europe/Berlin", "2026-03-28T07:00:00Z", false],
  ])("follows DST: %s", async (_name, timeZone, at, reachable) => {
    const w = await world();
    const everyDay = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((day) => ({ day, start: "09:00", end: "17:00" }));
    const dan = await expert(w.shop, [w.pool], { timeZone, weeklyAvailability: everyDay });
    expect(ids(await find(w, { now: new Date(at) }))).toEqual(reachable ? [dan.id] : []);
  });

  it("agrees with isReachable() for many schedules, zones and instants around the 2026 DST changes", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const zones = ["America/Chicago", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "UTC"];
    const schedules: (AvailabilityWindow[] | null)[] = [
      null,
      [{ day: "sun", start: "00:00", end: "03:30" }, { day: "sun", start: "08:00", end: "24:00" }],
      ["sat", "sun"].map((day) => ({ day: day as AvailabilityWindow["day"], start: "01:00", end: "04:00" })),
      ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((day) => ({ day: day as AvailabilityWindow["day"], start: "06:30", end: "18:45" })),
    ];
    const quiet: (QuietHours | null)[] = [null, { start: "22:00", end: "07:00" }, { start: "01:30", end: "02:30" }];
    const experts: { id: string; timeZone: string; availability: AvailabilityWindow[] | null; quietHours: QuietHours | null }[] = [];
    for (const timeZone of zones) {
      for (const availability of schedules) {
        for (const quietHours of quiet) {
          const made = await prisma.expert.create({
            data: {
              shopId: w.shop.id,
              phone: nextPhone(),
              name: "Grid Expert",
              timeZone,
              ...(availability ? { weeklyAvailability: availability } : {}),
              quietHoursStart: quietHours?.start ?? null,
              quietHoursEnd: quietHours?.end ?? null,
              status: "active",
              vettingStatus: "approved",
              skills: { create: { tag: "all-grain", level: 3 } },
              memberships: { create: { poolId: w.pool.id } },
            },
          });
          experts.push({ id: made.id, timeZone, availability, quietHours });
        }
      }
    }
    const asked = await question(w.shop, { productId: w.product.id });
    // Every 30 minutes through the Sundays of the 2026 changes in Chicago and Berlin (and the night before).
    const starts = ["2026-03-07T18:00:00Z", "2026-03-28T18:00:00Z", "2026-10-24T18:00:00Z", "2026-10-31T18:00:00Z"];
    for (const start of starts) {
      for (let step = 0; step < 30 * 2; step += 1) {
        const now = new Date(new Date(start).getTime() + step * 30 * 60_000);
        const expected = experts.filter((e) => isReachable(e, now)).map((e) => e.id);
        const found = await find(w, { questionId: asked.id, now, limit: experts.length });
        expect(ids(found), `at ${now.toISOString()}`).toEqual([...expected].sort());
      }
    }
  }, 60_000);
});

describe("sessions, opt-outs and earlier offers", () => {
  it("leaves out an expert at their cap of open sessions; ended sessions do not count", async () => {
    const w = await world();
    const busy = await expert(w.shop, [w.pool]);
    const roomForOne = await expert(w.shop, [w.pool], { maxConcurrentSessions: 2 });
    const done = await expert(w.shop, [w.pool]);
    await session(w.shop, busy.id, "connecting");
    await session(w.shop, roomForOne.id, "active");
    await session(w.shop, done.id, "ended");
    await session(w.shop, done.id, "ended");

    expect(ids(await find(w))).toEqual(ids([{ expertId: roomForOne.id }, { expertId: done.id }]));
    await session(w.shop, roomForOne.id, "connecting");
    expect(ids(await find(w))).toEqual([done.id]);
  });

  it("leaves out an expert who opted out of the shop's expert line, not one who stopped another number", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const line = `+1500555${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
    await prisma.phoneNumber.create({ data: { e164: line, purpose: "expert_line", shopId: w.shop.id } });
    const stopped = await expert(w.shop, [w.pool]);
    const stoppedElsewhere = await expert(w.shop, [w.pool]);
    await prisma.optOut.create({ data: { phone: stopped.phone, platformNumber: line } });
    await prisma.optOut.create({ data: { phone: stoppedElsewhere.phone, platformNumber: "+15005550001" } });

    expect(ids(await find(w))).toEqual([stoppedElsewhere.id]);
  });

  it.each(["pending", "declined", "expired", "cancelled", "lost"] as const)(
    "leaves out an expert already offered this question (offer %s), not one offered another question",
    async (status) => {
      const { prisma } = ctx().deps;
      const w = await world();
      const asked = await question(w.shop, { productId: w.product.id });
      const other = await question(w.shop, { productId: w.product.id });
      const offered = await expert(w.shop, [w.pool]);
      const offeredElsewhere = await expert(w.shop, [w.pool]);
      await prisma.offer.create({ data: { questionId: asked.id, expertId: offered.id, code: "ABC", status, expiresAt: NOON_CHICAGO } });
      await prisma.offer.create({ data: { questionId: other.id, expertId: offeredElsewhere.id, code: "ABD", expiresAt: NOON_CHICAGO } });

      expect(ids(await find(w, { questionId: asked.id }))).toEqual([offeredElsewhere.id]);
    },
  );
});

describe("the customer's earlier expert", () => {
  it("is the expert of their latest session with the shop for that product", async () => {
    const { app } = ctx();
    const w = await world();
    const otherProduct = await makeProduct(app, w.shop);
    const [first, second, forOtherProduct] = [await expert(w.shop, [w.pool]), await expert(w.shop, [w.pool]), await expert(w.shop, [w.pool])];
    const customerPhone = nextPhone();
    const at = (iso: string) => new Date(iso);
    await session(w.shop, first.id, "ended", { question: { customerPhone, productId: w.product.id }, createdAt: at("2026-11-01T10:00:00Z") });
    await session(w.shop, second.id, "ended", { question: { customerPhone, productId: w.product.id }, createdAt: at("2026-11-20T10:00:00Z") });
    await session(w.shop, forOtherProduct.id, "ended", { question: { customerPhone, productId: otherProduct.id }, createdAt: at("2026-11-25T10:00:00Z") });
    const sql = ctx().deps.sql;

    expect(await findPreviousExpert(sql, { shopId: w.shop.id, customerPhone, productId: w.product.id })).toBe(second.id);
    expect(await findPreviousExpert(sql, { shopId: w.shop.id, customerPhone, productId: otherProduct.id })).toBe(forOtherProduct.id);
    // Without a product, the latest session with the shop, whatever it was about.
    expect(await findPreviousExpert(sql, { shopId: w.shop.id, customerPhone, productId: null })).toBe(forOtherProduct.id);
    expect(await findPreviousExpert(sql, { shopId: w.shop.id, customerPhone: nextPhone(), productId: w.product.id })).toBeNull();
    const stranger = await world();
    expect(await findPreviousExpert(sql, { shopId: stranger.shop.id, customerPhone, productId: w.product.id })).toBeNull();
  });

  it("is a candidate even when the window is full of others, and only once", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const others = [];
    for (let i = 0; i < 4; i++) others.push(await expert(w.shop, [w.pool]));
    const earlier = await expert(w.shop, [w.pool]);
    const customerPhone = nextPhone();
    await session(w.shop, earlier.id, "ended", { question: { customerPhone, productId: w.product.id } });
    const asked = await question(w.shop, { customerPhone, productId: w.product.id });
    // The round robin starts right after the earlier expert, so a window of 2 would not reach them.
    await prisma.expert.update({ where: { id: earlier.id }, data: { lastOfferedAt: new Date("2026-12-01T00:00:00Z") } });

    const found = await find(w, { questionId: asked.id, limit: 2 });
    expect(found.map((c) => c.expertId)).toContain(earlier.id);
    expect(found).toHaveLength(3);
    expect(new Set(found.map((c) => c.expertId)).size).toBe(3);
    // A window wide enough to reach them anyway still lists them once.
    const everyone = await find(w, { questionId: asked.id, limit: 10 });
    expect(everyone.map((c) => c.expertId).sort()).toEqual([...others.map((e) => e.id), earlier.id].sort());
  });

  it("is still left out when they may not take it (here: already offered)", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const earlier = await expert(w.shop, [w.pool]);
    const other = await expert(w.shop, [w.pool]);
    const customerPhone = nextPhone();
    await session(w.shop, earlier.id, "ended", { question: { customerPhone, productId: w.product.id } });
    const asked = await question(w.shop, { customerPhone, productId: w.product.id });
    await prisma.offer.create({ data: { questionId: asked.id, expertId: earlier.id, code: "NOP", status: "declined", expiresAt: NOON_CHICAGO } });
    expect(ids(await find(w, { questionId: asked.id }))).toEqual([other.id]);
  });
});

describe("the window", () => {
  it("returns at most `limit` candidates, DEFAULT_CANDIDATE_LIMIT by default", async () => {
    const w = await world();
    for (let i = 0; i < 4; i++) await expert(w.shop, [w.pool]);
    expect(await find(w, { limit: 3 })).toHaveLength(3);
    expect(await find(w, { limit: 1 })).toHaveLength(1);
    expect(await find(w)).toHaveLength(4);
    expect(DEFAULT_CANDIDATE_LIMIT).toBe(25);
    for (const limit of [0, 1.5, 1_001]) await expect(find(w, { limit })).rejects.toThrow(RangeError);
  });

  it("takes turns: it starts after the expert offered most recently and wraps around", async () => {
    const { prisma } = ctx().deps;
    const w = await world();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await expert(w.shop, [w.pool]));
    const byId = made.map((e) => e.id).sort();
    const offeredLast = async (id: string) => {
      await prisma.expert.update({ where: { id }, data: { lastOfferedAt: new Date() } });
    };

    const windowOf = async () => ids(await find(w, { limit: 2 }));

    await offeredLast(byId[1]!);
    expect(await windowOf()).toEqual([byId[2], byId[3]]);
    await offeredLast(byId[3]!);
    expect(await windowOf()).toEqual([byId[0], byId[4]]);
    // Over a few questions everyone gets a turn in the window.
    await offeredLast(byId[0]!);
    expect(await windowOf()).toEqual([byId[1], byId[2]]);
  });

  it("finds a rare tag's holders among many pool members (walking the tag's holders)", async () => {
    const w = await world();
    const members = [];
    for (let i = 0; i < 6; i++) members.push(await expert(w.shop, [w.pool]));
    const rare = await expert(w.shop, [w.pool], { skills: [{ tag: "all-grain", level: 2 }, { tag: "decoction", level: 4 }] });
    await expert(w.shop, [], { skills: [{ tag: "all-grain", level: 2 }, { tag: "decoction", level: 4 }] }); // in no pool
    expect(ids(await find(w, { tags: ["all-grain", "decoction"] }))).toEqual([rare.id]);
    expect(await find(w, { limit: 3 })).toHaveLength(3);
  });

  it(`finds the same candidates when the covering pools hold more than ${POOL_DOMAIN_MAX} members (walking the shop or a tag)`, async () => {
    const { prisma, sql } = ctx().deps;
    const w = await world();
    // Bulk members straight in SQL: in the pool, holding all-grain, every second one paused.
    await sql.query(
      `INSERT INTO "Expert" (id, "shopId", phone, name, "timeZone", status, "vettingStatus", paused, "updatedAt")
       SELECT gen_random_uuid(), $1::uuid, '+1800' || lpad(i::text, 7, '0'), 'Bulk ' || i, 'UTC', 'active', 'approved', i % 2 = 0, now()
       FROM generate_series(1, $2::int) i`,
      [w.shop.id, POOL_DOMAIN_MAX + 100],
    );
    await sql.query(`INSERT INTO "PoolMember" ("poolId", "expertId") SELECT $1::uuid, id FROM "Expert" WHERE "shopId" = $2::uuid`, [w.pool.id, w.shop.id]);
    await sql.query(`INSERT INTO "ExpertSkill" ("expertId", tag, level) SELECT id, 'all-grain', 3 FROM "Expert" WHERE "shopId" = $1::uuid`, [w.shop.id]);
    const special = await expert(w.shop, [w.pool], {
      skills: [{ tag: "all-grain", level: 5 }, { tag: "lautering", level: 5 }, { tag: "decoction", level: 3 }],
    });
    const partial = await expert(w.shop, [w.pool], { skills: [{ tag: "all-grain", level: 5 }, { tag: "lautering", level: 2 }] });
    const noAllGrain = await expert(w.shop, [w.pool], { skills: [{ tag: "lautering", level: 4 }, { tag: "decoction", level: 4 }] });
    const unpaused = await prisma.expert.count({ where: { shopId: w.shop.id, paused: false } });

    const everyone = await find(w, { tags: [], limit: 1_000 });
    expect(everyone).toHaveLength(unpaused);
    expect(await find(w, { tags: ["all-grain"], limit: 1_000 })).toHaveLength(unpaused - 1);
    // Two tags: the merge of the two rarest tags' holders; a third is checked per holder.
    expect(ids(await find(w, { tags: ["lautering", "all-grain"] }))).toEqual(ids([{ expertId: special.id }, { expertId: partial.id }]));
    expect(ids(await find(w, { tags: ["lautering", "decoction"] }))).toEqual(ids([{ expertId: special.id }, { expertId: noAllGrain.id }]));
    expect(ids(await find(w, { tags: ["all-grain", "lautering", "decoction"] }))).toEqual([special.id]);
    expect(await find(w, { tags: [], widenLevel: 2, limit: 7 })).toHaveLength(7);

    // Both walks take turns too: the window starts after the expert offered last and wraps around.
    const eligible = (await prisma.expert.findMany({ where: { shopId: w.shop.id, paused: false }, select: { id: true }, orderBy: { id: "asc" } })).map(
      (e) => e.id,
    );
    await prisma.expert.update({ where: { id: eligible.at(-3)! }, data: { lastOfferedAt: new Date() } });
    expect(ids(await find(w, { tags: [], limit: 5 }))).toEqual([...eligible.slice(-2), ...eligible.slice(0, 3)].sort());
    const holders = eligible.filter((id) => id !== noAllGrain.id);
    const cursorAt = holders.indexOf(eligible.at(-3)!);
    const fromCursor = [...holders.slice(cursorAt + 1), ...holders.slice(0, cursorAt + 1)];
    expect(ids(await find(w, { tags: ["all-grain"], limit: 5 }))).toEqual(fromCursor.slice(0, 5).sort());
  }, 30_000);
});
