import { describe, expect, it } from "vitest";
import { quietHoursEnd } from "./quiet-hours.js";

const quiet = { start: "22:00", end: "07:00" };

describe("quietHoursEnd", () => {
  it("is null outside quiet hours or without them", () => {
    expect(quietHoursEnd(quiet, "America/Chicago", new Date("2026-11-25T18:00:00Z"))).toBeNull(); // 12:00 local
    expect(quietHoursEnd(null, "America/Chicago", new Date("2026-11-25T05:00:00Z"))).toBeNull();
  });

  it("is 07:00 local the next morning, in the expert's zone", () => {
    // 23:30 in Chicago (CST, UTC-6) -> 07:00 CST = 13:00 UTC
    expect(quietHoursEnd(quiet, "America/Chicago", new Date("2026-11-26T05:30:00Z"))?.toISOString()).toBe("2026-11-26T13:00:00.000Z");
    // 03:15 in Tokyo -> 07:00 JST = 22:00 UTC the previous UTC day
    expect(quietHoursEnd(quiet, "Asia/Tokyo", new Date("2026-11-25T18:15:00Z"))?.toISOString()).toBe("2026-11-25T22:00:00.000Z");
  });

  it("handles the night clocks spring forward", () => {
    // US DST starts 2026-03-08 02:00 local. At 23:00 EST on the 7th (04:00 UTC on the 8th),
    // quiet hours end at 07:00 EDT = 11:00 UTC, only 7 real hours later.
    expect(quietHoursEnd(quiet, "America/New_York", new Date("2026-03-08T04:00:00Z"))?.toISOString()).toBe("2026-03-08T11:00:00.000Z");
  });

  it("handles the night clocks fall back", () => {
    // EU DST ends 2026-10-25 03:00 local. At 23:00 CEST on the 24th (21:00 UTC),
    // quiet hours end at 07:00 CET = 06:00 UTC, 9 real hours later.
    expect(quietHoursEnd(quiet, "Europe/Berlin", new Date("2026-10-24T21:00:00Z"))?.toISOString()).toBe("2026-10-25T06:00:00.000Z");
  });
});
