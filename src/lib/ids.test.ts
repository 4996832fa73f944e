import type * as nodeCrypto from "node:crypto";
import { randomFillSync } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { uuidv7 } from "./ids.js";

// The real randomFillSync, watched, to count how often the pool is refilled.
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof nodeCrypto>();
  return { ...crypto, randomFillSync: vi.fn(crypto.randomFillSync) };
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Enough ids to cross several refills of the 256-id pool. */
function manyIds(at: (i: number) => number): string[] {
  return Array.from({ length: 2_000 }, (_, i) => uuidv7(at(i)));
}

describe("uuidv7", () => {
  it("is a version 7, variant 10 UUID that zod and PostgreSQL accept", () => {
    const id = uuidv7();
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
  });

  it("keeps that shape across pool refills", () => {
    for (const id of manyIds(() => 1_700_000_000_000)) expect(id).toMatch(UUID_V7);
  });

  it("carries the millisecond timestamp in its first 48 bits", () => {
    const at = Date.UTC(2026, 11, 2, 1, 2, 3, 456);
    const id = uuidv7(at);
    expect(id.slice(0, 13)).toBe("01a23445-dcc0");
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(at);
    // The largest 48-bit time and the epoch: both halves of the timestamp, with no carry between them.
    expect(uuidv7(2 ** 48 - 1).slice(0, 13)).toBe("ffffffff-ffff");
    expect(uuidv7(2 ** 32 - 1).slice(0, 13)).toBe("0000ffff-ffff");
    expect(uuidv7(2 ** 32).slice(0, 13)).toBe("00010000-0000");
    expect(uuidv7(0).slice(0, 13)).toBe("00000000-0000");
  });

  it("takes the current time by default", () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    const at = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });

  it("sorts by creation time and never repeats", () => {
    const ids = manyIds((i) => 1_700_000_000_000 + i);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never repeats within one millisecond: every bit after the version and variant is random", () => {
    const ids = manyIds(() => 1_700_000_000_000);
    expect(new Set(ids).size).toBe(ids.length);
    // 2,000 draws leave no value of these digits unseen, unless a bit is fixed.
    const seen = (position: number) => new Set(ids.map((id) => id[position])).size;
    expect(seen(15)).toBe(16); // the low half of the version byte
    expect(seen(19)).toBe(4); // the variant byte keeps its two random bits
    expect(seen(20)).toBe(16);
  });

  it("fetches random bytes once per 256 ids", () => {
    const refills = vi.mocked(randomFillSync);
    const before = refills.mock.calls.length;
    for (let i = 0; i < 3 * 256; i++) uuidv7();
    // Wherever the pool stood, 768 ids in a row cross exactly three refills.
    expect(refills.mock.calls.length - before).toBe(3);
  });
});
