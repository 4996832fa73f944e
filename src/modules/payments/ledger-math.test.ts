import { describe, expect, it } from "vitest";
import { refundableMinor, splitRefund, type SessionCharge } from "./ledger-math.js";

const charge: SessionCharge = { chargeMinor: 1000, earningMinor: 850, feeMinor: 150 };

describe("refundableMinor", () => {
  it("is what is left of the charge, never below 0", () => {
    expect(refundableMinor(charge, 0)).toBe(1000);
    expect(refundableMinor(charge, 999)).toBe(1);
    expect(refundableMinor(charge, 1000)).toBe(0);
    expect(refundableMinor(charge, 1200)).toBe(0);
    expect(() => refundableMinor(charge, -1)).toThrow("refundedBeforeMinor must be a whole number of 0 or more, got -1");
  });
});

describe("splitRefund", () => {
  it("splits a full refund into exactly the earning and the fee", () => {
    expect(splitRefund(charge, 0, 1000)).toEqual({ refundMinor: 1000, earningMinor: 850, feeMinor: 150 });
  });

  it("splits a partial refund in proportion, rounding the earning's share down", () => {
    expect(splitRefund(charge, 0, 333)).toEqual({ refundMinor: 333, earningMinor: 283, feeMinor: 50 }); // 283.05
    expect(splitRefund(charge, 0, 1)).toEqual({ refundMinor: 1, earningMinor: 0, feeMinor: 1 });
    expect(splitRefund(charge, 0, 2)).toEqual({ refundMinor: 2, earningMinor: 1, feeMinor: 1 }); // 1.7
  });

  it("takes the running total into account, so parts add up to the whole", () => {
    const first = splitRefund(charge, 0, 333);
    const second = splitRefund(charge, 333, 333);
    const third = splitRefund(charge, 666, 334);
    expect(second).toEqual({ refundMinor: 333, earningMinor: 283, feeMinor: 50 }); // 566.1 - 283.05
    expect(first.earningMinor + second.earningMinor + third.earningMinor).toBe(850);
    expect(first.feeMinor + second.feeMinor + third.feeMinor).toBe(150);
  });

  it("never loses a cent for any way of cutting a refund", () => {
    for (const [chargeMinor, feeMinor] of [[1000, 150], [7, 3], [1, 0], [1, 1], [99_999, 12_345], [500, 0], [500, 500]] as const) {
      const c = { chargeMinor, earningMinor: chargeMinor - feeMinor, feeMinor };
      for (const step of [1, 2, 3, 7, 100, 4_999, chargeMinor]) {
        if (chargeMinor / step > 1_000) continue; // the small steps on small charges say the same, faster
        let refunded = 0;
        let earning = 0;
        let fee = 0;
        while (refunded < chargeMinor) {
          const part = splitRefund(c, refunded, Math.min(step, chargeMinor - refunded));
          expect(part.earningMinor + part.feeMinor).toBe(part.refundMinor);
          expect(part.earningMinor).toBeGreaterThanOrEqual(0);
          expect(part.feeMinor).toBeGreaterThanOrEqual(0);
          refunded += part.refundMinor;
          earning += part.earningMinor;
          fee += part.feeMinor;
          expect(earning).toBe(Math.floor((refunded * c.earningMinor) / chargeMinor));
        }
        expect([earning, fee]).toEqual([c.earningMinor, c.feeMinor]);
      }
    }
  });

  it("refuses more than is left, nothing, and what is not money", () => {
    expect(() => splitRefund(charge, 900, 101)).toThrow("only 100 of the charge is left to refund, asked for 101");
    expect(splitRefund(charge, 900, 100)).toEqual({ refundMinor: 100, earningMinor: 85, feeMinor: 15 });
    expect(() => splitRefund(charge, 1000, 1)).toThrow("only 0 of the charge is left to refund, asked for 1");
    expect(() => splitRefund(charge, 0, 0)).toThrow("amountMinor must be at least 1");
    expect(() => splitRefund(charge, 0, 1.5)).toThrow("amountMinor must be a whole number of 0 or more, got 1.5");
    expect(() => splitRefund(charge, 0, -1)).toThrow(RangeError);
    expect(() => splitRefund({ chargeMinor: 100, earningMinor: 90, feeMinor: 20 }, 0, 10)).toThrow("earning + fee must equal the charge");
    expect(() => splitRefund({ chargeMinor: -1, earningMinor: 0, feeMinor: -1 }, 0, 1)).toThrow("chargeMinor must be a whole number of 0 or more, got -1");
    expect(() => splitRefund({ chargeMinor: 10, earningMinor: -1, feeMinor: 11 }, 0, 1)).toThrow("earningMinor must be a whole number of 0 or more, got -1");
    expect(() => splitRefund({ chargeMinor: 10, earningMinor: 11, feeMinor: -1 }, 0, 1)).toThrow("feeMinor must be a whole number of 0 or more, got -1");
  });

  it("gives nothing of a zero charge", () => {
    expect(() => splitRefund({ chargeMinor: 0, earningMinor: 0, feeMinor: 0 }, 0, 1)).toThrow("only 0 of the charge is left");
  });
});
