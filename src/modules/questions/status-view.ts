/**
 * The customer's "virtual ticket": what the public status page (GET /q/:token)
 * says about a question. Pure: the question's row, its timeline events and the
 * time in, a view model out; the page (status-page.ts) and the JSON answer are
 * both built from it.
 *
 * The page is public to whoever holds the link, so the view is built from a
 * narrow input on purpose: no customer phone, name or question text reaches
 * it, and event data is read field by field through schemas (a phone number
 * slipped into an event's data has no field to travel in).
 */
import { z } from "zod";
import type { QuestionStatus, SessionMode } from "../../generated/prisma/enums.js";
import { QUESTION_EVENTS, type QuestionEventKind } from "./timeline.js";

export const STEP_KEYS = ["received", "searching", "accepted", "in_conversation", "answered"] as const;
export type StepKey = (typeof STEP_KEYS)[number];

/**
 * `skipped`: a step a closed question never reached (an expired question was
 * never answered); calling it "upcoming" would promise what will not happen.
 */
export const STEP_STATES = ["done", "current", "upcoming", "skipped"] as const;
export type StepState = (typeof STEP_STATES)[number];

export const QUESTION_STATUSES = [
  "received",
  "routing",
  "offered",
  "matched",
  "in_session",
  "answered",
  "expired",
  "cancelled",
] as const satisfies readonly QuestionStatus[];

export interface StatusStep {
  key: StepKey;
  label: string;
  /** When the question reached this step, when known; null for steps not reached. */
  at: Date | null;
  state: StepState;
}

export interface StatusView {
  status: QuestionStatus;
  /** Still moving: the page keeps refreshing itself while this is true. */
  open: boolean;
  headline: string;
  productName: string | null;
  shopName: string;
  steps: StatusStep[];
  /** From the question to now, or to its closing. */
  elapsed: { seconds: number; text: string };
  /** What happens next, as honestly as we know it. */
  next: string;
  expert: { firstName: string } | null;
  closed: { reason: "expired" | "cancelled"; at: Date | null } | null;
  askedAt: Date;
  /** The time the view was built: relative texts are relative to it. */
  asOf: Date;
}

export interface StatusQuestion {
  status: QuestionStatus;
  createdAt: Date;
  closedAt: Date | null;
  preferredMode: SessionMode;
}

export interface StatusEvent {
  kind: string;
  data: unknown;
  createdAt: Date;
}

export interface StatusViewInput {
  question: StatusQuestion;
  productName: string | null;
  shopName: string;
  /** In any order; kinds this page does not know are ignored. */
  events: readonly StatusEvent[];
  now: Date;
}

/**
 * A first name as people write them: letters (any script), with inner spaces,
 * hyphens, apostrophes and dots ("Anne-Marie", "O'Neil", "J.R."). No digits,
 * so whatever else an event carries, no phone number can pass as a name.
 */
const FIRST_NAME = /^\p{L}[\p{L}\p{M}'’. -]{0,39}$/u;
const expertData = z.object({
  expertFirstName: z
    .string()
    .transform((name) => name.trim().replace(/\s+/g, " "))
    .pipe(z.string().regex(FIRST_NAME)),
});

/** Beyond a day, an estimate is not one: the page then promises no number. */
const MAX_ESTIMATE_MINUTES = 24 * 60;
const estimateData = z.object({ estimateMinutes: z.number().positive().max(MAX_ESTIMATE_MINUTES) });

/** The experts' business, never the customer's page. */
const EXPERTS_EVENTS: readonly QuestionEventKind[] = ["offered", "declined", "timed_out"];
/** The timeline events the page reads: every kind but offers, declines and time-outs. */
export const EVENTS_SHOWN: readonly QuestionEventKind[] = QUESTION_EVENTS.filter((kind) => !EXPERTS_EVENTS.includes(kind));

const SEARCH_EVENTS: readonly string[] = ["searching", "widened", "no_expert_yet"];
const EXPERT_EVENTS: readonly string[] = ["accepted", "session_started", "session_ended", "rated"];

/** The step an event proves the question reached. */
const STEP_OF_EVENT: Record<string, number> = {
  searching: 1,
  widened: 1,
  no_expert_yet: 1,
  accepted: 2,
  session_started: 3,
  session_ended: 3,
  rated: 3,
};

/** Where an open (or answered) question stands: the status is the truth, events only add times and names. */
const STEP_OF_STATUS: Partial<Record<QuestionStatus, number>> = {
  received: 0,
  routing: 1,
  offered: 1,
  matched: 2,
  in_session: 3,
  answered: 4,
};

const CLOSED_STATUSES: readonly QuestionStatus[] = ["answered", "expired", "cancelled"];

const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const SECONDS_PER_DAY = 86_400;

/** A duration as people say it: "under a minute", "12 min", "1 h 5 min", "2 days 3 h". */
export function formatDuration(seconds: number): string {
  if (seconds < SECONDS_PER_MINUTE) return "under a minute";
  if (seconds < SECONDS_PER_HOUR) return `${Math.floor(seconds / SECONDS_PER_MINUTE)} min`;
  if (seconds < SECONDS_PER_DAY) {
    const hours = Math.floor(seconds / SECONDS_PER_HOUR);
    const minutes = Math.floor((seconds % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE);
    return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
  }
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const hours = Math.floor((seconds % SECONDS_PER_DAY) / SECONDS_PER_HOUR);
  const dayText = days === 1 ? "1 day" : `${days} days`;
  return hours === 0 ? dayText : `${dayText} ${hours} h`;
}

/** "a Grainfather G30 expert", "an Anvil Foundry expert". */
export function expertFor(productName: string): string {
  return `${/^[aeiou]/i.test(productName) ? "an" : "a"} ${productName} expert`;
}

const minutes = (count: number) => (count === 1 ? "1 minute" : `${count} minutes`);
const secondsBetween = (from: Date, to: Date) => Math.max(0, Math.floor((to.getTime() - from.getTime()) / 1000));

function lastOf(events: readonly StatusEvent[], kinds: readonly string[]): StatusEvent | undefined {
  return events.findLast((event) => kinds.includes(event.kind));
}

/** The expert's first name, from the latest event that carries a usable one. */
function expertFirstName(events: readonly StatusEvent[]): string | null {
  for (const event of events.toReversed()) {
    if (!EXPERT_EVENTS.includes(event.kind)) continue;
    const parsed = expertData.safeParse(event.data);
    if (parsed.success) return parsed.data.expertFirstName;
  }
  return null;
}

interface SearchNews {
  kind: string;
  estimateMinutes: number | null;
  /** The estimate has run out without anyone picking the question up. */
  overdue: boolean;
}

function searchNews(events: readonly StatusEvent[], now: Date): SearchNews | null {
  const latest = lastOf(events, SEARCH_EVENTS);
  if (!latest) return null;
  const parsed = estimateData.safeParse(latest.data);
  const estimateMinutes = parsed.success ? Math.ceil(parsed.data.estimateMinutes) : null;
  const overdue = estimateMinutes !== null && secondsBetween(latest.createdAt, now) > estimateMinutes * SECONDS_PER_MINUTE;
  return { kind: latest.kind, estimateMinutes, overdue };
}

/** The furthest step a closed question's events show it reached. */
function furthestStepReached(events: readonly StatusEvent[]): number {
  return events.reduce((furthest, event) => Math.max(furthest, STEP_OF_EVENT[event.kind] ?? 0), 0);
}

interface Wording {
  headline: string;
  next: string;
}

function wording(input: StatusViewInput, events: readonly StatusEvent[], firstName: string | null): Wording {
  const { question, productName, now } = input;
  const expert = firstName ?? "Your expert";
  const experts = firstName ? `${firstName}'s` : "your expert's";
  const byVoice = question.preferredMode === "voice";
  switch (question.status) {
    case "received": {
      const asked = lastOf(events, ["product_asked", "product_chosen"]);
      if (asked?.kind === "product_asked") {
        return {
          headline: "Which product is it about?",
          next: "Reply to our text with the product you mean, so we can find the right expert.",
        };
      }
      return { headline: "We've got your question", next: "We're finding the right experts for it now." };
    }
    case "routing":
    case "offered":
      return {
        headline: productName ? `Looking for ${expertFor(productName)}` : "Looking for an expert",
        next: searchingNext(searchNews(events, now)),
      };
    case "matched":
      return byVoice
        ? { headline: `${expert} accepted and will call you`, next: `${expert} will call you from our number soon; pick up when your phone rings.` }
        : { headline: `${expert} accepted and will text you`, next: `Reply to ${experts} texts on your phone.` };
    case "in_session":
      return byVoice
        ? { headline: `On the phone with ${firstName ?? "your expert"}`, next: "Hang up when you're done; we'll text you after." }
        : {
            headline: `In conversation with ${firstName ?? "your expert"}`,
            next: `Reply to ${experts} texts on your phone. Text DONE when you're finished.`,
          };
    case "answered":
      return { headline: "Answered", next: "Have another question? Ask again any time." };
    case "expired":
      return {
        headline: "No expert was free in time",
        next: "This question expired: nobody was free in time. Ask again any time.",
      };
    case "cancelled":
      return {
        headline: "Question cancelled",
        next: "This question was cancelled, so nobody will contact you about it. Ask again any time.",
      };
  }
}

function searchingNext(news: SearchNews | null): string {
  if (news?.overdue) {
    return "It's taking longer than usual. We're still asking experts and will text you as soon as one accepts.";
  }
  if (news?.kind === "no_expert_yet") {
    const when = news.estimateMinutes === null ? "" : ` Someone may be free within about ${minutes(news.estimateMinutes)}.`;
    return `No expert was free yet; we're asking more of them.${when} We'll text you as soon as one accepts.`;
  }
  if (news?.estimateMinutes) {
    return `We're texting experts now; most questions are picked up within ${minutes(news.estimateMinutes)}.`;
  }
  return "We're texting experts now and will text you as soon as one accepts.";
}

function stepLabel(key: StepKey, firstName: string | null): string {
  switch (key) {
    case "received":
      return "Received";
    case "searching":
      return "Looking for an expert";
    case "accepted":
      return firstName ? `${firstName} accepted` : "An expert accepted";
    case "in_conversation":
      return "In conversation";
    case "answered":
      return "Answered";
  }
}

/** When each step was reached: the search's start, the latest acceptance and conversation (a re-routed question has had more). */
function stepTimes(input: StatusViewInput, events: readonly StatusEvent[]): Record<StepKey, Date | null> {
  const { question } = input;
  return {
    received: question.createdAt,
    searching: events.find((event) => SEARCH_EVENTS.includes(event.kind))?.createdAt ?? null,
    accepted: lastOf(events, ["accepted"])?.createdAt ?? null,
    in_conversation: lastOf(events, ["session_started"])?.createdAt ?? null,
    // Only read once the step is reached, i.e. answered.
    answered: question.closedAt ?? lastOf(events, ["session_ended"])?.createdAt ?? null,
  };
}

function stepState(index: number, reached: number, status: QuestionStatus): StepState {
  const closed = CLOSED_STATUSES.includes(status);
  if (index < reached) return "done";
  if (index === reached) return closed ? "done" : "current";
  return closed ? "skipped" : "upcoming";
}

export function buildStatusView(input: StatusViewInput): StatusView {
  const { question, now } = input;
  // Time order, ties kept as given (the query orders by id, which is time-ordered).
  const events = input.events.toSorted((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const reached = STEP_OF_STATUS[question.status] ?? furthestStepReached(events);
  const firstName = reached >= 2 ? expertFirstName(events) : null;
  const times = stepTimes(input, events);
  const steps = STEP_KEYS.map((key, index): StatusStep => {
    const state = stepState(index, reached, question.status);
    return { key, label: stepLabel(key, firstName), at: state === "done" || state === "current" ? times[key] : null, state };
  });
  const closedAt = question.closedAt ?? (CLOSED_STATUSES.includes(question.status) ? (events.at(-1)?.createdAt ?? null) : null);
  const seconds = secondsBetween(question.createdAt, closedAt ?? now);
  const { headline, next } = wording(input, events, firstName);
  return {
    status: question.status,
    open: !CLOSED_STATUSES.includes(question.status),
    headline,
    productName: input.productName,
    shopName: input.shopName,
    steps,
    elapsed: { seconds, text: formatDuration(seconds) },
    next,
    expert: firstName ? { firstName } : null,
    closed: question.status === "expired" || question.status === "cancelled" ? { reason: question.status, at: closedAt } : null,
    askedAt: question.createdAt,
    asOf: now,
  };
}

/** The view as JSON: dates as ISO 8601 strings. */
export interface StatusJson extends Omit<StatusView, "steps" | "closed" | "askedAt" | "asOf"> {
  steps: (Omit<StatusStep, "at"> & { at: string | null })[];
  closed: { reason: "expired" | "cancelled"; at: string | null } | null;
  askedAt: string;
  asOf: string;
}

export function toStatusJson(view: StatusView): StatusJson {
  return {
    ...view,
    steps: view.steps.map((step) => ({ ...step, at: step.at?.toISOString() ?? null })),
    closed: view.closed ? { reason: view.closed.reason, at: view.closed.at?.toISOString() ?? null } : null,
    askedAt: view.askedAt.toISOString(),
    asOf: view.asOf.toISOString(),
  };
}
