import { describe, expect, it } from "vitest";
import { z } from "zod";
import { uuidv7 } from "./ids.js";

describe("uuidv7", () => {
  it("is a version 7, variant 10 UUID that zod and PostgreSQL accept", () => {
    const id = uuidv7();
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
  });

  it("carries the millisecond timestamp in its first 48 bits", () => {
    const at = Date.UTC(2026, 11, 2, 1, 2, 3, 456);
    const id = uuidv7(at);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(at);
  });

  it("sorts by creation time and never repeats", () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
