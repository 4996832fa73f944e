import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, issueApiKey, randomBase62, safeEqual, sha256Hex, withoutTextedCredentials } from "./tokens.js";

describe("API keys", () => {
  it("are issued with a visible prefix and stored as a SHA-256", () => {
    const issued = issueApiKey();
    expect(issued.key).toMatch(API_KEY_PATTERN);
    expect(issued.key.startsWith(`${issued.prefix}_`)).toBe(true);
    expect(issued.hash).toBe(sha256Hex(issued.key));
    expect(issued.hash).not.toContain(issued.key.slice(-32));
  });

  it("are recognised only whole: the pattern refuses anything before or after a key", () => {
    const { key } = issueApiKey();
    expect(API_KEY_PATTERN.test(key)).toBe(true);
    for (const wrapped of [`x${key}`, `${key}x`, `Bearer ${key}`, `${key} `, key.slice(0, -1), key.replace("el_live_", "el_test_")]) {
      expect(API_KEY_PATTERN.test(wrapped), wrapped).toBe(false);
    }
  });

  it("are unique", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => issueApiKey().key));
    expect(keys.size).toBe(1000);
  });
});

describe("randomBase62", () => {
  it.each([0, 1, 2, 8, 32, 500])("has the requested length %i and alphabet", (length) => {
    const value = randomBase62(length);
    expect(value).toHaveLength(length);
    expect(value).toMatch(/^[0-9A-Za-z]*$/);
  });

  it("draws every character equally often (no modulo bias)", () => {
    // A byte % 62 without rejecting bytes 248-255 would make "0" to "7" a
    // quarter more frequent (5/256 instead of 4/256). With 2,000 expected per
    // character (standard deviation about 44), a count off by more than 250
    // means bias; by chance it happens about once in a million runs.
    const perCharacter = 2000;
    const counts = new Map<string, number>();
    for (const character of randomBase62(62 * perCharacter)) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const [character, count] of counts) {
      expect(Math.abs(count - perCharacter), `"${character}" drawn ${count} times`).toBeLessThan(250);
    }
  });
});

describe("safeEqual", () => {
  it("compares strings of any length", () => {
    expect(safeEqual("secret-admin-key", "secret-admin-key")).toBe(true);
    expect(safeEqual("secret-admin-key", "secret-admin-kez")).toBe(false);
    expect(safeEqual("short", "a much longer string")).toBe(false);
    expect(safeEqual("", "")).toBe(true);
  });
});

describe("withoutTextedCredentials", () => {
  it("replaces the token of every onboarding link, and nothing else", () => {
    const token = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
    expect(withoutTextedCredentials(`Set up payouts: https://x.example/e/onboard/${token} (7 days). Again: /e/onboard/${token}/return`)).toBe(
      "Set up payouts: https://x.example/e/onboard/[sent] (7 days). Again: /e/onboard/[sent]/return",
    );
    expect(withoutTextedCredentials("Your status: https://x.example/q/abc and /e/onboard/short")).toBe("Your status: https://x.example/q/abc and /e/onboard/short");
    expect(withoutTextedCredentials(`/e/onboard/${"a".repeat(15)}`)).toBe(`/e/onboard/${"a".repeat(15)}`);
    expect(withoutTextedCredentials(`/e/onboard/${"a".repeat(16)}`)).toBe("/e/onboard/[sent]");
  });
});
