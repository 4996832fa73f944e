/**
 * Risk flags on a payout, for the admin who reviews it before money moves
 * (issue 9, section 3). Pure: the caller gathers the facts (sessions, the
 * expert's history, the Connect state) and stores what comes back in
 * Payout.riskFlags / Payout.riskDetails.
 *
 * A flag never blocks a payout by itself: every payout is reviewed, and a
 * flag only points the reviewer at what to look at. So the thresholds lean
 * towards flagging a pattern that a fraudster needs (many tiny sessions, the
 * same person on both sides, one customer feeding one expert, a sudden jump
 * in volume), and away from flagging what an honest expert sees every day
 * (one dropped call among many, one loyal customer among many).
 *
 * Details are one line each, for a human, and never carry a phone number: a
 * customer is at most "a customer ending 23".
 */

import { formatMoney } from "../../lib/money.js";

export const RISK_FLAGS = ["short_sessions", "low_ratings", "same_phone_both_sides", "repeat_pair", "unusual_volume", "payouts_not_enabled"] as const;
export type RiskFlag = (typeof RISK_FLAGS)[number];

export interface PayoutSessionFacts {
  sessionId: string;
  mode: "sms" | "voice";
  /** Billable length: voice = bridged seconds; sms = start to end. */
  durationSeconds: number;
  /** The expert's relayed texts in the session (sms), 0 if unknown. */
  expertMessages: number;
  /** 1..5, or null when the customer did not rate. */
  rating: number | null;
  /** E.164 */
  customerPhone: string;
  /** E.164 */
  expertPhone: string;
}

export interface ExpertPayoutHistory {
  /**
   * Earlier payouts of this expert (not rejected), newest first: session
   * count and amount. Pass those in the payout's currency: the amounts are
   * compared with this payout's amount as they are.
   */
  previousPayouts: { sessionCount: number; amountMinor: number }[];
  /**
   * For each customer phone in this payout: how many sessions the expert has
   * had with that customer in total (including these). A missing phone
   * only skips the lifetime half of repeat_pair.
   */
  sessionsWithCustomer: Record<string, number>;
  /** The expert's total sessions ever (including these); raised to this payout's count if smaller. */
  totalSessions: number;
  /** Other phones known to belong to this expert or to the shop's experts (same person on both sides via a second expert account). */
  expertPhones: string[];
}

export interface RiskAssessment {
  /** In RISK_FLAGS order. */
  flags: RiskFlag[];
  /** One line per raised flag, without phone numbers. */
  details: Partial<Record<RiskFlag, string>>;
}

export interface PayoutRiskInput {
  sessions: PayoutSessionFacts[];
  /** The payout's amount in minor units: a positive whole number. */
  amountMinor: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** Whether the expert's Stripe account can receive transfers. */
  payoutsEnabled: boolean;
  history: ExpertPayoutHistory;
}

// ------------------------------------------------------------ thresholds

/**
 * A voice session bridged for less than 30 s is short: too little to hear a
 * question and answer it, yet enough to earn a per-session price or the
 * per-minute minimum. A wrong number or a test call looks like this.
 */
export const SHORT_VOICE_SECONDS = 30;
/**
 * A text session that lasted less than 60 s is short: an expert cannot read,
 * think and reply in under a minute, so such a session was opened and
 * closed without real help.
 */
export const SHORT_SMS_SECONDS = 60;
/**
 * A text session in which the expert sent fewer than 2 texts is short: one
 * text is a greeting or a "can't help", not an answer. An unknown count
 * arrives as 0 and so counts as short; the admin then sees the flag and
 * opens the session, which is the safe side for money.
 */
export const SHORT_SMS_MIN_EXPERT_MESSAGES = 2;
/**
 * short_sessions is raised when at least half of the payout's sessions are
 * short, whatever its size, so a payout made of a single 10 s call is
 * flagged too: that is exactly what a self-dealing test run looks like, and
 * every payout is reviewed anyway. An honest expert's occasional dropped
 * call among longer sessions stays below half.
 */
export const SHORT_SESSIONS_SHARE = 0.5;

/**
 * low_ratings is raised when the rated sessions average below 3 of 5 (the
 * midpoint: customers were on the whole unhappy)...
 */
export const LOW_RATING_MEAN = 3;
/** ...over at least 2 rated sessions, so that one bad rating alone is not called a pattern by the mean... */
export const LOW_RATING_MIN_RATED = 2;
/**
 * ...or when any session was rated 1 star: the customer felt they got
 * nothing, which usually comes with a refund request, and the review window
 * exists so that the admin can see it before paying.
 */
export const LOW_RATING_ALARM = 1;

/**
 * repeat_pair, within this payout: one customer has at least 3 of its
 * sessions (2 can be a follow-up question)...
 */
export const REPEAT_PAIR_MIN_SESSIONS = 3;
/** ...and at least half of them: a loyal customer among many is normal, a payout fed by one customer is not. */
export const REPEAT_PAIR_SHARE = 0.5;
/**
 * repeat_pair, over the expert's whole history: one customer has had at
 * least 10 sessions with the expert (a settled relationship, not a few
 * follow-ups)...
 */
export const REPEAT_PAIR_LIFETIME_SESSIONS = 10;
/** ...and at least half of all the expert's sessions: the expert's business is mostly one customer. */
export const REPEAT_PAIR_LIFETIME_SHARE = 0.5;

/**
 * unusual_volume: the session count or the amount is more than 3 times the
 * median of the expert's earlier payouts. A busy week can double an
 * expert's volume; tripling it is worth a look. The median, not the mean,
 * so that one earlier spike does not hide the next.
 */
export const UNUSUAL_VOLUME_MULTIPLIER = 3;
/** The median needs at least 3 earlier payouts to mean anything (with 1 or 2, one odd payout would set the baseline). */
export const UNUSUAL_VOLUME_MIN_HISTORY = 3;
/** Only the newest 10 earlier payouts count, so the baseline follows an expert who grew. */
export const UNUSUAL_VOLUME_LOOKBACK = 10;
/**
 * Before an expert has UNUSUAL_VOLUME_MIN_HISTORY earlier payouts, a payout
 * of more than 50 sessions is flagged: a new expert rarely answers that
 * many in one review window, and a new account is where fraud starts.
 */
export const UNUSUAL_VOLUME_NEW_EXPERT_SESSIONS = 50;

// ------------------------------------------------------------ validation

const E164 = /^\+[1-9]\d{1,14}$/;
const CURRENCY = /^[A-Z]{3}$/;

function wholeNonNegative(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of 0 or more, got ${value}`);
}

function phone(name: string, value: string): void {
  if (!E164.test(value)) throw new RangeError(`${name} must be an E.164 phone number`);
}

function validate(input: PayoutRiskInput): void {
  const { sessions, amountMinor, currency, history } = input;
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new RangeError(`amountMinor must be a positive whole number, got ${amountMinor}`);
  if (!CURRENCY.test(currency)) throw new RangeError(`currency must be an ISO 4217 code such as USD, got ${currency}`);
  const ids = new Set<string>();
  sessions.forEach((session, i) => {
    const at = `sessions[${i}]`;
    if (session.sessionId === "" || ids.has(session.sessionId)) throw new RangeError(`${at}.sessionId must be present and unique`);
    ids.add(session.sessionId);
    if (session.mode !== "sms" && session.mode !== "voice") throw new RangeError(`${at}.mode must be sms or voice, got ${String(session.mode)}`);
    wholeNonNegative(`${at}.durationSeconds`, session.durationSeconds);
    wholeNonNegative(`${at}.expertMessages`, session.expertMessages);
    if (session.rating !== null && !(Number.isInteger(session.rating) && session.rating >= 1 && session.rating <= 5)) {
      throw new RangeError(`${at}.rating must be a whole number from 1 to 5 or null, got ${session.rating}`);
    }
    phone(`${at}.customerPhone`, session.customerPhone);
    phone(`${at}.expertPhone`, session.expertPhone);
  });
  history.previousPayouts.forEach((payout, i) => {
    wholeNonNegative(`history.previousPayouts[${i}].sessionCount`, payout.sessionCount);
    wholeNonNegative(`history.previousPayouts[${i}].amountMinor`, payout.amountMinor);
  });
  for (const count of Object.values(history.sessionsWithCustomer)) wholeNonNegative("history.sessionsWithCustomer", count);
  wholeNonNegative("history.totalSessions", history.totalSessions);
  history.expertPhones.forEach((value, i) => phone(`history.expertPhones[${i}]`, value));
}

// ------------------------------------------------------------ rules

/** Whether one session is very short (see the SHORT_* constants). */
export function isShortSession(session: Pick<PayoutSessionFacts, "mode" | "durationSeconds" | "expertMessages">): boolean {
  if (session.mode === "voice") return session.durationSeconds < SHORT_VOICE_SECONDS;
  return session.durationSeconds < SHORT_SMS_SECONDS || session.expertMessages < SHORT_SMS_MIN_EXPERT_MESSAGES;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function shortSessions(sessions: PayoutSessionFacts[]): string | null {
  const short = sessions.filter(isShortSession).length;
  if (short === 0 || short < SHORT_SESSIONS_SHARE * sessions.length) return null;
  return `${short} of ${sessions.length} sessions were very short (a call bridged under ${SHORT_VOICE_SECONDS} s, or a text session under ${SHORT_SMS_SECONDS} s or with fewer than ${SHORT_SMS_MIN_EXPERT_MESSAGES} expert replies)`;
}

function lowRatings(sessions: PayoutSessionFacts[]): string | null {
  const ratings = sessions.flatMap((session) => (session.rating === null ? [] : [session.rating]));
  const sum = ratings.reduce((total, rating) => total + rating, 0);
  const parts: string[] = [];
  if (ratings.length >= LOW_RATING_MIN_RATED && sum < LOW_RATING_MEAN * ratings.length) {
    parts.push(`ratings average ${(sum / ratings.length).toFixed(2)} of 5 over ${ratings.length} rated sessions`);
  }
  const alarms = ratings.filter((rating) => rating <= LOW_RATING_ALARM).length;
  if (alarms > 0) parts.push(plural(alarms, "session", "sessions") + " rated 1 star");
  return parts.length === 0 ? null : parts.join("; ");
}

function samePhone(sessions: PayoutSessionFacts[], expertPhones: string[]): string | null {
  const known = new Set(expertPhones);
  const same = sessions.filter((session) => session.customerPhone === session.expertPhone || known.has(session.customerPhone)).length;
  if (same === 0) return null;
  return `${same} of ${sessions.length} sessions had the expert's own phone, or another expert's known phone, on the customer side`;
}

function lastDigits(e164: string): string {
  return e164.slice(-2);
}

function repeatPair(sessions: PayoutSessionFacts[], history: ExpertPayoutHistory): string | null {
  const inPayout = new Map<string, number>();
  for (const session of sessions) inPayout.set(session.customerPhone, (inPayout.get(session.customerPhone) ?? 0) + 1);
  const totalSessions = Math.max(history.totalSessions, sessions.length);
  const reasons: string[] = [];
  for (const [customer, count] of inPayout) {
    const lifetime = history.sessionsWithCustomer[customer] ?? 0;
    const who = `a customer ending ${lastDigits(customer)}`;
    if (count >= REPEAT_PAIR_MIN_SESSIONS && count >= REPEAT_PAIR_SHARE * sessions.length) {
      reasons.push(`${who} had ${count} of the ${sessions.length} sessions in this payout`);
    } else if (lifetime >= REPEAT_PAIR_LIFETIME_SESSIONS && lifetime >= REPEAT_PAIR_LIFETIME_SHARE * totalSessions) {
      reasons.push(`${who} has had ${lifetime} of the expert's ${totalSessions} sessions`);
    }
  }
  return reasons.length === 0 ? null : reasons.join("; ");
}

/** The median of a non-empty list (the mean of the middle two for an even length). */
export function median(values: number[]): number {
  if (values.length === 0) throw new RangeError("the median of no values is undefined");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function unusualVolume(sessionCount: number, amountMinor: number, currency: string, previous: ExpertPayoutHistory["previousPayouts"]): string | null {
  if (previous.length < UNUSUAL_VOLUME_MIN_HISTORY) {
    if (sessionCount <= UNUSUAL_VOLUME_NEW_EXPERT_SESSIONS) return null;
    return `${sessionCount} sessions before the expert has ${UNUSUAL_VOLUME_MIN_HISTORY} earlier payouts (flagged above ${UNUSUAL_VOLUME_NEW_EXPERT_SESSIONS})`;
  }
  const recent = previous.slice(0, UNUSUAL_VOLUME_LOOKBACK);
  const medianCount = median(recent.map((payout) => payout.sessionCount));
  const medianAmount = median(recent.map((payout) => payout.amountMinor));
  const parts: string[] = [];
  if (sessionCount > UNUSUAL_VOLUME_MULTIPLIER * medianCount) parts.push(`${sessionCount} sessions against a median of ${medianCount}`);
  if (amountMinor > UNUSUAL_VOLUME_MULTIPLIER * medianAmount) parts.push(`${formatMoney(amountMinor, currency)} against a median of ${formatMoney(medianAmount, currency)}`);
  if (parts.length === 0) return null;
  return `${parts.join(" and ")} over the last ${recent.length} payouts (flagged above ${UNUSUAL_VOLUME_MULTIPLIER}x)`;
}

/**
 * The risk flags of one payout, in RISK_FLAGS order, each with a one-line
 * reason. Throws RangeError on input that cannot describe a real payout
 * (negative or fractional counts, a rating outside 1..5, a non-positive or
 * fractional amount, a malformed phone or currency, a repeated session).
 */
export function assessPayoutRisk(input: PayoutRiskInput): RiskAssessment {
  validate(input);
  const { sessions, history } = input;
  const found: Record<RiskFlag, string | null> = {
    short_sessions: shortSessions(sessions),
    low_ratings: lowRatings(sessions),
    same_phone_both_sides: samePhone(sessions, history.expertPhones),
    repeat_pair: repeatPair(sessions, history),
    unusual_volume: unusualVolume(sessions.length, input.amountMinor, input.currency, history.previousPayouts),
    payouts_not_enabled: input.payoutsEnabled ? null : "the expert's Stripe account cannot receive transfers yet (payouts not enabled)",
  };
  const flags: RiskFlag[] = [];
  const details: Partial<Record<RiskFlag, string>> = {};
  for (const flag of RISK_FLAGS) {
    const detail = found[flag];
    if (detail !== null) {
      flags.push(flag);
      details[flag] = detail;
    }
  }
  return { flags, details };
}
