import { describe, expect, it } from "vitest";
import { maskPhone, maskPhonesInText, toE164 } from "./phone.js";

describe("toE164", () => {
  it.each([
    ["+1 (415) 555-2671", undefined, "+14155552671"],
    ["+14155552671", undefined, "+14155552671"],
    ["415-555-2671", "US", "+14155552671"],
    ["+44 20 7946 0958", undefined, "+442079460958"],
    ["030 123456", "DE", "+4930123456"],
    ["  +4915123456789 ", undefined, "+4915123456789"],
    // libphonenumber refuses inputs over 250 characters, padding included
    [`${" ".repeat(300)}+14155552671${" ".repeat(300)}`, undefined, "+14155552671"],
  ] as const)("normalises %s", (input, country, expected) => {
    expect(toE164(input, country)).toBe(expected);
  });

  it.each([
    ["415-555-2671", undefined], // national format with no country
    ["+1 415 555", undefined], // too short
    ["+1 015 555 2671", undefined], // US area codes never start with 0
    ["hello", "US"],
    ["", undefined],
    ["+999 1234567", undefined], // no such country code
  ] as const)("rejects %s", (input, country) => {
    expect(toE164(input, country)).toBeNull();
  });
});

describe("maskPhone", () => {
  it("keeps the country prefix and last two digits", () => {
    expect(maskPhone("+14155552671")).toBe("+1********71");
    expect(maskPhone("+4915123456789")).toBe("+4**********89");
  });

  it.each([
    ["", ""],
    ["+", "*"],
    ["+1", "**"],
    ["+12", "***"],
    ["+123", "****"],
    ["+1234", "+1*34"],
  ])("masks the short input %j as %j without throwing", (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });
});

describe("maskPhonesInText", () => {
  it.each([
    ["call +1 415 555 2671 now", "call +1********71 now"],
    ["The 'To' number +14155552671 is not valid", "The 'To' number +1********71 is not valid"],
    ["from (415) 555-2671 to +44 20 7946 0958", "from (41******71 to +4*********58"],
    ["order 1234567 ships today", "order 1234567 ships today"], // too short to be a phone number
    ["no digits here", "no digits here"],
    ["", ""],
    // what an operator needs from an error message stays readable
    ["connect ECONNREFUSED 127.0.0.1:5432", "connect ECONNREFUSED 127.0.0.1:5432"],
    ["host 192.168.100.200 down", "host 192.168.100.200 down"],
    ["due 2026-11-23 at noon", "due 2026-11-23 at noon"],
    // eight digits are enough to hide; a date-like run with more digits is still a number
    ["ring 1234-5678", "ring 12****78"],
    ["ring 123.4567", "ring 123.4567"],
    ["id 2026-11-234", "id 20*****34"],
    ["dotted 415.555.2671", "dotted 41******71"],
    ["ring 123-45-67", "ring 123-45-67"], // seven digits
    ["ring +12 345 67", "ring +12 345 67"], // seven digits; the plus is not one
    // an address or a date is kept only when it is the whole match
    ["call 1234 10.0.0.1", "call 12*****01"],
    ["call 10.0.0.1 2345", "call 10*****45"],
    ["call 12 2026-11-23", "call 12******23"],
  ])("%j -> %j", (text, masked) => {
    expect(maskPhonesInText(text)).toBe(masked);
  });
});
