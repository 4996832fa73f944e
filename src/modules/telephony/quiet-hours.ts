import { isInQuietHours, localTime, minutesOfDay, type QuietHours } from "../../lib/schedule.js";

/**
 * When `instant` falls inside quiet hours, the moment they end (in the
 * expert's zone); otherwise null. Jumps by the wall-clock difference, then
 * corrects for a DST change in between (the jump lands an hour off).
 */
export function quietHoursEnd(quiet: QuietHours | null, zone: string, instant: Date): Date | null {
  if (!quiet || !isInQuietHours(quiet, zone, instant)) return null;
  const now = localTime(instant, zone).minute;
  const end = minutesOfDay(quiet.end);
  // Never 0: the end minute itself is outside quiet hours, so `now` is not it.
  const minutesLeft = (end - now + 24 * 60) % (24 * 60);
  let candidate = new Date(instant.getTime() + minutesLeft * 60_000);
  candidate.setUTCSeconds(0, 0);
  const drift = ((localTime(candidate, zone).minute - end + 36 * 60) % (24 * 60)) - 12 * 60;
  candidate = new Date(candidate.getTime() - drift * 60_000);
  // A quiet-hours end inside a skipped hour does not exist: step to the first minute outside.
  for (let step = 0; step < 120 && isInQuietHours(quiet, zone, candidate); step++) {
    candidate = new Date(candidate.getTime() + 60_000);
  }
  return candidate;
}
