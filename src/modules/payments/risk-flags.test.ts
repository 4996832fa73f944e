import { describe, expect, it } from "vitest";
import {
  RISK_FLAGS,
  assessPayoutRisk,
  isShortSession,
  median,
  type ExpertPayoutHistory,
  type PayoutRiskInput,
  type PayoutSessionFacts,
} from "./risk-flags.js";

const EXPERT = "+14155559900";

/** A customer phone per number: +1415555 01 NN, so customers 1 and 2 end "01" and "02". */
function customer(n: number): string {
  return `+1415555${String(n).padStart(4, "0")}`;
}

let nextId = 0;
/** A session nobody would flag: a 5-minute call rated 5, each with its own customer. */
function session(overrides: Partial<PayoutSessionFacts> = {}): PayoutSessionFacts {
  nextId += 1;
  return {
    sessionId: `s${nextId}`,
    mode: "voice",
    durationSeconds: 300,
    expertMessages: 0,
    rating: 5,
    customerPhone: customer(1000 + nextId),
    expertPhone: EXPERT,
    ...overrides,
  };
}

function sessions(count: number, overrides: Partial<PayoutSessionFacts> = {}): PayoutSessionFacts[] {
  return Array.from({ length: count }, () => session(overrides));
}

function history(overrides: Partial<ExpertPayoutHistory> = {}): ExpertPayoutHistory {
  return { previousPayouts: [], sessionsWithCustomer: {}, totalSessions: 0, expertPhones: [], ...overrides };
}

function input(overrides: Partial<PayoutRiskInput> = {}): PayoutRiskInput {
  return { sessions: sessions(3), amountMinor: 4500, currency: "USD", payoutsEnabled: true, history: history(), ...overrides };
}

function assess(overrides: Partial<PayoutRiskInput> = {}) {
  const result = assessPayoutRisk(input(overrides));
  // Whatever is flagged, no detail carries a phone number.
  for (const detail of Object.values(result.details)) expect(detail).not.toMatch(/\d{5}/);
  expect(Object.keys(result.details)).toEqual(result.flags);
  return result;
}

const SHORT_DETAIL = "were very short (a call bridged under 30 s, or a text session under 60 s or with fewer than 2 expert replies)";

describe("assessPayoutRisk: a clean payout", () => {
  it("raises nothing for long, well-rated sessions with different customers", () => {
    expect(assess()).toEqual({ flags: [], details: {} });
  });

  it("raises nothing for a payout without sessions (an adjustment only)", () => {
    expect(assess({ sessions: [] })).toEqual({ flags: [], details: {} });
  });
});

describe("isShortSession", () => {
  it.each([
    ["voice", 0, 0, true],
    ["voice", 29, 0, true],
    ["voice", 30, 0, false],
    ["voice", 31, 0, false],
    ["voice", 31, 9, false],
    ["sms", 59, 5, true],
    ["sms", 60, 5, false],
    ["sms", 61, 5, false],
    ["sms", 600, 0, true],
    ["sms", 600, 1, true],
    ["sms", 600, 2, false],
    ["sms", 600, 3, false],
    ["sms", 59, 1, true],
  ] as const)("%s of %i s with %i expert texts: short = %s", (mode, durationSeconds, expertMessages, short) => {
    expect(isShortSession({ mode, durationSeconds, expertMessages })).toBe(short);
  });
});

describe("short_sessions", () => {
  it.each([
    [1, 0, false],
    [1, 1, true],
    [2, 1, true],
    [3, 1, false],
    [3, 2, true],
    [4, 2, true],
    [5, 2, false],
    [5, 3, true],
    [10, 4, false],
    [10, 5, true],
    [10, 6, true],
  ])("%i sessions of which %i short: flagged = %s", (total, short, flagged) => {
    const list = [...sessions(short, { durationSeconds: 10 }), ...sessions(total - short)];
    const result = assess({ sessions: list });
    expect(result.flags).toEqual(flagged ? ["short_sessions"] : []);
    if (flagged) expect(result.details.short_sessions).toBe(`${short} of ${total} sessions ${SHORT_DETAIL}`);
  });

  it("counts short text sessions and short calls together", () => {
    const list = [session({ mode: "sms", durationSeconds: 900, expertMessages: 1 }), session({ durationSeconds: 29 }), session(), session({ mode: "sms", durationSeconds: 900, expertMessages: 4 })];
    expect(assess({ sessions: list }).details).toEqual({ short_sessions: `2 of 4 sessions ${SHORT_DETAIL}` });
  });
});

describe("low_ratings", () => {
  const mean = (text: string, rated: number) => `ratings average ${text} of 5 over ${rated} rated sessions`;
  it.each([
    [[], null],
    [[null, null], null],
    [[2], null],
    [[2, null], null],
    [[3, 3], null],
    [[2, 4], null],
    [[2, 3, 4], null],
    [[5, 5, 2], null],
    [[3, 2], mean("2.50", 2)],
    [[2, 2], mean("2.00", 2)],
    [[null, 2, 3], mean("2.50", 2)],
    [[2, 3, 3], mean("2.67", 3)],
    [[3, 3, 3, 2], mean("2.75", 4)],
    [[1], "1 session rated 1 star"],
    [[5, 5, 1], "1 session rated 1 star"],
    [[1, 5, 5, 5, 1, 5], "2 sessions rated 1 star"],
    [[1, 2], `${mean("1.50", 2)}; 1 session rated 1 star`],
    [[1, 1], `${mean("1.00", 2)}; 2 sessions rated 1 star`],
  ] as [(number | null)[], string | null][])("ratings %j: %s", (ratings, detail) => {
    const result = assess({ sessions: ratings.map((rating) => session({ rating })) });
    expect(result.details).toEqual(detail === null ? {} : { low_ratings: detail });
  });
});

describe("same_phone_both_sides", () => {
  const detail = (same: number, of: number) => `${same} of ${of} sessions had the expert's own phone, or another expert's known phone, on the customer side`;

  it("flags a session whose customer phone is its expert phone", () => {
    const list = [session({ customerPhone: EXPERT }), session(), session()];
    expect(assess({ sessions: list }).details).toEqual({ same_phone_both_sides: detail(1, 3) });
  });

  it("flags a customer phone that belongs to another of the shop's experts", () => {
    const other = "+14155559901";
    const list = [session({ customerPhone: other }), session({ customerPhone: other }), session(), session(), session()];
    const result = assess({ sessions: list, history: history({ expertPhones: ["+14155559902", other] }) });
    expect(result.details).toEqual({ same_phone_both_sides: detail(2, 5) });
  });

  it("counts each session once when both checks match", () => {
    const list = [session({ customerPhone: EXPERT }), session()];
    expect(assess({ sessions: list, history: history({ expertPhones: [EXPERT] }) }).details).toEqual({ same_phone_both_sides: detail(1, 2) });
  });

  it("does not flag known expert phones that are not on the customer side", () => {
    expect(assess({ history: history({ expertPhones: [EXPERT, "+14155559901"] }) }).flags).toEqual([]);
  });
});

describe("repeat_pair within the payout", () => {
  it.each([
    [2, 2, false],
    [2, 4, false],
    [3, 3, true],
    [3, 5, true],
    [3, 6, true],
    [3, 7, false],
    [4, 7, true],
    [4, 8, true],
    [4, 9, false],
  ])("one customer with %i of %i sessions: flagged = %s", (repeated, total, flagged) => {
    const list = [...sessions(repeated, { customerPhone: customer(1) }), ...sessions(total - repeated)];
    const result = assess({ sessions: list, history: history({ totalSessions: 1000 }) });
    expect(result.details).toEqual(flagged ? { repeat_pair: `a customer ending 01 had ${repeated} of the ${total} sessions in this payout` } : {});
  });

  it("names every repeated customer", () => {
    const list = [...sessions(3, { customerPhone: customer(1) }), ...sessions(3, { customerPhone: customer(2) })];
    expect(assess({ sessions: list }).details).toEqual({
      repeat_pair: "a customer ending 01 had 3 of the 6 sessions in this payout; a customer ending 02 had 3 of the 6 sessions in this payout",
    });
  });
});

describe("repeat_pair over the expert's history", () => {
  it.each([
    [9, 18, false],
    [10, 18, true],
    [10, 19, true],
    [10, 20, true],
    [10, 21, false],
    [11, 21, true],
    [11, 22, true],
    [11, 23, false],
    [50, 100, true],
    [49, 100, false],
  ])("a customer with %i of the expert's %i sessions: flagged = %s", (lifetime, totalSessions, flagged) => {
    const list = [session({ customerPhone: customer(7) }), session(), session()];
    const result = assess({ sessions: list, history: history({ totalSessions, sessionsWithCustomer: { [customer(7)]: lifetime } }) });
    expect(result.details).toEqual(flagged ? { repeat_pair: `a customer ending 07 has had ${lifetime} of the expert's ${totalSessions} sessions` } : {});
  });

  it("reads the lifetime count of customers in this payout only", () => {
    const result = assess({ history: history({ totalSessions: 20, sessionsWithCustomer: { [customer(7)]: 20 } }) });
    expect(result.flags).toEqual([]);
  });

  it("never takes the total below this payout's own sessions", () => {
    const list = [session({ customerPhone: customer(7) }), ...sessions(19)];
    const recorded = { [customer(7)]: 10 };
    expect(assess({ sessions: list, history: history({ totalSessions: 0, sessionsWithCustomer: recorded }) }).details).toEqual({
      repeat_pair: "a customer ending 07 has had 10 of the expert's 20 sessions",
    });
    expect(assess({ sessions: [...list, session()], history: history({ totalSessions: 0, sessionsWithCustomer: recorded }) }).flags).toEqual([]);
  });

  it("gives the payout reason when both hold", () => {
    const list = sessions(3, { customerPhone: customer(1) });
    const result = assess({ sessions: list, history: history({ totalSessions: 12, sessionsWithCustomer: { [customer(1)]: 12 } }) });
    expect(result.details).toEqual({ repeat_pair: "a customer ending 01 had 3 of the 3 sessions in this payout" });
  });
});

describe("median", () => {
  it.each([
    [[7], 7],
    [[3, 1, 2], 2],
    [[10, 9, 100], 10],
    [[4, 1, 3, 2], 2.5],
    [[100, 9, 10, 20], 15],
    [[0, 0, 5], 0],
  ])("median of %j is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it("leaves its input alone and refuses an empty list", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(new RangeError("the median of no values is undefined"));
  });
});

describe("unusual_volume", () => {
  const previous = (...pairs: [number, number][]) => pairs.map(([sessionCount, amountMinor]) => ({ sessionCount, amountMinor }));

  it.each([
    [0, 50, false],
    [0, 51, true],
    [2, 50, false],
    [2, 51, true],
    [2, 200, true],
  ])("with %i earlier payouts, %i sessions: flagged = %s", (earlier, count, flagged) => {
    const result = assess({ sessions: sessions(count), amountMinor: 1, history: history({ previousPayouts: previous(...Array.from({ length: earlier }, () => [1, 1] as [number, number])) }) });
    expect(result.details).toEqual(flagged ? { unusual_volume: `${count} sessions before the expert has 3 earlier payouts (flagged above 50)` } : {});
  });

  it.each([
    // Earlier counts 10, 9, 100: the median is 10 (not the lexicographic "100").
    [30, 600, null],
    [31, 600, "31 sessions against a median of 10 over the last 3 payouts (flagged above 3x)"],
    [29, 600, null],
    [30, 601, "$6.01 against a median of $2.00 over the last 3 payouts (flagged above 3x)"],
    [30, 599, null],
    [31, 601, "31 sessions against a median of 10 and $6.01 against a median of $2.00 over the last 3 payouts (flagged above 3x)"],
  ])("against 3 earlier payouts, %i sessions and %i cents: %s", (count, amountMinor, detail) => {
    const result = assess({ sessions: sessions(count), amountMinor, history: history({ totalSessions: 1000, previousPayouts: previous([10, 100], [9, 200], [100, 300]) }) });
    expect(result.details).toEqual(detail === null ? {} : { unusual_volume: detail });
  });

  it("takes the mean of the middle two for an even history, and a large first payout is fine once there is history", () => {
    const earlier = previous([20, 1000], [10, 3000], [40, 2000], [30, 4000]); // medians 25 and 2500
    const at = (count: number, amountMinor: number) => assess({ sessions: sessions(count), amountMinor, history: history({ totalSessions: 1000, previousPayouts: earlier }) }).details;
    expect(at(75, 7500)).toEqual({});
    expect(at(76, 7500)).toEqual({ unusual_volume: "76 sessions against a median of 25 over the last 4 payouts (flagged above 3x)" });
    expect(at(75, 7501)).toEqual({ unusual_volume: "$75.01 against a median of $25.00 over the last 4 payouts (flagged above 3x)" });
  });

  it("formats the amounts in the payout's currency", () => {
    const result = assess({ sessions: sessions(1), amountMinor: 1000, currency: "JPY", history: history({ previousPayouts: previous([1, 100], [1, 100], [1, 100]) }) });
    expect(result.details).toEqual({ unusual_volume: "¥1,000 against a median of ¥100 over the last 3 payouts (flagged above 3x)" });
  });

  it("looks at the newest 10 earlier payouts only", () => {
    // Newest first: five of 1 session and five of 10 (median 5.5); the 11th, oldest, would lift the median to 10.
    const earlier = previous(...Array.from({ length: 5 }, () => [1, 100] as [number, number]), ...Array.from({ length: 6 }, () => [10, 100] as [number, number]));
    const result = assess({ sessions: sessions(17), amountMinor: 300, history: history({ totalSessions: 1000, previousPayouts: earlier }) });
    expect(result.details).toEqual({ unusual_volume: "17 sessions against a median of 5.5 over the last 10 payouts (flagged above 3x)" });
    expect(assess({ sessions: sessions(16), amountMinor: 300, history: history({ totalSessions: 1000, previousPayouts: earlier }) }).flags).toEqual([]);
  });
});

describe("payouts_not_enabled", () => {
  it("flags an expert whose Stripe account cannot receive transfers", () => {
    expect(assess({ payoutsEnabled: false })).toEqual({
      flags: ["payouts_not_enabled"],
      details: { payouts_not_enabled: "the expert's Stripe account cannot receive transfers yet (payouts not enabled)" },
    });
    expect(assess({ payoutsEnabled: true }).flags).toEqual([]);
  });
});

describe("combined", () => {
  it("raises every flag at once, in RISK_FLAGS order", () => {
    const list = [
      session({ durationSeconds: 5, rating: 1, customerPhone: EXPERT }),
      session({ durationSeconds: 5, rating: 2, customerPhone: customer(3) }),
      session({ mode: "sms", durationSeconds: 30, expertMessages: 0, rating: null, customerPhone: customer(3) }),
      session({ customerPhone: customer(3), rating: 3 }),
    ];
    const result = assess({
      sessions: list,
      amountMinor: 90_000,
      payoutsEnabled: false,
      history: history({ totalSessions: 40, previousPayouts: [{ sessionCount: 1, amountMinor: 1000 }, { sessionCount: 1, amountMinor: 1000 }, { sessionCount: 1, amountMinor: 1000 }] }),
    });
    expect(result.flags).toEqual([...RISK_FLAGS]);
    expect(result.details).toEqual({
      short_sessions: `3 of 4 sessions ${SHORT_DETAIL}`,
      low_ratings: "ratings average 2.00 of 5 over 3 rated sessions; 1 session rated 1 star",
      same_phone_both_sides: "1 of 4 sessions had the expert's own phone, or another expert's known phone, on the customer side",
      repeat_pair: "a customer ending 03 had 3 of the 4 sessions in this payout",
      unusual_volume: "4 sessions against a median of 1 and $900.00 against a median of $10.00 over the last 3 payouts (flagged above 3x)",
      payouts_not_enabled: "the expert's Stripe account cannot receive transfers yet (payouts not enabled)",
    });
  });

  it("keeps RISK_FLAGS order for any subset", () => {
    const result = assess({ sessions: [session({ durationSeconds: 1, customerPhone: EXPERT })], payoutsEnabled: false });
    expect(result.flags).toEqual(["short_sessions", "same_phone_both_sides", "payouts_not_enabled"]);
  });

  it("is a plain function of its input: the same input gives the same answer", () => {
    const fixed = input({ sessions: [session({ durationSeconds: 1 }), session({ rating: 1 })], payoutsEnabled: false });
    expect(assessPayoutRisk(fixed)).toEqual(assessPayoutRisk(structuredClone(fixed)));
  });
});

describe("nonsense input", () => {
  const bad = (overrides: Partial<PayoutSessionFacts>) => ({ sessions: [session(), session(overrides)] });
  it.each([
    ["a zero amount", { amountMinor: 0 }, "amountMinor must be a positive whole number, got 0"],
    ["a negative amount", { amountMinor: -100 }, "amountMinor must be a positive whole number, got -100"],
    ["a fractional amount", { amountMinor: 10.5 }, "amountMinor must be a positive whole number, got 10.5"],
    ["an unsafe amount", { amountMinor: 2 ** 53 }, "amountMinor must be a positive whole number"],
    ["a NaN amount", { amountMinor: Number.NaN }, "amountMinor must be a positive whole number, got NaN"],
    ["a lower-case currency", { currency: "usd" }, "currency must be an ISO 4217 code such as USD, got usd"],
    ["a long currency", { currency: "USDX" }, "currency must be an ISO 4217 code such as USD, got USDX"],
    ["a currency with a prefix", { currency: "xUSD" }, "currency must be an ISO 4217 code"],
    ["an empty session id", bad({ sessionId: "" }), "sessions[1].sessionId must be present and unique"],
    ["a repeated session", { sessions: [session({ sessionId: "x" }), session({ sessionId: "x" })] }, "sessions[1].sessionId must be present and unique"],
    ["an unknown mode", bad({ mode: "fax" as "sms" }), "sessions[1].mode must be sms or voice, got fax"],
    ["a negative duration", bad({ durationSeconds: -1 }), "sessions[1].durationSeconds must be a whole number of 0 or more, got -1"],
    ["a fractional duration", bad({ durationSeconds: 1.5 }), "sessions[1].durationSeconds must be a whole number of 0 or more, got 1.5"],
    ["a negative message count", bad({ expertMessages: -1 }), "sessions[1].expertMessages must be a whole number of 0 or more, got -1"],
    ["a rating of 0", bad({ rating: 0 }), "sessions[1].rating must be a whole number from 1 to 5 or null, got 0"],
    ["a rating of 6", bad({ rating: 6 }), "sessions[1].rating must be a whole number from 1 to 5 or null, got 6"],
    ["a fractional rating", bad({ rating: 4.5 }), "sessions[1].rating must be a whole number from 1 to 5 or null, got 4.5"],
    ["a national customer phone", bad({ customerPhone: "4155550100" }), "sessions[1].customerPhone must be an E.164 phone number"],
    ["a customer phone with text after it", bad({ customerPhone: "+14155550100x" }), "sessions[1].customerPhone must be an E.164 phone number"],
    ["a customer phone with text before it", bad({ customerPhone: "tel:+14155550100" }), "sessions[1].customerPhone must be an E.164 phone number"],
    ["an empty expert phone", bad({ expertPhone: "" }), "sessions[1].expertPhone must be an E.164 phone number"],
    ["a negative earlier count", { history: history({ previousPayouts: [{ sessionCount: -1, amountMinor: 0 }] }) }, "history.previousPayouts[0].sessionCount must be a whole number of 0 or more, got -1"],
    ["a fractional earlier amount", { history: history({ previousPayouts: [{ sessionCount: 0, amountMinor: 0.5 }] }) }, "history.previousPayouts[0].amountMinor must be a whole number of 0 or more, got 0.5"],
    ["a negative customer count", { history: history({ sessionsWithCustomer: { [customer(1)]: -2 } }) }, "history.sessionsWithCustomer must be a whole number of 0 or more, got -2"],
    ["a negative total", { history: history({ totalSessions: -1 }) }, "history.totalSessions must be a whole number of 0 or more, got -1"],
    ["a malformed expert phone", { history: history({ expertPhones: [EXPERT, "+0123"] }) }, "history.expertPhones[1] must be an E.164 phone number"],
  ] as [string, Partial<PayoutRiskInput>, string][])("refuses %s", (_name, overrides, message) => {
    const call = () => assessPayoutRisk(input(overrides));
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });

  it("accepts the edges of what is valid", () => {
    const edges = [session({ rating: 1 }), session({ rating: 5 }), session({ rating: null, durationSeconds: 0, expertMessages: 0 }), session({ customerPhone: "+12" })];
    expect(() =>
      assessPayoutRisk(input({ sessions: edges, amountMinor: 1, history: history({ previousPayouts: [{ sessionCount: 0, amountMinor: 0 }], sessionsWithCustomer: { [customer(1)]: 0 }, totalSessions: 0 }) })),
    ).not.toThrow();
    expect(() => assessPayoutRisk(input({ amountMinor: Number.MAX_SAFE_INTEGER }))).not.toThrow();
  });
});
