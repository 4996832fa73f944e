/**
 * What the expert line says on a call, and the TwiML that says it: the
 * short IVR a customer meets when they call (product, question, "an expert
 * will call you back"), where an open question stands, and the hand-over to
 * a session's bridge. Pure: facts and absolute URLs in, TwiML out. Reading
 * the database is intake-voice.ts; answering Twilio is voice.routes.ts.
 *
 * Every `action` and `Redirect` URL is absolute, from PUBLIC_BASE_URL:
 * Twilio signs the URL it calls, and our signature check rebuilds it from
 * that base. State between steps (the product chosen, the attempt) travels
 * in those URLs' query strings, which the signature covers too.
 */
import twilio from "twilio";
import { roundMinutes } from "../routing/offer-text.js";
import { firstName } from "../sessions/copy.js";
import { matchProductInText, wordsOf, type NamedProduct } from "./product-match.js";

type VoiceResponse = InstanceType<typeof twilio.twiml.VoiceResponse>;

/** Products read out by number; more would be a menu nobody remembers (the others can still be named). */
export const MAX_PRODUCTS_LISTED = 5;
/** Seconds the caller has to start answering a prompt. */
export const ANSWER_TIMEOUT_SECONDS = 6;
/** Cap of the recorded question (the brief's two minutes: a question, not a voicemail). */
export const RECORD_MAX_SECONDS = 120;
/**
 * Below this, Twilio's transcript is more guess than speech: the caller is
 * asked to leave a recording instead. Low on purpose: a wrong word in a
 * question is still a question, and an expert calls back anyway.
 */
export const MIN_SPEECH_CONFIDENCE = 0.2;
/** Twilio's speech hints: enough for a shop's product names, far below its limits. */
const MAX_HINTS = 50;

// ---------------------------------------------------------------- URLs

export function ivrUrls(publicBaseUrl: string) {
  const productQuery = (productId: string | null) => (productId ? `?product=${productId}` : "");
  return {
    entry: `${publicBaseUrl}/twilio/voice`,
    product: (attempt: number) => `${publicBaseUrl}/twilio/voice/product?attempt=${attempt}`,
    question: (productId: string | null) => `${publicBaseUrl}/twilio/voice/question${productQuery(productId)}`,
    recording: (productId: string | null) => `${publicBaseUrl}/twilio/voice/recording${productQuery(productId)}`,
    connect: `${publicBaseUrl}/twilio/voice/connect`,
    /** Voice sessions' route: bridges the caller into their open session. */
    session: (sessionId: string) => `${publicBaseUrl}/twilio/voice/sessions/${sessionId}/connect`,
  };
}
export type IvrUrls = ReturnType<typeof ivrUrls>;

// ---------------------------------------------------------------- words

/** "the Grainfather G30", but not "the The Kettle": product names read in a sentence. */
function theProduct(name: string): string {
  return /^the\s/i.test(name) ? name : `the ${name}`;
}

export const ivrCopy = {
  notInService: "Sorry, this number is not in service. Goodbye.",
  lineClosed: (shopName: string) => `Sorry, the ${shopName} expert line is not taking calls right now. Goodbye.`,
  withheld:
    "Sorry, we can only take a question from a number we can call back. Please call again without hiding your number. Goodbye.",
  refusedNumber: (shopName: string) => `Sorry, the ${shopName} expert line cannot take questions from this number. Goodbye.`,
  refusedBusy: (shopName: string) =>
    `Sorry, the ${shopName} expert line cannot take more questions from this number right now. Please try again later. Goodbye.`,
  greeting: (shopName: string) => `Thanks for calling the ${shopName} expert line.`,
  productMenu: (names: readonly string[]) =>
    "Which product is your question about? " +
    names.map((name, index) => `For ${theProduct(name)}, press ${index + 1}.`).join(" ") +
    " Or say the product's name.",
  productUnclear: "Sorry, I didn't get that.",
  productSkipped: "No problem, we'll find the right expert for you.",
  askQuestion: (productName: string | null) =>
    `Please ask your question${productName ? ` about ${theProduct(productName)}` : ""} in a few sentences.`,
  recordInstead: "Sorry, I didn't catch that. Please leave your question after the beep, then press the pound key or hang up.",
  noRecording: "We didn't get a message, so nothing was sent. Call again any time. Goodbye.",
  /** `minutes` null: no pool says how long a search takes, so no number is promised. */
  thanks: (input: { minutes: number | null; texts: boolean }) => {
    const when = input.minutes === null ? "as soon as one is free" : `within about ${input.minutes === 1 ? "1 minute" : `${input.minutes} minutes`}`;
    return `Thanks. An expert will call you back ${when}${input.texts ? "; we'll text you updates" : ""}. Goodbye.`;
  },
  openQuestion: (input: { shopName: string; headline: string; next: string }) =>
    `You have a question open with ${input.shopName}. ${input.headline}. ${input.next}`,
  connectOffer: (expertFirstName: string) => `Press 1 to be connected to ${expertFirstName}.`,
  sessionOver: "That conversation has ended. Goodbye.",
  addedToOpenQuestion: "Thanks, we've added that to the question you already have open with us. Goodbye.",
  goodbye: "Goodbye.",
  expertStatus: (input: { name: string; shopName: string; status: "invited" | "active" | "suspended"; paused: boolean; openOffers: number }) => {
    const hello = `Hi ${firstName(input.name, "there")}!`;
    if (input.status === "invited") return `${hello} You haven't joined the ${input.shopName} expert line yet. Text YES to this number to join. Goodbye.`;
    if (input.status === "suspended") return `${hello} Your ${input.shopName} expert account is paused by the shop. Goodbye.`;
    const offers = input.openOffers === 0 ? "" : ` You have ${input.openOffers === 1 ? "1 open offer" : `${input.openOffers} open offers`} by text.`;
    const availability = input.paused
      ? "You're paused: no questions come to you until you text ON to this number."
      : "You're available: questions come to you by text. Text OFF to pause.";
    return `${hello} ${availability}${offers} Goodbye.`;
  },
};

/** The body of a question left as a recording: people reading the question see what it is. */
export function voiceMessageBody(seconds: number): string {
  return `Voice message (${seconds} s)`;
}

/**
 * The estimate said on the call: two offer windows of the question's pool
 * (the first expert asked, and the next if the first passes), as routing
 * itself estimates when it widens a search. Without a pool nothing says how
 * long it takes, so no number is promised.
 */
export function callbackEstimateMinutes(pool: { offerTimeoutSeconds: number } | null): number | null {
  return pool ? roundMinutes(pool.offerTimeoutSeconds * 2) : null;
}

/** The transcript when it is worth routing; null sends the caller to a recording. */
export function usableSpeech(speech: string | undefined, confidence: number | undefined): string | null {
  const said = (speech ?? "").replace(/\s+/g, " ").trim();
  if (wordsOf(said).length === 0) return null;
  // Twilio leaves Confidence out with some speech models: no score is not a low score.
  if (confidence !== undefined && confidence < MIN_SPEECH_CONFIDENCE) return null;
  return said;
}

// ---------------------------------------------------------------- product choice

const NUMBER_WORDS = new Map([
  ["one", 1],
  ["two", 2],
  ["three", 3],
  ["four", 4],
  ["five", 5],
  ["six", 6],
  ["seven", 7],
  ["eight", 8],
  ["nine", 9],
]);
/** Words callers put around a menu number: "number two", "option 3", "press 1". */
const MENU_FILLER = new Set(["number", "option", "press", "the", "please", "um", "uh"]);

function menuNumber(words: readonly string[]): number | null {
  const rest = words.filter((word) => !MENU_FILLER.has(word));
  const [only] = rest;
  if (rest.length !== 1 || only === undefined) return null;
  if (/^\d$/.test(only)) return Number(only);
  return NUMBER_WORDS.get(only) ?? null;
}

/**
 * A product whose name or alias the transcript spells in pieces: speech
 * engines write "G30" as "g 30". Matches when consecutive words, joined,
 * are a whole label (joined too); labels under 3 characters are too easily
 * found by chance. Null when no product or several match.
 */
function matchSpelledApart(words: readonly string[], products: readonly NamedProduct[]): string | null {
  const found = new Set<string>();
  for (const product of products) {
    for (const label of [product.name, ...product.aliases]) {
      const joined = wordsOf(label).join("");
      if (joined.length < 3) continue;
      for (let start = 0; start < words.length; start++) {
        let run = "";
        for (let end = start; end < words.length && run.length < joined.length; end++) {
          run += words[end];
          if (run === joined) found.add(product.id);
        }
      }
    }
  }
  const [only] = found;
  return found.size === 1 ? (only ?? null) : null;
}

/**
 * The product a caller chose: a key of the menu (`listed`, in the order read
 * out), or said: any product's name or alias (`all`), or the menu's number
 * in words ("two", "number 2"). Null when nothing or several match.
 */
export function pickSpokenProduct(
  input: { digits?: string | undefined; speech?: string | undefined },
  listed: readonly NamedProduct[],
  all: readonly NamedProduct[],
): string | null {
  const digits = (input.digits ?? "").trim();
  if (/^\d$/.test(digits)) return listed[Number(digits) - 1]?.id ?? null;
  const speech = input.speech ?? "";
  const named = matchProductInText(speech, all);
  if (named) return named;
  const words = wordsOf(speech);
  const number = menuNumber(words);
  if (number !== null) return listed[number - 1]?.id ?? null;
  return matchSpelledApart(words, all);
}

/** Speech hints: the products' names and aliases, once each. */
export function productHints(products: readonly NamedProduct[]): string {
  const phrases = new Set(products.flatMap((product) => [product.name, ...product.aliases]).map((phrase) => phrase.replace(/[,\s]+/g, " ").trim()));
  return [...phrases].filter((phrase) => phrase !== "").slice(0, MAX_HINTS).join(", ");
}

// ---------------------------------------------------------------- TwiML

function response(): VoiceResponse {
  return new twilio.twiml.VoiceResponse();
}

/** A sentence, then the end of the call. */
export function sayAndHangUp(text: string): string {
  const twiml = response();
  twiml.say(text);
  twiml.hangup();
  return twiml.toString();
}

/** Hands the call to another document (a session's bridge). */
export function redirectTo(url: string): string {
  const twiml = response();
  twiml.redirect({ method: "POST" }, url);
  return twiml.toString();
}

/**
 * The product menu, by key or by name. No input at all falls through to
 * the Redirect, which reaches the same action without Digits or
 * SpeechResult: the action counts that as a miss.
 */
export function productMenuTwiml(input: { urls: IvrUrls; attempt: number; listed: readonly NamedProduct[]; all: readonly NamedProduct[]; preface: readonly string[] }): string {
  const twiml = response();
  for (const line of input.preface) twiml.say(line);
  const action = input.urls.product(input.attempt);
  const hints = productHints(input.all);
  const menu = twiml.gather({
    input: ["speech", "dtmf"],
    numDigits: 1,
    timeout: ANSWER_TIMEOUT_SECONDS,
    speechTimeout: "auto",
    ...(hints ? { hints } : {}),
    action,
    method: "POST",
  });
  menu.say(ivrCopy.productMenu(input.listed.map((product) => product.name)));
  twiml.redirect({ method: "POST" }, action);
  return twiml.toString();
}

/** The <Record> fallback: a question that could not be transcribed is kept as audio. */
function appendRecording(twiml: VoiceResponse, urls: IvrUrls, productId: string | null): void {
  twiml.record({
    action: urls.recording(productId),
    method: "POST",
    maxLength: RECORD_MAX_SECONDS,
    playBeep: true,
    timeout: 5,
    finishOnKey: "#",
    trim: "trim-silence",
  });
  // Twilio requests no action for a silent recording and goes on here.
  twiml.say(ivrCopy.noRecording);
  twiml.hangup();
}

/**
 * The question, by speech. Silence falls through to the recording; a
 * transcript too unsure to route gets the recording from the action.
 */
export function questionTwiml(input: { urls: IvrUrls; product: { id: string; name: string } | null; preface: readonly string[] }): string {
  const twiml = response();
  for (const line of input.preface) twiml.say(line);
  const productId = input.product?.id ?? null;
  const ask = twiml.gather({
    input: ["speech"],
    speechTimeout: "auto",
    timeout: ANSWER_TIMEOUT_SECONDS,
    action: input.urls.question(productId),
    method: "POST",
  });
  ask.say(ivrCopy.askQuestion(input.product?.name ?? null));
  twiml.say(ivrCopy.recordInstead);
  appendRecording(twiml, input.urls, productId);
  return twiml.toString();
}

/** After an unusable transcript: straight to the recording. */
export function recordTwiml(input: { urls: IvrUrls; productId: string | null }): string {
  const twiml = response();
  twiml.say(ivrCopy.recordInstead);
  appendRecording(twiml, input.urls, input.productId);
  return twiml.toString();
}

/**
 * Where an open question stands, and, while its session is open, the way
 * to the expert: press 1 (then connectTwiml redirects to the session).
 */
export function openQuestionTwiml(input: { urls: IvrUrls; shopName: string; headline: string; next: string; connectTo: string | null }): string {
  const twiml = response();
  const status = ivrCopy.openQuestion(input);
  if (input.connectTo === null) {
    twiml.say(status);
    twiml.say(ivrCopy.goodbye);
    twiml.hangup();
    return twiml.toString();
  }
  twiml.say(status);
  const choice = twiml.gather({ input: ["dtmf"], numDigits: 1, timeout: ANSWER_TIMEOUT_SECONDS, action: input.urls.connect, method: "POST" });
  choice.say(ivrCopy.connectOffer(input.connectTo));
  twiml.say(ivrCopy.goodbye);
  twiml.hangup();
  return twiml.toString();
}

// ---------------------------------------------------------------- steps

/** What the IVR does next, as intake-voice.ts decides it. */
export type IvrStep =
  | { kind: "hang-up"; text: string }
  /** Into an open session: voice sessions' route bridges the caller. */
  | { kind: "session"; sessionId: string }
  | { kind: "open-question"; shopName: string; headline: string; next: string; connectTo: string | null }
  | { kind: "ask-product"; attempt: number; preface: string[]; listed: NamedProduct[]; all: NamedProduct[] }
  | { kind: "ask-question"; preface: string[]; product: { id: string; name: string } | null }
  | { kind: "record"; productId: string | null };

export function renderStep(step: IvrStep, urls: IvrUrls): string {
  switch (step.kind) {
    case "hang-up":
      return sayAndHangUp(step.text);
    case "session":
      return redirectTo(urls.session(step.sessionId));
    case "open-question":
      return openQuestionTwiml({ urls, ...step });
    case "ask-product":
      return productMenuTwiml({ urls, ...step });
    case "ask-question":
      return questionTwiml({ urls, ...step });
    case "record":
      return recordTwiml({ urls, productId: step.productId });
  }
}
