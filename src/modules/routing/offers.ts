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
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";
import { setExpertPaused } from "../experts/service.js";
import { recordQuestionEvent } from "../questions/timeline.js";
import { START_SESSION } from "../sessions/jobs.js";
import { queueSms } from "../telephony/sms.js";
import { findCandidates, findPreviousExpert } from "./candidates.js";
import { customerCopy, firstName, offerText, pickOfferCode, roundMinutes, routingCopy, type Pay } from "./offer-text.js";
import { rankCandidates, type RankedCandidate } from "./rank.js";

export type RoutingDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;
type Tx = Prisma.TransactionClient;

export const ROUTE_QUESTION = "route-question";
export const OFFER_TIMEOUT = "offer-timeout";
export const SETTLE_ACCEPTANCE = "settle-acceptance";

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

async function expertLineOf(tx: Tx, shopId: string): Promise<string | null> {
  return (await tx.phoneNumber.findFirst({ where: { shopId, purpose: "expert_line" }, select: { e164: true } }))?.e164 ?? null;
}

/**
 * One routing step: keep the pool's number of offers open (one expert at a
 * time, or the top `fanout` at once), widening the search when the pool's
 * patience ran out or nobody is left at this level.
 */
export async function routeQuestion(deps: RoutingDeps, questionId: string): Promise<void> {
  const { prisma, sql, clock } = deps;
  await prisma.$transaction(
    async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Question" WHERE id = ${questionId}::uuid FOR UPDATE`;
      if (!locked) return;
      const now = clock.now();
      const question = await tx.question.findUniqueOrThrow({
        where: { id: questionId },
        include: { shop: { select: { id: true, name: true } }, product: { select: { name: true } }, pool: true },
      });
      if (!(SEARCHING as readonly string[]).includes(question.status) || question.productChoices.length > 0) return;
      if (question.expiresAt && question.expiresAt <= now) {
        await closeQuestionInTx(tx, { questionId, outcome: "expired", now });
        return;
      }
      const policy = question.pool ?? DEFAULT_POLICY;
      // Keep the policy's number of offers open: a NO or a timeout brings in the next candidate at once.
      const open = await tx.offer.count({ where: { questionId, status: "pending" } });
      const wanted = (policy.offerMode === "broadcast" ? policy.offerFanout : 1) - open;
      if (wanted <= 0) return;
      const offersSoFar = await tx.offer.count({ where: { questionId } });
      const line = await expertLineOf(tx, question.shopId);
      if (!line) throw new Error("the shop has no expert line; the question was opened without one");
      const customerSms = { shopId: question.shopId, from: line, to: question.customerPhone, questionId };

      let level = question.widenLevel;
      let searchStartedAt = question.searchStartedAt ?? now;
      const widen = async (reason: "patience" | "nobody-left") => {
        // With nothing optional to drop, level 1 is level 0: go straight to the shop-wide pools.
        level = level === 0 && question.optionalTags.length > 0 ? 1 : 2;
        searchStartedAt = now;
        const estimateMinutes = roundMinutes(policy.offerTimeoutSeconds * 2);
        await recordQuestionEvent(tx, { questionId, kind: "widened", data: { level, reason, estimateMinutes }, dedupeKey: `widened:${questionId}:${level}`, at: now });
        // Widening before anyone was asked is an implementation detail, not news for the customer.
        if (offersSoFar > 0) {
          await queueSms(tx, { ...customerSms, body: customerCopy.widened(estimateMinutes), purpose: "question_update", dedupeKey: `question-widened:${questionId}` });
        }
      };
      if (level < 2 && now.getTime() - searchStartedAt.getTime() >= policy.patienceSeconds * 1000) await widen("patience");

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
        await widen("nobody-left");
      }

      if (ranked.length === 0) {
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
        return;
      }

      const round = ((await tx.offer.aggregate({ where: { questionId }, _max: { round: true } }))._max.round ?? 0) + 1;
      const expiresAt = new Date(now.getTime() + policy.offerTimeoutSeconds * 1000);
      const chosen = ranked.slice(0, wanted);
      for (const [index, choice] of chosen.entries()) {
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
        await recordQuestionEvent(tx, { questionId, kind: "offered", data: { expertFirstName: firstName(expert.name), round, rank: index + 1 }, dedupeKey: `offered:${offer.id}`, at: now });
        await queueSms(tx, {
          shopId: question.shopId,
          from: line,
          to: phone,
          questionId,
          body: offerText({
            shopName: question.shop.name,
            productName: question.product?.name ?? null,
            question: question.body,
            pay: payOf(question.pool),
            code,
            minutesToAnswer: roundMinutes(policy.offerTimeoutSeconds),
          }),
          purpose: "offer",
          dedupeKey: `offer:${offer.id}`,
        });
        await enqueue(tx, { queue: QUEUES.routing, name: OFFER_TIMEOUT, payload: { offerId: offer.id }, jobId: `offer-timeout-${offer.id}`, runAt: expiresAt });
      }
      await tx.question.update({ where: { id: questionId }, data: { status: "offered", widenLevel: level, searchStartedAt } });
    },
    { timeout: 20_000 },
  );
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
    RETURNING o."id", o."questionId", o."expertId"
  ), matched AS (
    UPDATE "Question" q SET "status" = 'matched', "matchedExpertId" = won."expertId", "updatedAt" = $2
    FROM won WHERE q."id" = won."questionId" AND q."status" IN ('routing', 'offered')
    RETURNING q."id", q."shopId", q."customerPhone"
  ), expert AS (
    UPDATE "Expert" e SET "offersAccepted" = e."offersAccepted" + 1, "missedOffersInRow" = 0, "updatedAt" = $2
    FROM won WHERE e."id" = won."expertId"
    RETURNING e."id", e."phone", e."name"
  ), session AS (
    INSERT INTO "Session" ("id", "questionId", "offerId", "expertId", "shopId", "customerPhone", "expertPhone", "mode", "status", "createdAt", "updatedAt")
    SELECT $3::uuid, matched."id", won."id", won."expertId", matched."shopId", matched."customerPhone", expert."phone", 'sms', 'connecting', $2, $2
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

export type AcceptOutcome = { outcome: "won"; sessionId: string } | { outcome: "already-yours" } | { outcome: "taken" };

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
  // Nothing changed: a replay of our own acceptance, or someone else's win (or a closed question).
  const offer = await deps.prisma.offer.findUnique({ where: { id: offerId }, select: { status: true } });
  return offer?.status === "accepted" ? { outcome: "already-yours" } : { outcome: "taken" };
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
    await recordQuestionEvent(tx, { questionId: offer.questionId, kind: "declined", data: { expertFirstName: firstName(expert.name) }, dedupeKey: `declined:${offerId}`, at: now });
    await enqueueRouting(tx, offer.questionId, `after-${offerId}`);
    return true;
  });
}

/**
 * The offer's time ran out: close it, count the miss (three in a row pause
 * the expert), and move on. Returns false when the offer was no longer open.
 */
export async function timeOutOffer(deps: Pick<RoutingDeps, "prisma" | "clock">, offerId: string): Promise<boolean> {
  const now = deps.clock.now();
  return deps.prisma.$transaction(async (tx) => {
    const [offer] = await tx.$queryRaw<{ questionId: string; expertId: string }[]>`
      UPDATE "Offer" SET "status" = 'expired' WHERE id = ${offerId}::uuid AND "status" = 'pending' AND "expiresAt" <= ${now}
      RETURNING "questionId", "expertId"`;
    if (!offer) return false;
    const expert: Expert = await tx.expert.update({
      where: { id: offer.expertId },
      data: { offersTimedOut: { increment: 1 }, missedOffersInRow: { increment: 1 } },
    });
    await recordQuestionEvent(tx, { questionId: offer.questionId, kind: "timed_out", data: { expertFirstName: firstName(expert.name) }, dedupeKey: `timed-out:${offerId}`, at: now });
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
export async function settleAcceptance(deps: Pick<RoutingDeps, "prisma" | "clock">, questionId: string): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    const losers = await tx.$queryRaw<{ id: string; phone: string; shopId: string }[]>`
      UPDATE "Offer" o SET "status" = 'lost' FROM "Expert" e
      WHERE o."questionId" = ${questionId}::uuid AND o."status" = 'pending' AND e.id = o."expertId"
      RETURNING o.id, e.phone, e."shopId"`;
    const line = losers[0] ? await expertLineOf(tx, losers[0].shopId) : null;
    for (const loser of losers) {
      if (!line) break;
      await queueSms(tx, { shopId: loser.shopId, from: line, to: loser.phone, body: routingCopy.alreadyTaken, purpose: "offer_lost", dedupeKey: lostNoticeKey(loser.id) });
    }
  });
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
    RETURNING id, "shopId", "customerPhone", "customerName"
  )
  SELECT closed.*, (SELECT count(*) FROM offers)::int AS "offersClosed" FROM closed`;

export async function closeQuestionInTx(tx: Tx, input: { questionId: string; outcome: "cancelled" | "expired"; now: Date }): Promise<boolean> {
  const [closed] = await tx.$queryRawUnsafe<{ id: string; shopId: string; customerPhone: string; customerName: string | null }[]>(
    CLOSE_QUESTION,
    input.questionId,
    input.outcome,
    input.now,
  );
  if (!closed) return false;
  await recordQuestionEvent(tx, { questionId: closed.id, kind: input.outcome, dedupeKey: `${input.outcome}:${closed.id}`, at: input.now });
  const shop = await tx.shop.findUniqueOrThrow({ where: { id: closed.shopId }, select: { name: true } });
  const line = await expertLineOf(tx, closed.shopId);
  if (line) {
    await queueSms(tx, {
      shopId: closed.shopId,
      from: line,
      to: closed.customerPhone,
      questionId: closed.id,
      body: input.outcome === "expired" ? customerCopy.expired({ name: closed.customerName, shopName: shop.name }) : customerCopy.cancelled(shop.name),
      purpose: "question_update",
      dedupeKey: `question-${input.outcome}:${closed.id}`,
    });
  }
  return true;
}

export async function closeQuestion(deps: Pick<RoutingDeps, "prisma" | "clock">, input: { questionId: string; outcome: "cancelled" | "expired" }): Promise<boolean> {
  return deps.prisma.$transaction((tx) => closeQuestionInTx(tx, { ...input, now: deps.clock.now() }));
}
