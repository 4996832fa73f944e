/**
 * Offers: who gets asked, in what order, and who wins.
 *
 * Every step that changes a question's offers is idempotent and safe to run
 * twice or concurrently:
 * - a routing step locks the question row, so two steps for one question
 *   never both send offers;
 * - acceptance is ONE conditional statement (see ACCEPT_OFFER); the partial
 *   unique index Offer_one_accepted_per_question makes a second winner a
 *   unique violation, whatever the timing;
 * - a decline or a timeout is a conditional update of the offer row, so the
 *   same offer can only be closed once (accepted, declined or expired).
 */
import { randomInt } from "node:crypto";
import type { Deps } from "../../deps.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Expert, Prisma } from "../../generated/prisma/client.js";
import { uuidv7 } from "../../lib/ids.js";
import { maskPhonesInText } from "../../lib/phone.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";
import { setExpertPaused } from "../experts/service.js";
import { recordQuestionEvent } from "../questions/timeline.js";
import { START_SESSION } from "../sessions/job-names.js";
import { queueSms } from "../telephony/sms.js";
import { webhookEvents } from "../webhooks/emit.js";
import { findCandidates, findPreviousExpert } from "./candidates.js";
import { firstName } from "../sessions/copy.js";
import { customerCopy, offerText, pickOfferCode, roundMinutes, routingCopy, type Pay } from "./offer-text.js";
import { rankCandidates, type RankedCandidate } from "./rank.js";

export type RoutingDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;
type Tx = Prisma.TransactionClient;

export const ROUTE_QUESTION = "route-question";
export const OFFER_TIMEOUT = "offer-timeout";
export const SETTLE_ACCEPTANCE = "settle-acceptance";
/** A voice question's offer: ring the expert with a whisper, `{ offerId }`. */
export const PLACE_OFFER_CALL = "place-offer-call";

/** Still looking for an expert. */
const SEARCHING = ["received", "routing", "offered"] as const;
/** Offers 3 misses in a row pause the expert. */
export const MISSES_BEFORE_PAUSE = 3;
/** With nobody available, look again this often (experts turn ON, schedules open). */
export const RETRY_WHEN_NOBODY_MS = 60_000;
/** The policy of a question whose shop has no pool for it (it can still widen to shop-wide pools). */
const DEFAULT_POLICY = { offerMode: "sequential", offerTimeoutSeconds: 120, offerFanout: 1, patienceSeconds: 900 } as const;

/** The next routing step, through the outbox. `cause` makes the job id: one step per cause, however often it is replayed. */
export async function enqueueRouting(tx: Tx, questionId: string, cause: string, runAt?: Date): Promise<void> {
  await enqueue(tx, {
    queue: QUEUES.routing,
    name: ROUTE_QUESTION,
    payload: { questionId },
    jobId: `route-${questionId}-${cause}`,
    ...(runAt ? { runAt } : {}),
  });
}

function payOf(pool: { pricingMode: Pay["mode"]; amountMinor: number; currency: string; platformFeeBps: number } | null): Pay | null {
  return pool ? { mode: pool.pricingMode, amountMinor: pool.amountMinor, currency: pool.currency, platformFeeBps: pool.platformFeeBps } : null;
}

export async function expertLineOf(tx: Tx, shopId: string): Promise<string | null> {
  return (await tx.phoneNumber.findFirst({ where: { shopId, purpose: "expert_line" }, select: { e164: true } }))?.e164 ?? null;
}

/** How often a routing step plans again when its question changed between planning and writing. */
const ROUTING_ATTEMPTS = 3;

type PlannedQuestion = Prisma.QuestionGetPayload<{ include: { shop: { select: { id: true; name: true } }; product: { select: { name: true } }; pool: true } }>;

interface RoutingPlan {
  question: PlannedQuestion;
  now: Date;
  policy: { offerMode: string; offerTimeoutSeconds: number; offerFanout: number; patienceSeconds: number };
  /** Offers open when planned: the plan holds only while this has not changed. */
  openOffers: number;
  offersSoFar: number;
  level: number;
  searchStartedAt: Date;
  widenings: { level: number; reason: "patience" | "nobody-left" }[];
  chosen: RankedCandidate[];
}

/**
 * One routing step: keep the pool's number of offers open (one expert at a
 * time, or the top `fanout` at once), widening the search when the pool's
 * patience ran out or nobody is left at this level.
 *
 * The candidate search runs before any transaction (it reads only), so a
 * step never holds a pooled connection while it waits for another; the
 * writes then happen under the question's row lock, after checking that
 * nothing moved since (else the step plans again).
 */
export async function routeQuestion(deps: RoutingDeps, questionId: string): Promise<void> {
  for (let attempt = 1; attempt <= ROUTING_ATTEMPTS; attempt++) {
    const plan = await planRouting(deps, questionId);
    if (!plan) return;
    if (await applyRouting(deps, plan)) return;
  }
  // Another step keeps changing the question: this one is not needed, or BullMQ's retry will do it.
  throw new Error("the question kept changing while its routing step was planned");
}

async function planRouting(deps: RoutingDeps, questionId: string): Promise<RoutingPlan | null> {
  const { prisma, sql, clock } = deps;
  const now = clock.now();
  const question = await prisma.question.findUnique({
    where: { id: questionId },
    include: { shop: { select: { id: true, name: true } }, product: { select: { name: true } }, pool: true },
  });
  if (!question || !(SEARCHING as readonly string[]).includes(question.status) || question.productChoices.length > 0) return null;
  if (question.expiresAt && question.expiresAt <= now) {
    await closeQuestion(deps, { questionId, outcome: "expired" });
    return null;
  }
  const policy = question.pool ?? DEFAULT_POLICY;
  // Keep the policy's number of offers open: a NO or a timeout brings in the next candidate at once.
  const [openOffers, offersSoFar] = await Promise.all([
    prisma.offer.count({ where: { questionId, status: "pending" } }),
    prisma.offer.count({ where: { questionId } }),
  ]);
  const wanted = (policy.offerMode === "broadcast" ? policy.offerFanout : 1) - openOffers;
  if (wanted <= 0) return null;

  let level = question.widenLevel;
  let searchStartedAt = question.searchStartedAt ?? now;
  const widenings: RoutingPlan["widenings"] = [];
  const widen = (reason: "patience" | "nobody-left") => {
    // With nothing optional to drop, level 1 is level 0: go straight to the shop-wide pools.
    level = level === 0 && question.optionalTags.length > 0 ? 1 : 2;
    searchStartedAt = now;
    widenings.push({ level, reason });
  };
  if (level < 2 && now.getTime() - searchStartedAt.getTime() >= policy.patienceSeconds * 1000) widen("patience");

  const previousExpertId = await findPreviousExpert(sql, { shopId: question.shopId, customerPhone: question.customerPhone, productId: question.productId });
  let ranked: RankedCandidate[];
  for (;;) {
    const candidates = await findCandidates(sql, {
      shopId: question.shopId,
      questionId,
      productId: question.productId,
      tags: question.tags,
      optionalTags: question.optionalTags,
      widenLevel: level as 0 | 1 | 2,
      now,
    });
    ranked = rankCandidates({ tags: question.tags, optionalTags: level === 0 ? question.optionalTags : [], previousExpertId }, candidates, now);
    if (ranked.length > 0 || level >= 2) break;
    widen("nobody-left");
  }
  return { question, now, policy, openOffers, offersSoFar, level, searchStartedAt, widenings, chosen: ranked.slice(0, wanted) };
}

/** Writes the plan; false when the question changed since it was read (the caller plans again). */
async function applyRouting(deps: RoutingDeps, plan: RoutingPlan): Promise<boolean> {
  const { question, now, policy, level, searchStartedAt } = plan;
  const questionId = question.id;
  return deps.prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ status: string; widenLevel: number; updatedAt: Date }[]>`
      SELECT status::text AS status, "widenLevel", "updatedAt" FROM "Question" WHERE id = ${questionId}::uuid FOR UPDATE`;
    if (!locked) return true;
    const unchanged =
      locked.status === question.status &&
      locked.widenLevel === question.widenLevel &&
      locked.updatedAt.getTime() === question.updatedAt.getTime() &&
      (await tx.offer.count({ where: { questionId, status: "pending" } })) === plan.openOffers;
    if (!unchanged) return false;

    const line = await expertLineOf(tx, question.shopId);
    if (!line) throw new Error("the shop has no expert line; the question was opened without one");
    const customerSms = { shopId: question.shopId, from: line, to: question.customerPhone, questionId };
    const estimateMinutes = roundMinutes(policy.offerTimeoutSeconds * 2);
    for (const widening of plan.widenings) {
      await recordQuestionEvent(tx, { questionId, kind: "widened", data: { ...widening, estimateMinutes }, dedupeKey: `widened:${questionId}:${widening.level}`, at: now });
    }
    // Widening before anyone was asked is an implementation detail, not news for the customer.
    if (plan.widenings.length > 0 && plan.offersSoFar > 0) {
      await queueSms(tx, { ...customerSms, body: customerCopy.widened(estimateMinutes), purpose: "question_update", dedupeKey: `question-widened:${questionId}` });
    }

    if (plan.chosen.length === 0) {
      await tx.question.update({ where: { id: questionId }, data: { status: "routing", widenLevel: level, searchStartedAt } });
      const hoursLeft = question.expiresAt ? Math.max(1, Math.round((question.expiresAt.getTime() - now.getTime()) / 3_600_000)) : 24;
      const first = await recordQuestionEvent(tx, {
        questionId,
        kind: "no_expert_yet",
        data: { estimateMinutes: roundMinutes(RETRY_WHEN_NOBODY_MS / 1000) },
        dedupeKey: `no-expert-yet:${questionId}`,
        at: now,
      });
      if (first) {
        const until = hoursLeft === 1 ? "the next hour" : `the next ${hoursLeft} hours`;
        await queueSms(tx, { ...customerSms, body: customerCopy.nobodyYet(until), purpose: "question_update", dedupeKey: `question-nobody-yet:${questionId}` });
      }
      const slot = Math.floor(now.getTime() / RETRY_WHEN_NOBODY_MS);
      await enqueueRouting(tx, questionId, `retry-${slot}`, new Date((slot + 1) * RETRY_WHEN_NOBODY_MS));
      return true;
    }

    const round = ((await tx.offer.aggregate({ where: { questionId }, _max: { round: true } }))._max.round ?? 0) + 1;
    const expiresAt = new Date(now.getTime() + policy.offerTimeoutSeconds * 1000);
    for (const [index, choice] of plan.chosen.entries()) {
      const expert = choice.candidate;
      const open = await tx.offer.findMany({ where: { expertId: expert.expertId, status: "pending" }, select: { code: true } });
      const code = pickOfferCode(new Set(open.map((offer) => offer.code)), randomInt);
      const offer = await tx.offer.create({
        data: {
          questionId,
          expertId: expert.expertId,
          code,
          round,
          widenLevel: level,
          poolId: expert.poolId,
          rank: index + 1,
          score: choice.score,
          reasons: choice.reasons.map((reason) => ({ ...reason })),
          status: "pending",
          sentAt: now,
          expiresAt,
        },
      });
      const { phone } = await tx.expert.update({
        where: { id: expert.expertId },
        data: { lastOfferedAt: now, offersReceived: { increment: 1 } },
        select: { phone: true },
      });
      await recordQuestionEvent(tx, { questionId, kind: "offered", data: { expertFirstName: firstName(expert.name, "An expert"), round, rank: index + 1 }, dedupeKey: `offered:${offer.id}`, at: now });
      await enqueue(tx, { queue: QUEUES.routing, name: OFFER_TIMEOUT, payload: { offerId: offer.id }, jobId: `offer-timeout-${offer.id}`, runAt: expiresAt });
      if (question.preferredMode === "voice") {
        // A caller who wants to talk: the offer is a phone call, the expert's "press 1" its YES.
        await enqueue(tx, { queue: QUEUES.routing, name: PLACE_OFFER_CALL, payload: { offerId: offer.id }, jobId: `offer-call-${offer.id}` });
        continue;
      }
      await queueSms(tx, {
        shopId: question.shopId,
        from: line,
        to: phone,
        questionId,
        body: offerText({
          shopName: question.shop.name,
          productName: question.product?.name ?? null,
          // The customer may have typed a number into the question; the expert reaches them through us.
          question: maskPhonesInText(question.body),
          // What the session will be priced by (ledger.ts): the question's pool, else the one the expert came through.
          pay: payOf(question.pool ?? (await tx.pool.findUnique({ where: { id: expert.poolId } }))),
          code,
          minutesToAnswer: roundMinutes(policy.offerTimeoutSeconds),
        }),
        purpose: "offer",
        dedupeKey: `offer:${offer.id}`,
      });
    }
    await tx.question.update({ where: { id: questionId }, data: { status: "offered", widenLevel: level, searchStartedAt } });
    return true;
  });
}

/**
 * Acceptance, in one statement. The offer must still be pending and its
 * question still searching; then the question is matched, the expert's
 * statistics move, the session row and its start job are written, and the
 * rest (telling the others) is queued. Two acceptances of one question at the
 * same instant: the second's offer update waits on the unique index
 * Offer_one_accepted_per_question and fails when the first commits.
 */
const ACCEPT_OFFER = `
  WITH won AS (
    UPDATE "Offer" o SET "status" = 'accepted', "respondedAt" = $2
    WHERE o."id" = $1::uuid AND o."status" = 'pending'
      AND EXISTS (SELECT 1 FROM "Question" q WHERE q."id" = o."questionId" AND q."status" IN ('routing', 'offered'))
      -- Still allowed to take one: not suspended since the offer, and under the concurrent-session cap
      -- (an expert holding several broadcast offers cannot take them all at once).
      AND EXISTS (
        SELECT 1 FROM "Expert" e WHERE e."id" = o."expertId" AND e."status" = 'active'
          AND (SELECT count(*) FROM "Session" s WHERE s."expertId" = e."id" AND s."status" <> 'ended') < e."maxConcurrentSessions")
    RETURNING o."id", o."questionId", o."expertId"
  ), matched AS (
    UPDATE "Question" q SET "status" = 'matched', "matchedExpertId" = won."expertId", "updatedAt" = $2
    FROM won WHERE q."id" = won."questionId" AND q."status" IN ('routing', 'offered')
    RETURNING q."id", q."shopId", q."customerPhone", q."preferredMode"
  ), expert AS (
    UPDATE "Expert" e SET "offersAccepted" = e."offersAccepted" + 1, "missedOffersInRow" = 0, "updatedAt" = $2
    FROM won WHERE e."id" = won."expertId"
    RETURNING e."id", e."phone", e."name"
  ), session AS (
    INSERT INTO "Session" ("id", "questionId", "offerId", "expertId", "shopId", "customerPhone", "expertPhone", "mode", "status", "createdAt", "updatedAt")
    SELECT $3::uuid, matched."id", won."id", won."expertId", matched."shopId", matched."customerPhone", expert."phone", matched."preferredMode", 'connecting', $2, $2
    FROM won JOIN matched ON matched."id" = won."questionId" JOIN expert ON expert."id" = won."expertId"
    RETURNING "id", "questionId"
  ), event AS (
    INSERT INTO "QuestionEvent" ("id", "questionId", "kind", "data", "dedupeKey", "createdAt")
    SELECT $4::uuid, session."questionId", 'accepted', jsonb_build_object('expertFirstName', split_part(btrim(expert."name"), ' ', 1)),
           'accepted:' || session."questionId", $2
    FROM session, expert
  ), jobs AS (
    INSERT INTO "OutboxEvent" ("id", "topic", "payload", "jobId")
    SELECT $5::uuid, '${QUEUES.sessions}/${START_SESSION}', jsonb_build_object('sessionId', session."id"), 'start-session-' || session."id" FROM session
    UNION ALL
    SELECT $6::uuid, '${QUEUES.routing}/${SETTLE_ACCEPTANCE}', jsonb_build_object('questionId', session."questionId"), 'settle-acceptance-' || session."questionId" FROM session
  )
  SELECT session."id" AS "sessionId" FROM session`;

export type AcceptOutcome =
  | { outcome: "won"; sessionId: string }
  | { outcome: "already-yours" }
  /** Another expert won, or the question closed (expired, cancelled) before the YES. */
  | { outcome: "taken" }
  | { outcome: "timed-out" }
  /** The offer is still open, but the expert is at their concurrent-session cap (or suspended). */
  | { outcome: "busy" };

export async function acceptOffer(deps: Pick<RoutingDeps, "sql" | "prisma" | "clock">, offerId: string): Promise<AcceptOutcome> {
  try {
    const { rows } = await deps.sql.query<{ sessionId: string }>({
      name: "accept-offer",
      text: ACCEPT_OFFER,
      values: [offerId, deps.clock.now(), uuidv7(), uuidv7(), uuidv7(), uuidv7()],
    });
    if (rows[0]) return { outcome: "won", sessionId: rows[0].sessionId };
  } catch (error) {
    if (!isUniqueViolation(error, "Offer_one_accepted_per_question")) throw error;
    return { outcome: "taken" };
  }
  // Nothing changed: a replay of our own acceptance, someone else's win, a closed question, or a busy expert.
  const offer = await deps.prisma.offer.findUnique({ where: { id: offerId }, select: { status: true, question: { select: { status: true } } } });
  if (offer?.status === "accepted") return { outcome: "already-yours" };
  if (offer?.status === "expired") return { outcome: "timed-out" };
  if (offer?.status === "pending" && (offer.question.status === "routing" || offer.question.status === "offered")) return { outcome: "busy" };
  return { outcome: "taken" };
}

/** NO: closes the offer and moves on at once. Returns false when the offer was no longer open. */
export async function declineOffer(deps: Pick<RoutingDeps, "prisma" | "clock">, offerId: string): Promise<boolean> {
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    const [offer] = await tx.$queryRaw<{ questionId: string; expertId: string }[]>`
      UPDATE "Offer" SET "status" = 'declined', "respondedAt" = ${now} WHERE id = ${offerId}::uuid AND "status" = 'pending'
      RETURNING "questionId", "expertId"`;
    if (!offer) return false;
    const expert = await tx.expert.update({
      where: { id: offer.expertId },
      data: { offersDeclined: { increment: 1 }, missedOffersInRow: 0 },
      select: { name: true },
    });
    await recordQuestionEvent(tx, { questionId: offer.questionId, kind: "declined", data: { expertFirstName: firstName(expert.name, "An expert") }, dedupeKey: `declined:${offerId}`, at: now });
    await enqueueRouting(tx, offer.questionId, `after-${offerId}`);
    return true;
  });
}

/**
 * The offer's time ran out: close it, count the miss (three in a row pause
 * the expert), and move on. Returns false when the offer was no longer open.
 * `unanswered`: a voice offer whose call went unanswered (or was hung up
 * without a choice) is a miss now, before its time is up.
 */
export async function timeOutOffer(deps: Pick<RoutingDeps, "prisma" | "clock">, offerId: string, options: { unanswered?: boolean } = {}): Promise<boolean> {
  const unanswered = options.unanswered ?? false;
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    // A question no longer searching (won a moment ago, or closed) makes the offer lost, not missed:
    // no miss is counted and nothing moves on.
    const [offer] = await tx.$queryRaw<{ questionId: string; expertId: string; status: string }[]>`
      UPDATE "Offer" o SET "status" = CASE WHEN q."status" IN ('routing', 'offered') THEN 'expired'::"OfferStatus" ELSE 'lost'::"OfferStatus" END
      FROM "Question" q
      WHERE o.id = ${offerId}::uuid AND o."status" = 'pending' AND (o."expiresAt" <= ${now} OR ${unanswered}) AND q.id = o."questionId"
      RETURNING o."questionId", o."expertId", o."status"::text AS status`;
    if (!offer) return false;
    if (offer.status !== "expired") return true;
    const expert: Expert = await tx.expert.update({
      where: { id: offer.expertId },
      data: { offersTimedOut: { increment: 1 }, missedOffersInRow: { increment: 1 } },
    });
    await recordQuestionEvent(tx, { questionId: offer.questionId, kind: "timed_out", data: { expertFirstName: firstName(expert.name, "An expert") }, dedupeKey: `timed-out:${offerId}`, at: now });
    if (expert.missedOffersInRow >= MISSES_BEFORE_PAUSE && expert.status === "active" && !expert.paused) {
      const line = await expertLineOf(tx, expert.shopId);
      if ((await setExpertPaused(tx, { expert, paused: true, at: now })) && line) {
        await queueSms(tx, { shopId: expert.shopId, from: line, to: expert.phone, body: routingCopy.autoPaused, purpose: "auto_pause", dedupeKey: `auto-paused:${offerId}` });
      }
    }
    await enqueueRouting(tx, offer.questionId, `after-${offerId}`);
    return true;
  });
}

/** The dedupe key of an offer's one "Already taken" notice. */
export function lostNoticeKey(offerId: string): string {
  return `offer-lost:${offerId}`;
}

/**
 * After a win: the other open offers of the question are lost, and their
 * experts hear so now rather than when they reply.
 */
export async function settleAcceptance(deps: Pick<RoutingDeps, "prisma" | "clock" | "twilio" | "logger">, questionId: string): Promise<void> {
  const lost = await deps.prisma.$transaction(async (tx) => {
    await webhookEvents.questionAssigned(tx, questionId);
    const losers = await tx.$queryRaw<{ id: string; phone: string; shopId: string }[]>`
      UPDATE "Offer" o SET "status" = 'lost' FROM "Expert" e
      WHERE o."questionId" = ${questionId}::uuid AND o."status" = 'pending' AND e.id = o."expertId"
      RETURNING o.id, e.phone, e."shopId"`;
    const line = losers[0] ? await expertLineOf(tx, losers[0].shopId) : null;
    for (const loser of losers) {
      if (!line) break;
      await queueSms(tx, { shopId: loser.shopId, from: line, to: loser.phone, body: routingCopy.alreadyTaken, purpose: "offer_lost", dedupeKey: lostNoticeKey(loser.id) });
    }
    return losers.map((loser) => loser.id);
  });
  // Voice offers still ringing (broadcast rings several experts at once) stop ringing; one already
  // answered hears "taken" if it presses 1.
  if (lost.length === 0) return;
  const ringing = await deps.prisma.call.findMany({ where: { offerId: { in: lost }, status: { in: ["queued", "initiated", "ringing"] }, twilioSid: { not: null } }, select: { twilioSid: true } });
  for (const call of ringing) {
    await deps.twilio
      .calls(call.twilioSid!)
      .update({ status: "canceled" })
      .catch((error: unknown) => deps.logger.info({ questionId, err: error }, "could not stop a lost offer's call ringing"));
  }
}

/**
 * Ends the search without an expert: cancelled by the shop, or expired.
 * Pending offers close first, then the question, in one statement, in the
 * same order acceptance takes them: an acceptance racing this either wins
 * (and this changes nothing) or finds its offer closed.
 */
const CLOSE_QUESTION = `
  WITH offers AS (
    UPDATE "Offer" SET "status" = 'cancelled' WHERE "questionId" = $1::uuid AND "status" = 'pending'
      AND EXISTS (SELECT 1 FROM "Question" WHERE id = $1::uuid AND "status" IN ('received', 'routing', 'offered'))
    RETURNING id
  ), closed AS (
    UPDATE "Question" SET "status" = $2::"QuestionStatus", "closedAt" = $3, "updatedAt" = $3
    WHERE id = $1::uuid AND "status" IN ('received', 'routing', 'offered')
    RETURNING id, "shopId", "customerPhone", "customerName", cardinality("productChoices") > 0 AS "choosingProduct"
  )
  SELECT closed.*, (SELECT count(*) FROM offers)::int AS "offersClosed" FROM closed`;

export async function closeQuestionInTx(tx: Tx, input: { questionId: string; outcome: "cancelled" | "expired"; now: Date }): Promise<boolean> {
  const [closed] = await tx.$queryRawUnsafe<{ id: string; shopId: string; customerPhone: string; customerName: string | null; choosingProduct: boolean }[]>(
    CLOSE_QUESTION,
    input.questionId,
    input.outcome,
    input.now,
  );
  if (!closed) return false;
  await recordQuestionEvent(tx, { questionId: closed.id, kind: input.outcome, dedupeKey: `${input.outcome}:${closed.id}`, at: input.now });
  await webhookEvents.questionClosed(tx, { questionId: closed.id, shopId: closed.shopId, outcome: input.outcome, at: input.now });
  const shop = await tx.shop.findUniqueOrThrow({ where: { id: closed.shopId }, select: { name: true } });
  const line = await expertLineOf(tx, closed.shopId);
  if (line) {
    await queueSms(tx, {
      shopId: closed.shopId,
      from: line,
      to: closed.customerPhone,
      questionId: closed.id,
      body:
        input.outcome === "cancelled"
          ? customerCopy.cancelled(shop.name)
          : closed.choosingProduct
            ? customerCopy.expiredUnchosen(shop.name)
            : customerCopy.expired({ name: closed.customerName, shopName: shop.name }),
      purpose: "question_update",
      dedupeKey: `question-${input.outcome}:${closed.id}`,
    });
  }
  return true;
}

export async function closeQuestion(deps: Pick<RoutingDeps, "prisma" | "clock">, input: { questionId: string; outcome: "cancelled" | "expired" }): Promise<boolean> {
  return deps.prisma.$transaction((tx) => closeQuestionInTx(tx, { ...input, now: deps.clock.now() }));
}
