import { describe, expect, it } from "vitest";
import {
  bayesianRating,
  DECLINE_CREDIT,
  DEFAULT_PRIOR_RATING,
  FAIRNESS_HALF_SCORE_MS,
  OPTIONAL_TAG_SHARE,
  PRIOR_RATING_CEILING,
  priorRating,
  RANKING_WEIGHTS,
  rankCandidates,
  RATING_CONFIDENCE,
  RESPONSE_PRIOR_OFFERS,
  RESPONSE_PRIOR_RATE,
  scoreContinuity,
  scoreFairness,
  scoreRating,
  scoreResponseRate,
  scoreTagFit,
  type Candidate,
  type RankingQuestion,
} from "./rank.js";

const NOW = new Date("2026-12-02T18:00:00.000Z");
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** A middling expert: every factor away from its extremes, so each test moves one thing. */
function candidate(fields: Partial<Candidate> = {}): Candidate {
  return {
    expertId: "expert-m",
    name: "Dan Brewer",
    poolId: "pool-1",
    skills: { "all-grain": 3 },
    ratingSum: 42,
    ratingCount: 10,
    poolMeanRating: 4.2,
    offersReceived: 12,
    offersAccepted: 6,
    offersDeclined: 2,
    offersTimedOut: 2,
    lastOfferedAt: ago(HOUR),
    ...fields,
  };
}

const question = (fields: Partial<RankingQuestion> = {}): RankingQuestion => ({
  tags: ["all-grain"],
  optionalTags: [],
  previousExpertId: null,
  ...fields,
});

const order = (ranked: { candidate: Candidate }[]) => ranked.map((r) => r.candidate.expertId);

describe("RANKING_WEIGHTS", () => {
  it("gives the quality factors 100 points together and continuity half as much on top", () => {
    const { continuity, ...quality } = RANKING_WEIGHTS;
    expect(Object.values(quality).reduce((sum, weight) => sum + weight, 0)).toBe(100);
    expect(continuity).toBe(50);
    expect(RANKING_WEIGHTS).toEqual({ tagFit: 35, rating: 25, responseRate: 20, fairness: 20, continuity: 50 });
  });
});

describe("tag fit", () => {
  it.each([
    ["level 5 on the only tag", { "all-grain": 5 }, ["all-grain"], [], 1],
    ["level 3 on the only tag", { "all-grain": 3 }, ["all-grain"], [], 0.6],
    ["level 1 on the only tag", { "all-grain": 1 }, ["all-grain"], [], 0.2],
    ["5 and 1 on two required tags", { "all-grain": 5, kegging: 1 }, ["all-grain", "kegging"], [], 0.6],
    ["a required tag not held", { "all-grain": 5 }, ["all-grain", "kegging"], [], 0.5],
    ["an optional tag not held counts half a tag", { "all-grain": 5 }, ["all-grain"], ["yeast"], 1 / 1.5],
    ["an optional tag held at 5", { "all-grain": 5, yeast: 5 }, ["all-grain"], ["yeast"], 1],
    ["an optional tag held at 4, required at 2", { "all-grain": 2, yeast: 4 }, ["all-grain"], ["yeast"], (0.4 + 0.5 * 0.8) / 1.5],
    ["only optional tags", { yeast: 4 }, [], ["yeast", "hops"], 0.4],
    ["a tag both required and optional counts once, as required", { "all-grain": 4, kegging: 2 }, ["all-grain", "kegging"], ["all-grain"], 0.6],
    ["a repeated tag counts once", { "all-grain": 5, kegging: 1 }, ["all-grain", "all-grain", "kegging"], [], 0.6],
    ["a level above 5 counts as 5", { "all-grain": 9 }, ["all-grain"], [], 1],
    ["a negative level counts as nothing", { "all-grain": -2, kegging: 5 }, ["all-grain", "kegging"], [], 0.5],
  ])("%s", (_name, skills, tags, optionalTags, expected) => {
    expect(scoreTagFit(candidate({ skills }), { tags, optionalTags }).value).toBeCloseTo(expected, 10);
  });

  it("weighs an optional tag at OPTIONAL_TAG_SHARE of a required one", () => {
    expect(OPTIONAL_TAG_SHARE).toBe(0.5);
    const fit = scoreTagFit(candidate({ skills: { yeast: 5 } }), { tags: ["all-grain"], optionalTags: ["yeast"] });
    expect(fit.value).toBeCloseTo(OPTIONAL_TAG_SHARE / (1 + OPTIONAL_TAG_SHARE), 10);
  });

  it("fits everyone fully when the question names no skills", () => {
    expect(scoreTagFit(candidate({ skills: {} }), { tags: [], optionalTags: [] })).toEqual({
      value: 1,
      detail: "The question names no skills, so every expert fits it.",
    });
  });

  it.each([
    [["all-grain", "kegging"], [], "Skill levels: all-grain 3/5, kegging not held."],
    [["all-grain"], ["yeast", "kegging"], "Skill levels: all-grain 3/5. Optional: yeast 2/5, kegging not held."],
    [[], ["yeast"], "Optional: yeast 2/5."],
    [["all-grain"], ["all-grain"], "Skill levels: all-grain 3/5."],
  ])("says which levels it saw (%j + optional %j)", (tags, optionalTags, detail) => {
    expect(scoreTagFit(candidate({ skills: { "all-grain": 3, yeast: 2 } }), { tags, optionalTags }).detail).toBe(detail);
  });
});

describe("Bayesian rating", () => {
  it.each([
    [null, DEFAULT_PRIOR_RATING],
    [3.2, 3.2],
    [4.5, 4.5],
    [4.81, PRIOR_RATING_CEILING],
    [5, PRIOR_RATING_CEILING],
  ])("takes the prior from the pool's mean %s -> %s", (poolMean, prior) => {
    expect(priorRating(poolMean)).toBe(prior);
  });

  it("uses the named constants: a prior of 4.0 weighing as 10 ratings, never above 4.5", () => {
    expect([DEFAULT_PRIOR_RATING, RATING_CONFIDENCE, PRIOR_RATING_CEILING]).toEqual([4, 10, 4.5]);
  });

  it.each([
    ["no ratings: the prior itself", 0, 0, 4.2, 4.2],
    ["no ratings, no pool ratings: the default", 0, 0, null, 4],
    ["two 5-star ratings", 10, 2, 4, (40 + 10) / 12],
    ["fifty ratings of 4.8", 240, 50, 4, (40 + 240) / 60],
    ["a thousand 1-star ratings: close to 1", 1000, 1000, 4, (40 + 1000) / 1010],
    ["a high pool mean is capped", 10, 2, 4.9, (45 + 10) / 12],
  ])("%s", (_name, ratingSum, ratingCount, poolMeanRating, expected) => {
    expect(bayesianRating({ ratingSum, ratingCount, poolMeanRating })).toBeCloseTo(expected, 10);
  });

  it.each([null, 1, 3, 4, 4.2, 4.5, 4.75, 4.8, 4.81, 4.9, 5])(
    "two 5-star ratings do not beat fifty at 4.8 (pool mean %s)",
    (poolMeanRating) => {
      const twoFives = candidate({ expertId: "expert-new", ratingSum: 10, ratingCount: 2, poolMeanRating });
      const fiftyAt48 = candidate({ expertId: "expert-old", ratingSum: 240, ratingCount: 50, poolMeanRating });
      expect(bayesianRating(fiftyAt48)).toBeGreaterThan(bayesianRating(twoFives));
      expect(order(rankCandidates(question(), [twoFives, fiftyAt48], NOW))).toEqual(["expert-old", "expert-new"]);
    },
  );

  it("still lets many good ratings beat the prior", () => {
    const proven = candidate({ expertId: "expert-proven", ratingSum: 196, ratingCount: 40, poolMeanRating: 4.2 });
    const unrated = candidate({ expertId: "expert-unrated", ratingSum: 0, ratingCount: 0, poolMeanRating: 4.2 });
    expect(bayesianRating(proven)).toBeGreaterThan(bayesianRating(unrated));
    expect(bayesianRating(proven)).toBeCloseTo((42 + 196) / 50, 10);
  });

  it.each([
    ["a 5.0 estimate is the full value", 5000, 1000, 5, 1],
    ["a 1.0 estimate is nothing", 1000, 1000, 1, 0],
    ["a 3.0 estimate is half", 0, 0, 3, 0.5],
    ["an impossible sum (above 5 a rating) is clamped to 1", 900, 10, 4, 1],
    ["an impossible sum (below 1 a rating) is clamped to 0", 0, 1000, 4, 0],
  ])("maps the 1-5 estimate onto 0-1: %s", (_name, ratingSum, ratingCount, poolMeanRating, value) => {
    expect(scoreRating(candidate({ ratingSum, ratingCount, poolMeanRating })).value).toBeCloseTo(value, 2);
  });

  it.each([
    [0, 0, null, "No ratings yet: estimated at the default of 4.0 (the pool has no ratings yet)."],
    [0, 0, 4.25, "No ratings yet: estimated at the pool's mean of 4.25."],
    [0, 0, 4.9, "No ratings yet: estimated at 4.5 (the pool's mean of 4.90, capped)."],
    [14, 3, 4.2, "Average 4.67 from 3 ratings; 4.31 once weighed against the pool's mean of 4.20 as if it were 10 ratings."],
    [5, 1, null, "Average 5.00 from 1 rating; 4.09 once weighed against the default of 4.0 (the pool has no ratings yet) as if it were 10 ratings."],
  ])("explains the estimate (sum %i of %i, pool %s)", (ratingSum, ratingCount, poolMeanRating, detail) => {
    expect(scoreRating(candidate({ ratingSum, ratingCount, poolMeanRating })).detail).toBe(detail);
  });
});

describe("response rate", () => {
  const rate = (accepted: number, declined: number, timedOut: number, received = accepted + declined + timedOut) =>
    scoreResponseRate(candidate({ offersAccepted: accepted, offersDeclined: declined, offersTimedOut: timedOut, offersReceived: received })).value;

  it("starts new experts at the prior, not at zero", () => {
    expect([RESPONSE_PRIOR_RATE, RESPONSE_PRIOR_OFFERS, DECLINE_CREDIT]).toEqual([0.75, 4, 0.5]);
    expect(rate(0, 0, 0)).toBe(0.75);
  });

  it.each([
    ["every offer accepted", 20, 0, 0, (3 + 20) / 24],
    ["every offer declined: half credit", 0, 20, 0, (3 + 10) / 24],
    ["every offer timed out", 0, 0, 20, 3 / 24],
    ["one time-out on a new expert", 0, 0, 1, 3 / 5],
    ["one acceptance on a new expert", 1, 0, 1, 4 / 6],
    ["a mix", 6, 2, 2, (3 + 6 + 1) / 14],
  ])("%s", (_name, accepted, declined, timedOut, expected) => {
    expect(rate(accepted, declined, timedOut)).toBeCloseTo(expected, 10);
  });

  it("ranks accepting above declining above letting offers time out", () => {
    expect(rate(5, 0, 0)).toBeGreaterThan(rate(0, 5, 0));
    expect(rate(0, 5, 0)).toBeGreaterThan(rate(0, 0, 5));
  });

  it("ignores offers still pending, lost to a faster expert or cancelled", () => {
    expect(rate(6, 2, 2, 10)).toBe(rate(6, 2, 2, 40));
  });

  it.each([
    [0, 0, 0, "No answered offers yet: counted at 75% until there are."],
    [1, 0, 0, "Accepted 1, declined 0 and let 0 time out of 1 settled offer."],
    [6, 2, 2, "Accepted 6, declined 2 and let 2 time out of 10 settled offers."],
  ])("explains itself (%i/%i/%i)", (accepted, declined, timedOut, detail) => {
    expect(scoreResponseRate(candidate({ offersAccepted: accepted, offersDeclined: declined, offersTimedOut: timedOut })).detail).toBe(detail);
  });
});

describe("fairness", () => {
  it.each([
    ["never offered", null, 1, "Never offered a question yet."],
    ["offered this instant", NOW, 0, "Last offered a question 0 minutes ago."],
    ["offered in the future (clock skew) counts as just now", new Date(NOW.getTime() + HOUR), 0, "Last offered a question 0 minutes ago."],
    ["1 minute ago", ago(60_000), 60_000 / (60_000 + FAIRNESS_HALF_SCORE_MS), "Last offered a question 1 minute ago."],
    ["59 minutes ago", ago(59 * 60_000), (59 * 60_000) / (59 * 60_000 + FAIRNESS_HALF_SCORE_MS), "Last offered a question 59 minutes ago."],
    ["1 hour ago", ago(HOUR), 1 / 3, "Last offered a question 1 hour ago."],
    ["2 hours ago: half", ago(2 * HOUR), 0.5, "Last offered a question 2 hours ago."],
    ["6 hours ago", ago(6 * HOUR), 0.75, "Last offered a question 6 hours ago."],
    ["47 hours ago", ago(47 * HOUR), 47 / 49, "Last offered a question 47 hours ago."],
    ["2 days ago", ago(48 * HOUR), 48 / 50, "Last offered a question 2 days ago."],
    ["30 days ago", ago(720 * HOUR), 720 / 722, "Last offered a question 30 days ago."],
  ])("%s", (_name, lastOfferedAt, value, detail) => {
    const scored = scoreFairness(candidate({ lastOfferedAt }), NOW);
    expect(scored.value).toBeCloseTo(value, 10);
    expect(scored.detail).toBe(detail);
  });

  it("scores half at FAIRNESS_HALF_SCORE_MS (2 hours)", () => {
    expect(FAIRNESS_HALF_SCORE_MS).toBe(2 * HOUR);
  });

  it("prefers older offers, and never offered over any", () => {
    const values = [ago(10 * 60_000), ago(HOUR), ago(24 * HOUR), null].map((at) => scoreFairness(candidate({ lastOfferedAt: at }), NOW).value);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(new Set(values).size).toBe(values.length);
  });

  // Elapsed time is real time: wall clocks jump at a DST change, the time since an offer does not.
  it.each([
    // America/Chicago springs forward 2026-03-08 02:00 CST -> 03:00 CDT: 01:30 CST to 03:30 CDT is one hour.
    ["America/Chicago, spring forward", "2026-03-08T07:30:00Z", "2026-03-08T08:30:00Z", 1 / 3, "1 hour"],
    // ...and falls back 2026-11-01 02:00 CDT -> 01:00 CST: 01:30 CDT to 01:30 CST reads the same on the wall, an hour apart.
    ["America/Chicago, fall back", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z", 1 / 3, "1 hour"],
    // Europe/Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST: 01:00 CET to 04:00 CEST is two hours.
    ["Europe/Berlin, spring forward", "2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z", 0.5, "2 hours"],
  ])("counts real elapsed time across a DST change: %s", (_name, offeredAt, now, value, age) => {
    const scored = scoreFairness(candidate({ lastOfferedAt: new Date(offeredAt) }), new Date(now));
    expect(scored.value).toBeCloseTo(value, 10);
    expect(scored.detail).toBe(`Last offered a question ${age} ago.`);
  });
});

describe("continuity", () => {
  it.each([
    ["no earlier expert", null, "expert-m", 0, "The customer has no earlier expert for this product."],
    ["this is the earlier expert", "expert-m", "expert-m", 1, "The customer's earlier expert for this product."],
    ["someone else was", "expert-x", "expert-m", 0, "Not the customer's earlier expert for this product."],
  ])("%s", (_name, previousExpertId, expertId, value, detail) => {
    expect(scoreContinuity(candidate({ expertId }), previousExpertId)).toEqual({ value, detail });
  });
});

describe("rankCandidates", () => {
  it("returns nothing for no candidates", () => {
    expect(rankCandidates(question(), [], NOW)).toEqual([]);
  });

  it("gives every candidate five reasons, points = weight x value, score = their sum", () => {
    const [ranked] = rankCandidates(question({ previousExpertId: "expert-m" }), [candidate()], NOW);
    expect(ranked?.reasons.map((r) => r.factor)).toEqual(["tag_fit", "rating", "response_rate", "fairness", "continuity"]);
    expect(ranked?.reasons.map((r) => r.weight)).toEqual([35, 25, 20, 20, 50]);
    expect(ranked?.reasons.map((r) => r.value)).toEqual([0.6, 0.8, 0.7143, 0.3333, 1]);
    expect(ranked?.reasons.map((r) => r.points)).toEqual([21, 20, 14.286, 6.666, 50]);
    expect(ranked?.score).toBe(111.952);
    for (const reason of ranked?.reasons ?? []) expect(reason.detail).toMatch(/^[A-Z].*\.$/);
  });

  it("never puts a phone number in a reason", () => {
    const ranked = rankCandidates(question(), [candidate({ name: "+14155550101" })], NOW);
    for (const reason of ranked[0]?.reasons ?? []) expect(reason.detail).not.toMatch(/\+?\d{10,}/);
  });

  it.each([
    ["tag fit", { skills: { "all-grain": 5 } }, { skills: { "all-grain": 2 } }],
    ["rating", { ratingSum: 245, ratingCount: 50 }, { ratingSum: 150, ratingCount: 50 }],
    ["response rate", { offersAccepted: 10, offersDeclined: 0, offersTimedOut: 0 }, { offersAccepted: 0, offersDeclined: 0, offersTimedOut: 10 }],
    ["fairness", { lastOfferedAt: null }, { lastOfferedAt: ago(5 * 60_000) }],
  ])("puts the better %s first, all else equal", (_factor, better, worse) => {
    // "expert-a" sorts first by id: the better one is "expert-b", so only the factor can put it first.
    const candidates = [candidate({ expertId: "expert-a", ...worse }), candidate({ expertId: "expert-b", ...better })];
    expect(order(rankCandidates(question(), candidates, NOW))).toEqual(["expert-b", "expert-a"]);
  });

  it("offers the customer's earlier expert first among reasonable candidates", () => {
    // A reasonable earlier expert (level 3, 4.2 from 10 ratings, half of the offers accepted, offered an hour ago)
    // against the best stranger there can be (level 5, fifty 5-star ratings, every offer accepted, never offered).
    const earlier = candidate({ expertId: "expert-z", offersAccepted: 5, offersDeclined: 0, offersTimedOut: 5 });
    const star = candidate({
      expertId: "expert-a",
      skills: { "all-grain": 5 },
      ratingSum: 250,
      ratingCount: 50,
      offersAccepted: 50,
      offersDeclined: 0,
      offersTimedOut: 0,
      lastOfferedAt: null,
    });
    expect(order(rankCandidates(question({ previousExpertId: "expert-z" }), [star, earlier], NOW))).toEqual(["expert-z", "expert-a"]);
    expect(order(rankCandidates(question(), [star, earlier], NOW))).toEqual(["expert-a", "expert-z"]);
  });

  it("does not put an earlier expert who is a poor fit on every count first", () => {
    const poor = candidate({
      expertId: "expert-z",
      skills: { "all-grain": 1 },
      ratingSum: 20,
      ratingCount: 10,
      offersAccepted: 0,
      offersDeclined: 0,
      offersTimedOut: 10,
      lastOfferedAt: ago(60_000),
    });
    const star = candidate({ expertId: "expert-a", skills: { "all-grain": 5 }, ratingSum: 250, ratingCount: 50, lastOfferedAt: null });
    expect(order(rankCandidates(question({ previousExpertId: "expert-z" }), [poor, star], NOW))).toEqual(["expert-a", "expert-z"]);
  });

  describe("ties", () => {
    it("between equals go by expert id", () => {
      const b = candidate({ expertId: "expert-b", lastOfferedAt: null });
      const a = candidate({ expertId: "expert-a", lastOfferedAt: null });
      expect(order(rankCandidates(question(), [b, a], NOW))).toEqual(["expert-a", "expert-b"]);
    });

    it.each([
      ["older offer first", ago(3 * HOUR), ago(3 * HOUR - 1), ["expert-z", "expert-a"]],
      ["never offered before offered long ago", null, ago(1_000_000 * HOUR), ["expert-z", "expert-a"]],
      ["same instant: by id", ago(HOUR), ago(HOUR), ["expert-a", "expert-z"]],
    ])("with equal rounded scores: %s", (_name, zOfferedAt, aOfferedAt, expected) => {
      // Fairness values this close round to the same score; the tie-break then decides.
      const z = candidate({ expertId: "expert-z", lastOfferedAt: zOfferedAt });
      const a = candidate({ expertId: "expert-a", lastOfferedAt: aOfferedAt });
      const ranked = rankCandidates(question(), [a, z], NOW);
      expect(ranked[0]?.score).toBe(ranked[1]?.score);
      expect(order(ranked)).toEqual(expected);
      expect(order(rankCandidates(question(), [z, a], NOW))).toEqual(expected);
    });

    it("give the same order whatever order the candidates come in", () => {
      const pool = ["expert-c", "expert-a", "expert-d", "expert-b"].map((expertId) => candidate({ expertId }));
      const forward = order(rankCandidates(question(), pool, NOW));
      const backward = order(rankCandidates(question(), [...pool].reverse(), NOW));
      expect(forward).toEqual(["expert-a", "expert-b", "expert-c", "expert-d"]);
      expect(backward).toEqual(forward);
    });
  });

  it("does not change its input", () => {
    const input = [candidate({ expertId: "expert-b" }), candidate({ expertId: "expert-a", skills: { "all-grain": 5 } })];
    const copy = structuredClone(input);
    rankCandidates(question(), input, NOW);
    expect(input).toEqual(copy);
  });
});
