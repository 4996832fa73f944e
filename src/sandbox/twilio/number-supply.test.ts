import { describe, expect, it } from "vitest";
import { AREA_CODES, availableNumbers, NUMBERS_PER_AREA_CODE, supplyAreaOf } from "./number-supply.js";

const nothingTaken = () => false;

describe("the sandbox's number supply", () => {
  it("is NXX-555-0100 to 0199 in each area code, 415 first", () => {
    expect(availableNumbers(3, {}, nothingTaken)).toEqual(["+14155550100", "+14155550101", "+14155550102"]);
    const all = availableNumbers(100_000, {}, nothingTaken);
    expect(all).toHaveLength(AREA_CODES.length * NUMBERS_PER_AREA_CODE);
    expect(new Set(all).size).toBe(all.length);
    expect(all.every((number) => /^\+1[2-9]\d{2}5550(1\d\d)$/.test(number))).toBe(true);
    expect(all.at(-1)).toBe(`+1${AREA_CODES.at(-1)?.code}5550199`);
  });

  it("skips what is taken, wherever it sits in the range", () => {
    const taken = new Set(["+14155550199", "+14155550100", "+14155550150"]);
    const in415 = availableNumbers(200, { areaCode: "415" }, (number) => taken.has(number));
    expect(in415).toHaveLength(97);
    expect(in415[0]).toBe("+14155550101");
    expect(in415.some((number) => taken.has(number))).toBe(false);
  });

  it("filters by Contains: digits, * for any digit, letters as on a keypad, + for the whole number", () => {
    expect(availableNumbers(5, { areaCode: "312", contains: "0142" }, nothingTaken)).toEqual(["+13125550142"]);
    expect(availableNumbers(20, { areaCode: "212", contains: "5550*9*" }, nothingTaken)).toHaveLength(10);
    // J, K and L are 5 on a keypad: "JKL" is 555.
    expect(availableNumbers(1, { contains: "JKL0199" }, nothingTaken)).toEqual(["+14155550199"]);
    expect(availableNumbers(1, { contains: "+1212" }, nothingTaken)).toEqual(["+12125550100"]);
    expect(availableNumbers(1, { contains: "+1555" }, nothingTaken)).toEqual([]);
    expect(availableNumbers(1, { contains: "01-99" }, nothingTaken)).toEqual([]);
  });

  it("knows which numbers are its own, and their locality", () => {
    expect(supplyAreaOf("+13125550100")).toEqual({ code: "312", locality: "Chicago", region: "IL" });
    expect(supplyAreaOf("+14155550199")?.code).toBe("415");
    expect(supplyAreaOf("+14155550200")).toBeUndefined();
    expect(supplyAreaOf("+14155550099")).toBeUndefined();
    expect(supplyAreaOf("+14155551234")).toBeUndefined();
    expect(supplyAreaOf("+19995550100")).toBeUndefined();
  });
});
