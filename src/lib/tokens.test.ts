import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, issueApiKey, randomBase62, safeEqual, sha256Hex } from "./tokens.js";

describe("API keys", () => {
  it("are issued with a visible prefix and stored as a SHA-256", () => {
    const issued = issueApiKey();
    expect(issued.key).toMatch(API_KEY_PATTERN);
    expect(issued.key.startsWith(`${issued.prefix}_`)).toBe(true);
    expect(issued.hash).toBe(sha256Hex(issued.key));
    expect(issued.hash).not.toContain(issued.key.slice(-32));
  });

  it("are unique", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => issueApiKey().key));
    expect(keys.size).toBe(1000);
  });
});

describe("randomBase62", () => {
  it("has the requested length and alphabet", () => {
    const value = randomBase62(500);
    expect(value).toHaveLength(500);
    expect(value).toMatch(/^[0-9A-Za-z]+$/);
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
