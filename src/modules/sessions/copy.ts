/**
 * What a session texts its two participants, and the hand-off summary the
 * expert reads first. Pure: text in, text out. GSM-7 characters only
 * (straight quotes, "..." for an ellipsis): one character outside that set
 * makes the whole message UCS-2, at 70 characters a segment instead of 160.
 */
import { maskPhonesInText } from "../../lib/phone.js";

/** Twilio refuses longer bodies (error 21617). */
export const SMS_MAX_CHARS = 1600;
/** The hand-off summary fits two segments (153 characters each once split). */
export const HANDOFF_MAX_CHARS = 306;
/** The question as quoted in the expert's intro; the whole text arrived with the offer already. */
export const QUOTED_QUESTION_MAX_CHARS = 480;
const ELLIPSIS = "...";
const NAME_MAX_CHARS = 30;

/** `text` cut to `max` characters, "..." marking the cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - ELLIPSIS.length);
  // Never half an emoji: a lone surrogate reaches the phone as "�".
  return `${(/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut).trimEnd()}${ELLIPSIS}`;
}

/** The end of `text`, longer than `max`, cut to `max` characters with "..." in front: the latest words matter most. */
function keepEnd(text: string, max: number): string {
  const kept = text.slice(text.length - (max - ELLIPSIS.length));
  return `${ELLIPSIS}${(/^[\uDC00-\uDFFF]/.test(kept) ? kept.slice(1) : kept).trimStart()}`;
}

/** Everything on one line, single-spaced. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * The first word of a person's name, as the other side sees it, or `fallback`.
 * A name is whatever a shop sent, so it is masked like any free text: a
 * phone number in it never reaches the other side.
 */
export function firstName(name: string | null | undefined, fallback: string): string {
  const first = oneLine(name ?? "").replace(/ .*/, "");
  return first === "" ? fallback : clip(maskPhonesInText(first), NAME_MAX_CHARS);
}

/** The first name when there is a name to take it from, else null (the copy then says "the customer"). */
export function firstNameOrNull(name: string | null | undefined): string | null {
  const first = firstName(name, "");
  return first === "" ? null : first;
}

/** "a" or "an", by the sound of the first letter (good enough for product and shop names). */
function article(word: string): "a" | "an" {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/**
 * How the customer hears who answers: "Dan, a fellow Grainfather brewer,"
 * (the product's expertNoun), else "Dan, a Grainfather G30 expert," (the
 * product's name), else "Dan, a Brew Barn expert," (the shop's name).
 */
export function expertIntroduction(input: { expertFirstName: string; expertNoun: string | null; productName: string | null; shopName: string }): string {
  const noun = input.expertNoun?.trim();
  if (noun) return `${input.expertFirstName}, a fellow ${noun},`;
  const subject = input.productName?.trim() || input.shopName;
  return `${input.expertFirstName}, ${article(subject)} ${subject} expert,`;
}

export function customerIntroText(input: { shopName: string; expertFirstName: string; expertNoun: string | null; productName: string | null }): string {
  return (
    `${input.shopName}: ${expertIntroduction(input)} will answer you here. ` +
    `Your number stays private. Text DONE when you're finished, STOP to opt out.`
  );
}

export interface HandoffContext {
  source?: unknown;
  url?: unknown;
  transcript?: unknown;
}

/** One transcript entry as a line: a string, or { from|role|speaker|author, text|body|message|content }. */
function transcriptLine(entry: unknown): string {
  if (typeof entry === "string") return entry;
  // Object(): anything else that is not an object reads as one without fields.
  const record = Object(entry) as Record<string, unknown>;
  const said = [record.text, record.body, record.message, record.content].find((value) => typeof value === "string");
  if (typeof said !== "string") return "";
  const who = [record.from, record.role, record.speaker, record.author].find((value) => typeof value === "string" && value.trim() !== "");
  return typeof who === "string" ? `${who}: ${said}` : said;
}

/** A transcript (a string of lines, or a list of entries) as non-empty, single-spaced lines with phone numbers masked. */
export function transcriptLines(transcript: unknown): string[] {
  const raw = typeof transcript === "string" ? transcript.split(/\r?\n/) : Array.isArray(transcript) ? transcript.map(transcriptLine) : [];
  return raw.map((line) => maskPhonesInText(oneLine(line))).filter((line) => line !== "");
}

const SEPARATOR = " / ";
/** In front of the lines kept when earlier ones were left out. */
const SKIPPED = `${ELLIPSIS}${SEPARATOR}`;

/** The last lines that fit `budget` characters, joined by " / ", with "... / " in front when earlier lines were left out. */
function lastLines(lines: readonly string[], budget: number): string {
  const kept: string[] = [];
  let used = 0;
  for (const line of [...lines].reverse()) {
    const earlierLeft = lines.length - kept.length > 1;
    const cost = line.length + (kept.length > 0 ? SEPARATOR.length : 0);
    const marker = earlierLeft ? SKIPPED.length : 0;
    if (used + cost + marker > budget) {
      // The latest line alone is too long: keep its end.
      if (kept.length === 0) return earlierLeft ? `${SKIPPED}${keepEnd(line, budget - marker)}` : keepEnd(line, budget);
      break;
    }
    kept.unshift(line);
    used += cost;
  }
  return `${kept.length < lines.length ? SKIPPED : ""}${kept.join(SEPARATOR)}`;
}

/**
 * The hand-off from the shop's own chat or bot, for the expert: where the
 * customer came from and the last lines of what was said, within two
 * segments, phone numbers masked. Null when there is nothing to hand off.
 */
export function handoffSummary(context: unknown): string | null {
  // Object(): a context that is not an object (a string, null) reads as one without fields.
  const { source, url, transcript } = Object(context) as HandoffContext;
  const origin = typeof source === "string" ? maskPhonesInText(oneLine(source)) || null : null;
  const page = typeof url === "string" ? clip(maskPhonesInText(oneLine(url)), 80) || null : null;
  const lines = transcriptLines(transcript);
  if (!origin && !page && lines.length === 0) return null;
  const where = [origin, page].filter((part) => part !== null).join(", ");
  const label = lines.length > 0 ? (where ? `Earlier (${where}): ` : "Earlier: ") : `Came from ${where}.`;
  if (lines.length === 0) return clip(label, HANDOFF_MAX_CHARS);
  const quotes = 2;
  return `${label}"${lastLines(lines, Math.max(HANDOFF_MAX_CHARS - label.length - quotes, 40))}"`;
}

export function expertIntroText(input: { shopName: string; customerFirstName: string | null; question: string; handoff: string | null }): string {
  const customer = input.customerFirstName ?? "A customer";
  const question = clip(oneLine(input.question), QUOTED_QUESTION_MAX_CHARS);
  const handoff = input.handoff ? ` ${input.handoff}` : "";
  const who = input.customerFirstName ?? "them";
  return (
    `${input.shopName}: ${customer} asks: "${question}"${handoff} ` +
    `Reply here to talk to ${who}; your number stays private. Text DONE when finished.`
  );
}

/** A relayed text: the sender's first name, then what they wrote, within Twilio's limit. */
export function relayText(senderFirstName: string, body: string): string {
  return clip(`${senderFirstName}: ${body.trim()}`, SMS_MAX_CHARS);
}

/** "30 minutes", "2 hours", "1 second": how long a session may stay quiet, in words. */
export function idleWords(seconds: number): string {
  const [amount, unit] = seconds >= 3600 && seconds % 3600 === 0 ? [seconds / 3600, "hour"] : seconds >= 60 ? [Math.round(seconds / 60), "minute"] : [seconds, "second"];
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/** What the expert hears when the session ends (a confirmation when they ended it). */
export function expertEndText(input: { endedBy: string; customerFirstName: string | null; idleSeconds: number }): string {
  const customer = input.customerFirstName ?? "the customer";
  switch (input.endedBy) {
    case "customer":
      return `${input.customerFirstName ?? "The customer"} ended the conversation. Thanks for helping!`;
    case "expert":
      return `You ended the conversation with ${customer}. Thanks for helping!`;
    case "idle":
      return `The conversation with ${customer} ended after ${idleWords(input.idleSeconds)} without messages. Thanks for helping!`;
    default:
      return `The conversation with ${customer} has ended. Thanks for helping!`;
  }
}

export function ratingRequest(expertFirstName: string): string {
  return `How did ${expertFirstName} do? Reply 1-5 (5 is best).`;
}

/** The customer's one text at the end: how it ended, then the rating request. */
export function customerEndText(input: { endedBy: string; expertFirstName: string; idleSeconds: number }): string {
  const ask = ratingRequest(input.expertFirstName);
  switch (input.endedBy) {
    case "customer":
      return `Thanks for chatting with ${input.expertFirstName}! ${ask}`;
    case "expert":
      return `${input.expertFirstName} ended the conversation. ${ask}`;
    case "idle":
      return `This conversation ended after ${idleWords(input.idleSeconds)} without messages. ${ask}`;
    default:
      return `This conversation has ended. ${ask}`;
  }
}

export const sessionCopy = {
  rated: (expertFirstName: string, score: number) =>
    `Thanks for rating ${expertFirstName} ${score}/5! Want to add a comment? Just reply with it.`,
  commented: (expertFirstName: string) => `Thanks! Your comment about ${expertFirstName} is saved.`,
  alreadyRated: "Thanks, you've already rated this conversation.",
  /** To the customer of an ended session still waiting for a rating. */
  endedAwaitingRating: (expertFirstName: string) =>
    `This conversation has ended, so your message was not passed on. How did ${expertFirstName} do? Reply 1-5 (5 is best).`,
  /** To the customer of an ended session, rating done or too late. */
  endedCustomer: (shopName: string) =>
    `This conversation has ended, so your message was not passed on. To ask something new, visit ${shopName}'s website.`,
  endedExpert: "This conversation has ended, so your message was not passed on.",
};
