/**
 * Twilio conferences, the parts that need no running call: the Conference
 * resource as the 2010-04-01 API shows it, the list filters, and how the
 * <Conference> noun's attributes read. The engine (engine.ts) runs the
 * conferences themselves.
 *
 * Sources: twilio.com/docs/voice/twiml/conference (attributes, status
 * callback and recording callback parameters), twilio.com/docs/voice/api/conference-resource
 * and the 2010-04-01 spec (api.v2010.account.conference, ListConference).
 */
import { rfc2822 } from "../sids.js";

export type ConferenceStatus = "init" | "in-progress" | "completed";

/** Spec enum conference_enum_reason_conference_ended (the "kicked" ones need the Participants API, not modelled). */
export type ConferenceEndReason =
  | "conference-ended-via-api"
  | "participant-with-end-conference-on-exit-left"
  | "last-participant-left";

/** What a conference run looks like to the REST API (the engine keeps more). */
export interface ConferenceRecord {
  sid: string;
  friendlyName: string;
  status: ConferenceStatus;
  created: Date;
  updated: Date;
  reasonEnded: ConferenceEndReason | null;
  callSidEnding: string | null;
}

/** The Conference resource, every property of api.v2010.account.conference, in the spec's order. */
export interface ConferenceResource {
  account_sid: string;
  date_created: string;
  date_updated: string;
  api_version: string;
  friendly_name: string;
  region: string;
  sid: string;
  status: ConferenceStatus;
  uri: string;
  subresource_uris: { participants: string; recordings: string };
  reason_conference_ended: ConferenceEndReason | null;
  call_sid_ending_conference: string | null;
}

export function conferenceResource(accountSid: string, record: ConferenceRecord): ConferenceResource {
  const base = `/2010-04-01/Accounts/${accountSid}/Conferences/${record.sid}`;
  return {
    account_sid: accountSid,
    date_created: rfc2822(record.created),
    date_updated: rfc2822(record.updated),
    api_version: "2010-04-01",
    friendly_name: record.friendlyName,
    // "Basic conference audio will always be mixed in us1" (spec, region).
    region: "us1",
    sid: record.sid,
    status: record.status,
    uri: `${base}.json`,
    subresource_uris: { participants: `${base}/Participants.json`, recordings: `${base}/Recordings.json` },
    reason_conference_ended: record.reasonEnded,
    call_sid_ending_conference: record.callSidEnding,
  };
}

/**
 * The <Conference statusCallbackEvent> words the sandbox reports, and the
 * StatusCallbackEvent each one sends. Twilio also has mute, hold, modify and
 * speaker: nothing in the sandbox mutes, holds or speaks, so they are accepted
 * and never fire.
 */
const EVENT_NAMES: Readonly<Record<string, readonly string[]>> = {
  start: ["conference-start"],
  end: ["conference-end"],
  join: ["participant-join"],
  leave: ["participant-leave"],
  announcement: ["announcement-end"],
};

/** "start end join leave" -> the StatusCallbackEvent values to send; unknown words are ignored. */
export function conferenceEvents(attribute: string | undefined): Set<string> {
  const words = (attribute ?? "").split(/[\s,]+/).filter((word) => word !== "");
  return new Set(words.flatMap((word) => EVENT_NAMES[word] ?? []));
}

export const CONFERENCE_FILTERS = [
  "FriendlyName",
  "Status",
  "DateCreated",
  "DateCreated<",
  "DateCreated>",
  "DateUpdated",
  "DateUpdated<",
  "DateUpdated>",
] as const;
export type ConferenceFilters = Partial<Record<(typeof CONFERENCE_FILTERS)[number], string>>;

export class ConferenceFilterError extends Error {}

const DAY_MS = 86_400_000;

/** The GMT day a filter names (the SDK sends YYYY-MM-DD, as the docs do). */
function dayOf(name: string, value: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  const start = match ? Date.parse(`${match[1]}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(start)) throw new ConferenceFilterError(`Invalid ${name}: ${value}`);
  return start;
}

/**
 * `records` oldest first, as they were opened; the answer is newest first
 * (by that order: their dates are virtual times of different legs, which need
 * not agree), filtered as ListConference documents: FriendlyName and Status
 * exactly; DateCreated/DateUpdated on that GMT day, `<` on or before it,
 * `>` on or after it.
 */
export function selectConferences<T extends ConferenceRecord>(records: Iterable<T>, filters: ConferenceFilters): T[] {
  const tests: ((record: T) => boolean)[] = [];
  if (filters.FriendlyName !== undefined) tests.push((record) => record.friendlyName === filters.FriendlyName);
  if (filters.Status !== undefined) tests.push((record) => record.status === filters.Status);
  for (const [field, name] of [
    ["created", "DateCreated"],
    ["updated", "DateUpdated"],
  ] as const) {
    const on = filters[name];
    const before = filters[`${name}<`];
    const after = filters[`${name}>`];
    if (on !== undefined) {
      const day = dayOf(name, on);
      tests.push((record) => record[field].getTime() >= day && record[field].getTime() < day + DAY_MS);
    }
    if (before !== undefined) {
      const day = dayOf(`${name}<`, before);
      tests.push((record) => record[field].getTime() < day + DAY_MS);
    }
    if (after !== undefined) {
      const day = dayOf(`${name}>`, after);
      tests.push((record) => record[field].getTime() >= day);
    }
  }
  return [...records].reverse().filter((record) => tests.every((test) => test(record)));
}
