/**
 * What routing says by SMS: the offer an expert gets and the codes it
 * carries, and what the customer hears while we search. Pure: facts in,
 * words out. Every text stays close to one or two SMS segments.
 */
import { formatMoney } from "../../lib/money.js";
import { firstName } from "../sessions/copy.js";
import { OFFER_CODE_ALPHABET } from "../telephony/keywords.js";

export const OFFER_CODE_LENGTH = 3;

/**
 * A reply code no other open offer of this expert uses. `random` gives one
 * index into the alphabet per call (crypto in production, a sequence in tests).
 * With 29,791 codes and a handful of open offers, a free one comes at once;
 * the bound only guards against a broken `random`.
 */
export function pickOfferCode(openCodes: ReadonlySet<string>, random: (size: number) => number): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let code = "";
    for (let i = 0; i < OFFER_CODE_LENGTH; i++) code += OFFER_CODE_ALPHABET[random(OFFER_CODE_ALPHABET.length)];
    if (!openCodes.has(code)) return code;
  }
  throw new Error("no free offer code found");
}

export interface Pay {
  mode: "per_session" | "per_minute";
  amountMinor: number;
  currency: string;
  platformFeeBps: number;
}

/** What the expert earns, in minor units: the price less the platform fee, rounded down (never promise a cent too many). */
export function expertShareMinor(pay: Pay): number {
  return Math.floor((pay.amountMinor * (10_000 - pay.platformFeeBps)) / 10_000);
}

export function payText(pay: Pay): string {
  const amount = formatMoney(expertShareMinor(pay), pay.currency);
  return pay.mode === "per_minute" ? `${amount}/min` : amount;
}

/** The question's first line, cut on a word boundary to `max` characters with an ellipsis. */
export function excerpt(text: string, max = 80): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (Array.from(line).length <= max) return line;
  // Whole characters: a cut through an emoji's surrogate pair would show the expert a "�".
  const cut = Array.from(line)
    .slice(0, max - 1)
    .join("");
  const lastSpace = cut.lastIndexOf(" ");
  return `${(lastSpace > max / 2 ? cut.slice(0, lastSpace) : cut).replace(/[\s.,;:!?-]+$/, "")}…`;
}

export function offerText(input: { shopName: string; productName: string | null; question: string; pay: Pay | null; code: string; minutesToAnswer: number }): string {
  const about = input.productName ? ` about ${input.productName}` : "";
  const pays = input.pay ? ` Pays ${payText(input.pay)}.` : "";
  return (
    `${input.shopName} question${about}: "${excerpt(input.question)}"${pays} ` +
    `Open ${input.minutesToAnswer} min. Reply YES ${input.code} to take it, NO ${input.code} to pass`
  );
}

export const routingCopy = {
  alreadyTaken: "Already taken, thanks!",
  timedOut: "Sorry, that one timed out. We'll text you the next one.",
  questionClosed: "That question was closed before anyone took it, thanks!",
  busy: (code: string) => `You're at your limit of open conversations. Text DONE in one, then reply YES ${code} again if it's still open.`,
  declined: "No problem, thanks for letting us know.",
  noOpenOffer: "You have no open question right now. Reply STATUS to see yours.",
  whichOffer: (codes: string[]) => `You have ${codes.length} open questions: reply YES ${codes[0]} (or ${codes.slice(1).join(", ")}) to pick one.`,
  autoPaused: "You missed 3 questions in a row, so we've paused new ones. Reply ON when you're ready again.",
};


/** A rough, honest "about N minutes": whole minutes, at least 1, rounded up to 5 past a quarter hour. */
export function roundMinutes(seconds: number): number {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes > 15 ? Math.ceil(minutes / 5) * 5 : minutes;
}

export const customerCopy = {
  /** `callBack`: the customer asked to talk (a call-in, or preferredMode voice): the expert will ring them. */
  received: (input: { name: string | null; shopName: string; productName: string | null; statusUrl: string; callBack?: boolean }) =>
    `Hi ${firstName(input.name, "there")}! ${input.shopName} got your question${input.productName ? ` about ${input.productName}` : ""}. ` +
    (input.callBack ? "We're finding an expert to call you back, and will text you updates here." : "We're finding an expert and will text you here.") +
    ` Follow along: ${input.statusUrl}`,
  askProduct: (input: { shopName: string; products: string[]; statusUrl: string }) =>
    `Hi! ${input.shopName} got your question. Which product is it about? ` +
    input.products.map((name, index) => `${index + 1} ${name}`).join(", ") +
    `. Reply with the number. Follow along: ${input.statusUrl}`,
  productUnclear: (count: number) => `Sorry, I didn't get that. Reply with a number from 1 to ${count}.`,
  widened: (minutes: number) =>
    `Still looking: the experts we asked first are busy, so we're asking more people. We expect someone within about ${minutes} min.`,
  nobodyYet: (untilText: string) =>
    `No expert is free right now. We'll keep trying for ${untilText} and text you the moment someone takes your question.`,
  addedToQuestion: "Got it, we've added that to your question.",
  talkingOnOtherNumber: (expertFirstName: string) => `${expertFirstName} is answering you by text from another number: reply there.`,
  expired: (input: { name: string | null; shopName: string }) =>
    `Sorry ${firstName(input.name, "there")}, no ${input.shopName} expert was free in time for your question. Text us again any time and we'll try again.`,
  cancelled: (shopName: string) => `Your question to ${shopName} is closed. Text us any time to ask another.`,
  expiredUnchosen: (shopName: string) =>
    `We didn't hear which product your question was about, so ${shopName} closed it. Text us again any time.`,
  askInWords: (shopName: string) => `Hi! This is ${shopName}'s expert line. Text your question in words and we'll find an expert to answer you.`,
};
