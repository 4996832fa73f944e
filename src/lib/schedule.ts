/**
 * When an expert can be reached, in their own time zone. Pure functions:
 * instants in, booleans out; the clock is the caller's.
 */
import { z } from "zod";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

/** "HH:MM" -> minutes after midnight. "24:00", allowed as an end of day, is 1440 by the same sum. */
export function minutesOfDay(hhmm: string): number {
  const [hours, minutes] = hhmm.split(":").map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

export const clockTimeSchema = z.string().regex(HH_MM, "must be a 24-hour time HH:MM");

export const availabilityWindowSchema = z
  .object({
    day: z.enum(WEEKDAYS),
    start: clockTimeSchema,
    end: z.union([clockTimeSchema, z.literal("24:00")]),
  })
  .refine((window) => minutesOfDay(window.end) > minutesOfDay(window.start), {
    message: "end must be after start (split a window that crosses midnight in two)",
    path: ["end"],
  });

export type AvailabilityWindow = z.infer<typeof availabilityWindowSchema>;

export const quietHoursSchema = z
  .object({ start: clockTimeSchema, end: clockTimeSchema })
  .refine((quiet) => quiet.start !== quiet.end, { message: "start and end must differ", path: ["end"] });

export type QuietHours = z.infer<typeof quietHoursSchema>;

/**
 * Canonical zone names found valid, so a hot check skips building an Intl
 * formatter. Only Intl's canonical names are kept (every casing and alias of
 * a zone maps to one of ~600), so a caller's strings cannot grow the set.
 */
const canonicalZones = new Set<string>();

/** How many zones the validity cache holds (for tests that it stays bounded). */
export const cachedTimeZoneCount = (): number => canonicalZones.size;

/**
 * The canonical IANA name of a zone this runtime knows ("america/chicago" and
 * "US/Central" -> "America/Chicago"), or null. Store this, not what was typed:
 * one spelling per zone keeps every per-zone cache small.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (canonicalZones.has(zone)) return zone;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  // Intl accepts offsets such as "+01:00", which have no DST rules and are
  // not what a person means by where they live: require a named zone.
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*$/.test(canonical)) return null;
  canonicalZones.add(canonical);
  return canonical;
}

/** True for IANA zone names this runtime knows ("Europe/Berlin", "UTC"), in any casing or alias. */
export function isValidTimeZone(zone: string): boolean {
  return canonicalTimeZone(zone) !== null;
}

export interface LocalTime {
  day: Weekday;
  /** Minutes after local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(stored: string): Intl.DateTimeFormat {
  // Keyed by the canonical name: rows written before zones were canonicalised may spell one zone many ways.
  const zone = canonicalTimeZone(stored) ?? stored;
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall-clock weekday and minute of `instant` in `zone` (DST applied by the runtime's tz data). */
export function localTime(instant: Date, zone: string): LocalTime {
  let day = "mon";
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(zone).formatToParts(instant)) {
    if (part.type === "weekday") day = part.value.toLowerCase();
    else if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
  }
  return { day: day as Weekday, minute: hour * 60 + minute };
}

/** Inside [start, end) on the clock, where a window may wrap midnight (22:00-07:00). */
function withinClockRange(minute: number, start: number, end: number): boolean {
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

export function isInQuietHours(quiet: QuietHours | null, zone: string, instant: Date): boolean {
  if (!quiet) return false;
  const { minute } = localTime(instant, zone);
  return withinClockRange(minute, minutesOfDay(quiet.start), minutesOfDay(quiet.end));
}

/** null availability means "no schedule": reachable at any hour. */
export function isWithinAvailability(windows: AvailabilityWindow[] | null, zone: string, instant: Date): boolean {
  if (windows === null) return true;
  const { day, minute } = localTime(instant, zone);
  return windows.some(
    (window) => window.day === day && minute >= minutesOfDay(window.start) && minute < minutesOfDay(window.end),
  );
}

/** Reachable for a new offer: inside the weekly schedule and outside quiet hours. */
export function isReachable(
  expert: { timeZone: string; availability: AvailabilityWindow[] | null; quietHours: QuietHours | null },
  instant: Date,
): boolean {
  return (
    isWithinAvailability(expert.availability, expert.timeZone, instant) &&
    !isInQuietHours(expert.quietHours, expert.timeZone, instant)
  );
}
