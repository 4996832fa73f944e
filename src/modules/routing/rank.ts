/**
 * Ranking: which of the available experts gets the offer first. A pure
 * function of the question, the candidates and the instant; every factor is a
 * value from 0 to 1 times its weight, and each candidate carries the reasons
 * (one per factor) so the question's detail view can explain the choice.
 *
 * Fetching the candidates (who is eligible at all) is candidates.ts.
 */

/**
 * Points per factor at its best (value 1). The four quality factors share
 * 100 points; continuity comes on top and is worth half of them, so a
 * customer's earlier expert goes first unless another candidate beats them by
 * more than half the scale (a weak tag fit, a poor rating and a slow answer
 * together), and is never a tie-breaker only.
 */
export const RANKING_WEIGHTS = {
  tagFit: 35,
  rating: 25,
  responseRate: 20,
  fairness: 20,
  continuity: 50,
} as const;

/** An optional tag counts this much of a required one in the tag fit. */
export const OPTIONAL_TAG_SHARE = 0.5;
/** Skill levels run from 1 (knows it) to 5 (authority). */
export const MAX_SKILL_LEVEL = 5;

/** The prior weighs as much as this many ratings: a handful of ratings moves the estimate, fifty outweigh it. */
export const RATING_CONFIDENCE = 10;
/** The prior mean when the pool has no ratings yet. */
export const DEFAULT_PRIOR_RATING = 4;
/**
 * The prior never assumes more than this, however well the pool is rated: in
 * a pool averaging 4.9 a newcomer with two 5-star ratings would otherwise be
 * estimated above an expert with fifty ratings of 4.8. A stranger has to earn
 * a rating above it.
 */
export const PRIOR_RATING_CEILING = 4.5;
const MIN_RATING = 1;
const MAX_RATING = 5;

/** New experts start from this response rate, weighing as this many offers, rather than from zero. */
export const RESPONSE_PRIOR_RATE = 0.75;
export const RESPONSE_PRIOR_OFFERS = 4;
/** A decline counts half an answer: it frees the question at once, where a time-out holds it for the whole timeout. */
export const DECLINE_CREDIT = 0.5;

/** An expert last offered this long ago scores half the fairness points; never offered scores all of them. */
export const FAIRNESS_HALF_SCORE_MS = 2 * 60 * 60 * 1000;

export interface RankingQuestion {
  tags: string[];
  optionalTags: string[];
  previousExpertId: string | null;
}

export interface Candidate {
  expertId: string;
  name: string;
  poolId: string;
  /** level (1-5) per tag the expert holds among the question's tags + optionalTags */
  skills: Record<string, number>;
  ratingSum: number;
  ratingCount: number;
  poolMeanRating: number | null;
  offersReceived: number;
  offersAccepted: number;
  offersDeclined: number;
  offersTimedOut: number;
  lastOfferedAt: Date | null;
}

export type RankFactor = "tag_fit" | "rating" | "response_rate" | "fairness" | "continuity";

export interface RankReason {
  factor: RankFactor;
  weight: number;
  /** 0..1 */
  value: number;
  points: number;
  /** A sentence for people; never a phone number. */
  detail: string;
}

export interface RankedCandidate {
  candidate: Candidate;
  score: number;
  reasons: RankReason[];
}

interface Scored {
  value: number;
  detail: string;
}

/** Rounded for storage and display; ordering compares these rounded figures, so float noise never decides a tie. */
const round = (value: number, digits: number) => Number(value.toFixed(digits));

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

function levelOf(candidate: Candidate, tag: string): number {
  const level = candidate.skills[tag] ?? 0;
  return Math.min(Math.max(level, 0), MAX_SKILL_LEVEL);
}

function describeTags(candidate: Candidate, tags: string[]): string {
  return tags.map((tag) => (levelOf(candidate, tag) > 0 ? `${tag} ${levelOf(candidate, tag)}/5` : `${tag} not held`)).join(", ");
}

export function scoreTagFit(candidate: Candidate, question: Pick<RankingQuestion, "tags" | "optionalTags">): Scored {
  const required = [...new Set(question.tags)];
  const optional = [...new Set(question.optionalTags)].filter((tag) => !required.includes(tag));
  const weightOf = (tag: string) => (required.includes(tag) ? 1 : OPTIONAL_TAG_SHARE);
  const wanted = [...required, ...optional];
  if (wanted.length === 0) return { value: 1, detail: "The question names no skills, so every expert fits it." };
  const total = wanted.reduce((sum, tag) => sum + weightOf(tag), 0);
  const earned = wanted.reduce((sum, tag) => sum + (weightOf(tag) * levelOf(candidate, tag)) / MAX_SKILL_LEVEL, 0);
  const parts = [];
  if (required.length > 0) parts.push(`Skill levels: ${describeTags(candidate, required)}.`);
  if (optional.length > 0) parts.push(`Optional: ${describeTags(candidate, optional)}.`);
  return { value: earned / total, detail: parts.join(" ") };
}

/** The prior mean for a candidate: the pool's mean, within the ceiling; the default when the pool has no ratings. */
export function priorRating(poolMeanRating: number | null): number {
  return Math.min(poolMeanRating ?? DEFAULT_PRIOR_RATING, PRIOR_RATING_CEILING);
}

/** (C·m + sum) / (C + count): the average, pulled towards the prior m as if C ratings of m had come first. */
export function bayesianRating(candidate: Pick<Candidate, "ratingSum" | "ratingCount" | "poolMeanRating">): number {
  const prior = priorRating(candidate.poolMeanRating);
  return (RATING_CONFIDENCE * prior + candidate.ratingSum) / (RATING_CONFIDENCE + candidate.ratingCount);
}

export function scoreRating(candidate: Candidate): Scored {
  const estimate = bayesianRating(candidate);
  const prior = priorRating(candidate.poolMeanRating);
  const source =
    candidate.poolMeanRating === null
      ? `the default of ${prior.toFixed(1)} (the pool has no ratings yet)`
      : prior < candidate.poolMeanRating
        ? `${prior.toFixed(1)} (the pool's mean of ${candidate.poolMeanRating.toFixed(2)}, capped)`
        : `the pool's mean of ${prior.toFixed(2)}`;
  const detail =
    candidate.ratingCount === 0
      ? `No ratings yet: estimated at ${source}.`
      : `Average ${(candidate.ratingSum / candidate.ratingCount).toFixed(2)} from ${plural(candidate.ratingCount, "rating")}; ` +
        `${estimate.toFixed(2)} once weighed against ${source} as if it were ${RATING_CONFIDENCE} ratings.`;
  const value = (estimate - MIN_RATING) / (MAX_RATING - MIN_RATING);
  return { value: Math.min(Math.max(value, 0), 1), detail };
}

export function scoreResponseRate(candidate: Candidate): Scored {
  const { offersAccepted: accepted, offersDeclined: declined, offersTimedOut: timedOut } = candidate;
  // Offers still pending, lost to a faster expert or cancelled say nothing about this expert: only answers and time-outs count.
  const settled = accepted + declined + timedOut;
  const answered = accepted + DECLINE_CREDIT * declined;
  const value = (RESPONSE_PRIOR_OFFERS * RESPONSE_PRIOR_RATE + answered) / (RESPONSE_PRIOR_OFFERS + settled);
  const detail =
    settled === 0
      ? `No answered offers yet: counted at ${Math.round(RESPONSE_PRIOR_RATE * 100)}% until there are.`
      : `Accepted ${accepted}, declined ${declined} and let ${timedOut} time out of ${plural(settled, "settled offer")}.`;
  return { value, detail };
}

function describeAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.floor(hours / 24), "day");
}

export function scoreFairness(candidate: Candidate, now: Date): Scored {
  if (candidate.lastOfferedAt === null) return { value: 1, detail: "Never offered a question yet." };
  // Elapsed real time: a DST change in between neither adds nor removes an hour.
  const age = Math.max(0, now.getTime() - candidate.lastOfferedAt.getTime());
  return { value: age / (age + FAIRNESS_HALF_SCORE_MS), detail: `Last offered a question ${describeAge(age)} ago.` };
}

export function scoreContinuity(candidate: Candidate, previousExpertId: string | null): Scored {
  if (previousExpertId === null) return { value: 0, detail: "The customer has no earlier expert for this product." };
  return candidate.expertId === previousExpertId
    ? { value: 1, detail: "The customer's earlier expert for this product." }
    : { value: 0, detail: "Not the customer's earlier expert for this product." };
}

function reason(factor: RankFactor, weight: number, scored: Scored): RankReason {
  const value = round(scored.value, 4);
  return { factor, weight, value, points: round(weight * value, 4), detail: scored.detail };
}

function rankOne(question: RankingQuestion, candidate: Candidate, now: Date): RankedCandidate {
  const reasons = [
    reason("tag_fit", RANKING_WEIGHTS.tagFit, scoreTagFit(candidate, question)),
    reason("rating", RANKING_WEIGHTS.rating, scoreRating(candidate)),
    reason("response_rate", RANKING_WEIGHTS.responseRate, scoreResponseRate(candidate)),
    reason("fairness", RANKING_WEIGHTS.fairness, scoreFairness(candidate, now)),
    reason("continuity", RANKING_WEIGHTS.continuity, scoreContinuity(candidate, question.previousExpertId)),
  ];
  return { candidate, score: round(reasons.reduce((sum, r) => sum + r.points, 0), 4), reasons };
}

/** Never offered first, then the longest since an offer. */
function byLastOffered(a: Candidate, b: Candidate): number {
  if (a.lastOfferedAt === null || b.lastOfferedAt === null) {
    return (a.lastOfferedAt === null ? 0 : 1) - (b.lastOfferedAt === null ? 0 : 1);
  }
  return a.lastOfferedAt.getTime() - b.lastOfferedAt.getTime();
}

/**
 * Best first. Equal scores go to the expert offered least recently, then by
 * expert id, so the same input always gives the same order.
 */
export function rankCandidates(question: RankingQuestion, candidates: Candidate[], now: Date): RankedCandidate[] {
  return candidates
    .map((candidate) => rankOne(question, candidate, now))
    .sort(
      (a, b) =>
        b.score - a.score ||
        byLastOffered(a.candidate, b.candidate) ||
        (a.candidate.expertId < b.candidate.expertId ? -1 : a.candidate.expertId > b.candidate.expertId ? 1 : 0),
    );
}
