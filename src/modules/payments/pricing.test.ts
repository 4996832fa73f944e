import { describe, expect, it } from "vitest";
import { platformFee, priceSession, startedMinutes, type Pricing } from "./pricing.js";

const perSession: Pricing = { mode: "per_session", amountMinor: 1500, minimumMinor: 0, platformFeeBps: 2000, currency: "USD" };
const perMinute: Pricing = { mode: "per_minute", amountMinor: 125, minimumMinor: 500, platformFeeBps: 1500, currency: "EUR" };

describe("startedMinutes", () => {
  it("counts every started minute", () => {
    expect([0, 1, 59, 60, 61, 119, 120, 121, 3600].map(startedMinutes)).toEqual([0, 1, 1, 1, 2, 2, 2, 3, 60]);
  });

  it("refuses a negative or fractional length", () => {
    expect(() => startedMinutes(-1)).toThrow("bridgedSeconds must be a whole number of 0 or more, got -1");
    expect(() => startedMinutes(1.5)).toThrow(RangeError);
  });
});

describe("platformFee", () => {
  it("takes the basis points of the charge, rounded down", () => {
    expect(platformFee(1500, 2000)).toBe(300);
    expect(platformFee(999, 1500)).toBe(149); // 149.85
    expect(platformFee(1, 9999)).toBe(0); // 0.9999
    expect(platformFee(1, 10_000)).toBe(1);
    expect(platformFee(12_345, 0)).toBe(0);
    expect(platformFee(0, 2000)).toBe(0);
  });

  it("stays exact where a float product would not", () => {
    // 9007199254740991 x 9999 overflows a double's exact range; BigInt keeps every cent.
    expect(platformFee(Number.MAX_SAFE_INTEGER, 9999)).toBe(Number((BigInt(Number.MAX_SAFE_INTEGER) * 9999n) / 10_000n));
  });

  it("refuses basis points outside 0-10000 and bad charges", () => {
    expect(() => platformFee(100, -1)).toThrow("platformFeeBps must be a whole number from 0 to 10000, got -1");
    expect(() => platformFee(100, 10_001)).toThrow(RangeError);
    expect(() => platformFee(100, 12.5)).toThrow(RangeError);
    expect(() => platformFee(-100, 100)).toThrow("chargeMinor must be a whole number of 0 or more, got -100");
  });
});

describe("priceSession", () => {
  it("charges a flat amount per answered session, whatever its length", () => {
    for (const bridgedSeconds of [0, 1, 3600]) {
      expect(priceSession(perSession, { bridgedSeconds, answered: true })).toEqual({ currency: "USD", billableMinutes: null, chargeMinor: 1500, earningMinor: 1200, feeMinor: 300 });
    }
  });

  it("charges nothing for a session the expert never answered, in either mode", () => {
    expect(priceSession(perSession, { bridgedSeconds: 0, answered: false })).toEqual({ currency: "USD", billableMinutes: null, chargeMinor: 0, earningMinor: 0, feeMinor: 0 });
    expect(priceSession(perMinute, { bridgedSeconds: 0, answered: false })).toEqual({ currency: "EUR", billableMinutes: 0, chargeMinor: 0, earningMinor: 0, feeMinor: 0 });
  });

  it("charges the minimum for an answered per-minute session that only texted", () => {
    expect(priceSession(perMinute, { bridgedSeconds: 0, answered: true })).toEqual({ currency: "EUR", billableMinutes: 0, chargeMinor: 500, earningMinor: 425, feeMinor: 75 });
    expect(priceSession({ ...perMinute, minimumMinor: 0 }, { bridgedSeconds: 0, answered: true })).toMatchObject({ chargeMinor: 0 });
  });

  it("charges per started minute of the bridged time", () => {
    expect(priceSession(perMinute, { bridgedSeconds: 241, answered: true })).toEqual({ currency: "EUR", billableMinutes: 5, chargeMinor: 625, earningMinor: 532, feeMinor: 93 });
  });

  it("charges at least the minimum for a short call", () => {
    expect(priceSession(perMinute, { bridgedSeconds: 30, answered: true })).toEqual({ currency: "EUR", billableMinutes: 1, chargeMinor: 500, earningMinor: 425, feeMinor: 75 });
    expect(priceSession({ ...perMinute, minimumMinor: 0 }, { bridgedSeconds: 30, answered: true })).toMatchObject({ chargeMinor: 125 });
    expect(priceSession({ ...perMinute, minimumMinor: 0 }, { bridgedSeconds: 61, answered: true })).toMatchObject({ chargeMinor: 250, billableMinutes: 2 });
  });

  it("never makes or loses a cent: charge = earning + fee, and the fee is the rounded-down share, for every input", () => {
    for (const mode of ["per_session", "per_minute"] as const) {
      for (const amountMinor of [0, 1, 7, 99, 125, 1500, 99_999]) {
        for (const platformFeeBps of [0, 1, 333, 1500, 5000, 9999, 10_000]) {
          for (const [bridgedSeconds, answered] of [[0, true], [0, false], [1, true], [59, true], [60, true], [61, true], [599, true], [3601, true]] as const) {
            const price = priceSession({ mode, amountMinor, minimumMinor: 250, platformFeeBps, currency: "USD" }, { bridgedSeconds, answered });
            expect(price.earningMinor + price.feeMinor).toBe(price.chargeMinor);
            expect(price.feeMinor).toBe(Math.floor((price.chargeMinor * platformFeeBps) / 10_000));
            expect(price.earningMinor).toBeGreaterThanOrEqual(0);
            expect(Number.isSafeInteger(price.chargeMinor) && Number.isSafeInteger(price.feeMinor)).toBe(true);
          }
        }
      }
    }
  });

  it("refuses what is not money", () => {
    expect(() => priceSession({ ...perSession, amountMinor: 12.5 }, { bridgedSeconds: 0, answered: true })).toThrow("amountMinor must be a whole number of 0 or more, got 12.5");
    expect(() => priceSession({ ...perMinute, minimumMinor: -1 }, { bridgedSeconds: 60, answered: true })).toThrow("minimumMinor must be a whole number of 0 or more, got -1");
    expect(() => priceSession(perSession, { bridgedSeconds: -5, answered: true })).toThrow("bridgedSeconds must be a whole number of 0 or more, got -5");
    expect(() => priceSession({ ...perMinute, amountMinor: Number.MAX_SAFE_INTEGER }, { bridgedSeconds: 120, answered: true })).toThrow("the charge is too large to represent exactly");
    // The largest exact charge is still a charge.
    expect(priceSession({ ...perMinute, amountMinor: Number.MAX_SAFE_INTEGER }, { bridgedSeconds: 60, answered: true })).toMatchObject({ chargeMinor: Number.MAX_SAFE_INTEGER });
  });
});
