/**
 * Which messages `GET .../Messages.json` lists, and in what order: Twilio
 * lists the newest first and filters by To, From and the date a message was
 * sent (DateSent, DateSent< for on or before, DateSent> for on or after).
 *
 * Twilio documents the DateSent filters as GMT dates (YYYY-MM-DD), while the
 * official SDK sends a date-time (YYYY-MM-DDTHH:mm:ssZ). Here a date means
 * the whole GMT day; a date-time is the instant itself for DateSent< and
 * DateSent> (both inclusive), and its GMT day for DateSent. A message not
 * sent yet (no date_sent) matches no DateSent filter.
 */
import type { MessageRecord } from "./state.js";

export const MESSAGE_FILTERS = ["To", "From", "DateSent", "DateSent<", "DateSent>"] as const;
export type MessageFilters = Partial<Record<(typeof MESSAGE_FILTERS)[number], string>>;

export class MessageFilterError extends Error {}

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function parseDateFilter(name: string, value: string): { instant: number; dayStart: number; dateOnly: boolean } {
  const dateOnly = DATE_ONLY.test(value);
  const instant = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(instant)) throw new MessageFilterError(`Invalid ${name}: ${value}`);
  return { instant, dayStart: instant - (instant % DAY_MS), dateOnly };
}

export function selectMessages(records: Iterable<MessageRecord>, filters: MessageFilters): MessageRecord[] {
  const tests: ((record: MessageRecord) => boolean)[] = [];
  if (filters.To !== undefined) tests.push((record) => record.to === filters.To);
  if (filters.From !== undefined) tests.push((record) => record.from === filters.From);
  const sentAt = (record: MessageRecord) => record.dateSent?.getTime();
  if (filters.DateSent !== undefined) {
    const { dayStart } = parseDateFilter("DateSent", filters.DateSent);
    tests.push((record) => {
      const at = sentAt(record);
      return at !== undefined && at >= dayStart && at < dayStart + DAY_MS;
    });
  }
  if (filters["DateSent<"] !== undefined) {
    const bound = parseDateFilter("DateSent<", filters["DateSent<"]);
    const latest = bound.dateOnly ? bound.dayStart + DAY_MS - 1 : bound.instant;
    tests.push((record) => {
      const at = sentAt(record);
      return at !== undefined && at <= latest;
    });
  }
  if (filters["DateSent>"] !== undefined) {
    const { instant } = parseDateFilter("DateSent>", filters["DateSent>"]);
    tests.push((record) => {
      const at = sentAt(record);
      return at !== undefined && at >= instant;
    });
  }
  // Newest first; messages created in the same millisecond, the later one first.
  return [...records]
    .reverse()
    .filter((record) => tests.every((test) => test(record)))
    .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime());
}
