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

  it.each([
    ["at the first quiet minute", "2026-11-26T04:00:00Z", "2026-11-26T13:00:00.000Z"], // 22:00 CST
    ["half an hour before the end", "2026-11-26T12:30:00Z", "2026-11-26T13:00:00.000Z"], // 06:30 CST
    ["at the last quiet minute", "2026-11-26T12:59:00Z", "2026-11-26T13:00:00.000Z"], // 06:59 CST
    ["on the whole minute, whatever the seconds", "2026-11-26T05:30:45.123Z", "2026-11-26T13:00:00.000Z"],
  ])("ends at 07:00 in Chicago when asked %s", (_when, iso, expected) => {
    expect(quietHoursEnd(quiet, "America/Chicago", new Date(iso))?.toISOString()).toBe(expected);
  });

  it("ends daytime quiet hours the same day", () => {
    const lunch = { start: "12:00", end: "13:30" };
    expect(quietHoursEnd(lunch, "Europe/Berlin", new Date("2026-11-25T11:15:00Z"))?.toISOString()).toBe("2026-11-25T12:30:00.000Z");
  });

  it("ends at the first minute after a skipped hour when the end falls inside it", () => {
    // US DST starts 2026-03-08: 01:59 EST is followed by 03:00 EDT, so 02:30 never happens.
    // From 23:00 EST (04:00 UTC) the first minute outside 22:00-02:30 is 03:00 EDT = 07:00 UTC.
    const quietTillHalfPastTwo = { start: "22:00", end: "02:30" };
    expect(quietHoursEnd(quietTillHalfPastTwo, "America/New_York", new Date("2026-03-08T04:00:00Z"))?.toISOString()).toBe(
      "2026-03-08T07:00:00.000Z",
    );
  });

  it("ends at the first of two 01:30s when clocks fall back", () => {
    // US DST ends 2026-11-01: 01:59 EDT is followed by 01:00 EST, so 01:30 happens twice.
    // From 23:00 EDT (03:00 UTC) quiet hours 22:00-01:30 end at the first one, 01:30 EDT = 05:30 UTC.
    const quietTillHalfPastOne = { start: "22:00", end: "01:30" };
    expect(quietHoursEnd(quietTillHalfPastOne, "America/New_York", new Date("2026-11-01T03:00:00Z"))?.toISOString()).toBe(
      "2026-11-01T05:30:00.000Z",
    );
  });

  it("gives up stepping after two hours on quiet hours that never end", () => {
    // start = end is refused by the schema; stored data must still not hang a send job.
    const neverEnding = { start: "22:00", end: "22:00" };
    expect(quietHoursEnd(neverEnding, "UTC", new Date("2026-11-25T12:00:00Z"))?.toISOString()).toBe("2026-11-26T00:00:00.000Z");
  });

  it("handles the night clocks fall back", () => {
    // EU DST ends 2026-10-25 03:00 local. At 23:00 CEST on the 24th (21:00 UTC),
    // quiet hours end at 07:00 CET = 06:00 UTC, 9 real hours later.
    expect(quietHoursEnd(quiet, "Europe/Berlin", new Date("2026-10-24T21:00:00Z"))?.toISOString()).toBe("2026-10-25T06:00:00.000Z");
  });
});
