import { describe, expect, it } from "vitest";
import {
  availabilityWindowSchema,
  clockTimeSchema,
  isInQuietHours,
  isReachable,
  cachedTimeZoneCount,
  canonicalTimeZone,
  isValidTimeZone,
  isWithinAvailability,
  localTime,
  minutesOfDay,
  quietHoursSchema,
  type AvailabilityWindow,
} from "./schedule.js";

const at = (iso: string) => new Date(iso);

describe("minutesOfDay", () => {
  it.each([
    ["00:00", 0],
    ["07:05", 7 * 60 + 5],
    ["22:30", 22 * 60 + 30],
    ["23:59", 23 * 60 + 59],
    ["24:00", 24 * 60],
  ])("%s is %i minutes after midnight", (hhmm, minutes) => {
    expect(minutesOfDay(hhmm)).toBe(minutes);
  });
});

describe("localTime", () => {
  it("reads weekday and minute in the zone", () => {
    // 2026-11-25 is a Wednesday; 18:30 UTC is 12:30 in Chicago (CST, UTC-6)
    expect(localTime(at("2026-11-25T18:30:00Z"), "America/Chicago")).toEqual({ day: "wed", minute: 12 * 60 + 30 });
    // ...and already Thursday 03:30 in Tokyo
    expect(localTime(at("2026-11-25T18:30:00Z"), "Asia/Tokyo")).toEqual({ day: "thu", minute: 3 * 60 + 30 });
  });

  it("follows DST: the same UTC hour is a different local hour across the change", () => {
    // US DST 2026 starts Sunday March 8 at 02:00 local.
    expect(localTime(at("2026-03-07T15:00:00Z"), "America/New_York").minute).toBe(10 * 60); // EST, UTC-5
    expect(localTime(at("2026-03-09T15:00:00Z"), "America/New_York").minute).toBe(11 * 60); // EDT, UTC-4
    // EU DST 2026 ends Sunday October 25 at 03:00 local.
    expect(localTime(at("2026-10-24T12:00:00Z"), "Europe/Berlin").minute).toBe(14 * 60); // CEST
    expect(localTime(at("2026-10-26T12:00:00Z"), "Europe/Berlin").minute).toBe(13 * 60); // CET
  });
});

describe("quiet hours", () => {
  const quiet = { start: "22:00", end: "07:00" };

  it.each([
    ["2026-11-26T03:59:00Z", false], // 21:59 in Chicago
    ["2026-11-26T04:00:00Z", true], // 22:00
    ["2026-11-26T10:00:00Z", true], // 04:00
    ["2026-11-26T12:59:00Z", true], // 06:59
    ["2026-11-26T13:00:00Z", false], // 07:00: quiet hours end
  ])("wrap midnight in the expert's zone (%s -> %s)", (iso, expected) => {
    expect(isInQuietHours(quiet, "America/Chicago", at(iso))).toBe(expected);
  });

  it("apply in local time on both sides of a DST change", () => {
    // 05:30 UTC is 00:30 EST before the change: quiet.
    expect(isInQuietHours(quiet, "America/New_York", at("2026-03-07T05:30:00Z"))).toBe(true);
    // 11:30 UTC is 06:30 EST before the change (quiet) but 07:30 EDT after it (not quiet).
    expect(isInQuietHours(quiet, "America/New_York", at("2026-03-07T11:30:00Z"))).toBe(true);
    expect(isInQuietHours(quiet, "America/New_York", at("2026-03-09T11:30:00Z"))).toBe(false);
  });

  it.each([
    ["2026-11-26T04:29:00Z", false], // 22:29 in Chicago
    ["2026-11-26T04:30:00Z", true], // 22:30
    ["2026-11-26T12:44:00Z", true], // 06:44
    ["2026-11-26T12:45:00Z", false], // 06:45
  ])("count the minutes of start and end (22:30-06:45 at %s -> %s)", (iso, expected) => {
    expect(isInQuietHours({ start: "22:30", end: "06:45" }, "America/Chicago", at(iso))).toBe(expected);
  });

  it("daytime quiet hours do not wrap", () => {
    const lunch = { start: "12:00", end: "13:00" };
    expect(isInQuietHours(lunch, "UTC", at("2026-11-25T11:59:00Z"))).toBe(false);
    expect(isInQuietHours(lunch, "UTC", at("2026-11-25T12:00:00Z"))).toBe(true);
    expect(isInQuietHours(lunch, "UTC", at("2026-11-25T12:30:00Z"))).toBe(true);
    expect(isInQuietHours(lunch, "UTC", at("2026-11-25T13:00:00Z"))).toBe(false);
    expect(isInQuietHours(lunch, "UTC", at("2026-11-25T23:00:00Z"))).toBe(false);
  });

  it("start = end, which the schema refuses, reads as quiet all day rather than never", () => {
    // Stored data predating the rule must err on the side of not texting.
    const allDay = { start: "22:00", end: "22:00" };
    expect(isInQuietHours(allDay, "UTC", at("2026-11-25T12:00:00Z"))).toBe(true);
    expect(isInQuietHours(allDay, "UTC", at("2026-11-25T22:00:00Z"))).toBe(true);
  });

  it("none set means never quiet", () => {
    expect(isInQuietHours(null, "UTC", at("2026-11-25T03:00:00Z"))).toBe(false);
  });
});

describe("weekly availability", () => {
  const weekdays: AvailabilityWindow[] = [
    { day: "mon", start: "09:00", end: "17:00" },
    { day: "wed", start: "18:00", end: "24:00" },
  ];

  it("matches windows by local weekday, end exclusive", () => {
    // Wednesday 2026-11-25, Berlin is UTC+1
    expect(isWithinAvailability(weekdays, "Europe/Berlin", at("2026-11-25T17:00:00Z"))).toBe(true); // 18:00
    expect(isWithinAvailability(weekdays, "Europe/Berlin", at("2026-11-25T16:59:00Z"))).toBe(false); // 17:59
    expect(isWithinAvailability(weekdays, "Europe/Berlin", at("2026-11-25T22:59:00Z"))).toBe(true); // 23:59
    expect(isWithinAvailability(weekdays, "Europe/Berlin", at("2026-11-25T23:00:00Z"))).toBe(false); // Thu 00:00
  });

  it("a window opens only on its own weekday", () => {
    const mondays: AvailabilityWindow[] = [{ day: "mon", start: "09:00", end: "17:00" }];
    // 2026-11-23 is a Monday, 2026-11-24 a Tuesday; same clock time on both
    expect(isWithinAvailability(mondays, "UTC", at("2026-11-23T12:00:00Z"))).toBe(true);
    expect(isWithinAvailability(mondays, "UTC", at("2026-11-24T12:00:00Z"))).toBe(false);
    expect(isWithinAvailability(mondays, "UTC", at("2026-11-29T12:00:00Z"))).toBe(false); // Sunday
  });

  it.each([
    ["2026-11-23T09:14:00Z", false],
    ["2026-11-23T09:15:00Z", true],
    ["2026-11-23T17:44:00Z", true],
    ["2026-11-23T17:45:00Z", false], // the end is exclusive
  ])("counts the minutes of a window (Mon 09:15-17:45 at %s -> %s)", (iso, expected) => {
    const window: AvailabilityWindow[] = [{ day: "mon", start: "09:15", end: "17:45" }];
    expect(isWithinAvailability(window, "UTC", at(iso))).toBe(expected);
  });

  it("uses the local day, not the UTC day", () => {
    // Monday 2026-11-23 08:00 in Tokyo is Sunday 23:00 UTC
    const tokyoMorning = [{ day: "mon", start: "08:00", end: "10:00" }] as AvailabilityWindow[];
    expect(isWithinAvailability(tokyoMorning, "Asia/Tokyo", at("2026-11-22T23:00:00Z"))).toBe(true);
    expect(isWithinAvailability(tokyoMorning, "UTC", at("2026-11-22T23:00:00Z"))).toBe(false);
  });

  it("null is any time, an empty list is never", () => {
    expect(isWithinAvailability(null, "UTC", at("2026-11-25T03:00:00Z"))).toBe(true);
    expect(isWithinAvailability([], "UTC", at("2026-11-25T12:00:00Z"))).toBe(false);
  });

  it("reachable means inside the schedule and outside quiet hours", () => {
    const expert = {
      timeZone: "America/Chicago",
      availability: [{ day: "wed", start: "06:00", end: "23:00" }] as AvailabilityWindow[],
      quietHours: { start: "22:00", end: "07:00" },
    };
    expect(isReachable(expert, at("2026-11-25T18:00:00Z"))).toBe(true); // Wed 12:00
    expect(isReachable(expert, at("2026-11-25T12:30:00Z"))).toBe(false); // Wed 06:30: scheduled but quiet
    expect(isReachable(expert, at("2026-11-26T04:30:00Z"))).toBe(false); // Wed 22:30: quiet
  });
});

describe("validation", () => {
  it("accepts IANA zones and refuses offsets and nonsense", () => {
    expect(isValidTimeZone("America/Chicago")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("America/Argentina/Buenos_Aires")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("+01:00")).toBe(false);
    expect(isValidTimeZone("Etc/GMT+1")).toBe(true);
    // Legacy POSIX-style names: a runtime whose tz data links them to a place (Node 20) gives
    // that place; one that keeps them as zones of their own (Node 22+) gives no named zone.
    expect([null, "America/New_York"]).toContain(canonicalTimeZone("EST5EDT"));
  });

  it("names the canonical zone for any casing or alias, and caches only canonical names", () => {
    expect(canonicalTimeZone("america/CHICAGO")).toBe("America/Chicago");
    expect(canonicalTimeZone("US/Pacific")).toBe("America/Los_Angeles");
    expect(canonicalTimeZone("utc")).toBe("UTC");
    expect(canonicalTimeZone("+01:00")).toBeNull();
    expect(canonicalTimeZone("Nowhere/Zone")).toBeNull();
    expect(canonicalTimeZone("America/Denver")).toBe("America/Denver");
    const cached = cachedTimeZoneCount();
    expect(canonicalTimeZone("AMERICA/DENVER")).toBe("America/Denver");
    expect(canonicalTimeZone("US/Mountain")).toBe("America/Denver");
    expect(canonicalTimeZone("America/Denver")).toBe("America/Denver");
    expect(cachedTimeZoneCount()).toBe(cached);
    expect(canonicalTimeZone("Pacific/Chatham")).toBe("Pacific/Chatham");
    expect(cachedTimeZoneCount()).toBe(cached + 1);
    expect(isValidTimeZone("")).toBe(false);
  });

  it.each(["00:00", "09:59", "19:59", "20:00", "22:30", "23:59"])("accepts the clock time %s", (time) => {
    expect(clockTimeSchema.safeParse(time).success).toBe(true);
  });

  it.each(["24:00", "23:60", "9:00", "09:0", "0900", "x22:30", "22:30x", " 22:30", "22:30:00", ""])(
    "refuses the clock time %j",
    (time) => {
      const result = clockTimeSchema.safeParse(time);
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((issue) => issue.message)).toEqual(["must be a 24-hour time HH:MM"]);
    },
  );

  it("accepts 24:00 only as the end of a window", () => {
    expect(availabilityWindowSchema.safeParse({ day: "fri", start: "22:30", end: "24:00" }).success).toBe(true);
    expect(availabilityWindowSchema.safeParse({ day: "fri", start: "24:00", end: "24:00" }).success).toBe(false);
  });

  it("refuses a zero-length window, pointing at its end", () => {
    const result = availabilityWindowSchema.safeParse({ day: "mon", start: "09:30", end: "09:30" });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ["end"], message: "end must be after start (split a window that crosses midnight in two)" }),
    ]);
  });

  it("refuses quiet hours that start when they end, pointing at the end", () => {
    const result = quietHoursSchema.safeParse({ start: "22:30", end: "22:30" });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ["end"], message: "start and end must differ" })]);
    expect(quietHoursSchema.safeParse({ start: "22:30", end: "06:45" }).success).toBe(true);
  });

  it("refuses windows that end before they start", () => {
    expect(availabilityWindowSchema.safeParse({ day: "mon", start: "17:00", end: "09:00" }).success).toBe(false);
    expect(availabilityWindowSchema.safeParse({ day: "mon", start: "09:00", end: "24:00" }).success).toBe(true);
    expect(availabilityWindowSchema.safeParse({ day: "mon", start: "9:00", end: "10:00" }).success).toBe(false);
    expect(availabilityWindowSchema.safeParse({ day: "monday", start: "09:00", end: "10:00" }).success).toBe(false);
  });
});
