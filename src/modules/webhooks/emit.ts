/**
 * Events for shops, written in the transaction of the change that causes
 * them: a WebhookEvent row and an outbox job that fans it out to the shop's
 * endpoints. Each event has a key naming its cause ("session.ended:<id>"),
 * so a replayed transaction or job emits nothing new.
 *
 * The product calls one function per event, from inside its own
 * transaction. Nothing is written for a shop with no enabled endpoint
 * wanting the event (the common case): one indexed lookup, then nothing.
 *
 * Event data is ids, statuses, times and first names; never a phone number,
 * never the question's text (a customer may have typed anything into it).
 */
import type { Prisma, Question } from "../../generated/prisma/client.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue, type OutboxJob } from "../outbox/outbox.js";
import { firstNameOrNull } from "../sessions/copy.js";
import { ALL_EVENTS, type WebhookEventType } from "./event-types.js";

type Tx = Prisma.TransactionClient;

/** Fans an event out to the shop's endpoints (delivery.ts). */
export const WEBHOOK_FAN_OUT = "webhook-fan-out";

/** An event's fan-out: one job id per event. */
export function fanOutOutboxJob(eventId: string): OutboxJob {
  return { queue: QUEUES.webhooks, name: WEBHOOK_FAN_OUT, payload: { eventId }, jobId: `webhook-fan-out-${eventId}` };
}

export interface WebhookEventInput {
  shopId: string;
  type: WebhookEventType;
  /** Names the cause: the same key twice is one event. */
  dedupeKey: string;
  at: Date;
  data: () => Promise<Prisma.InputJsonObject> | Prisma.InputJsonObject;
  /** Record it even when no endpoint wants it (events about the endpoints themselves). */
  always?: boolean;
}

/** Whether any enabled endpoint of the shop takes `type`. */
async function anyoneListens(tx: Tx, shopId: string, type: WebhookEventType): Promise<boolean> {
  const endpoint = await tx.webhookEndpoint.findFirst({
    where: { shopId, enabled: true, events: { hasSome: [type, ALL_EVENTS] } },
    select: { id: true },
  });
  return endpoint !== null;
}

/** Records the event and queues its fan-out. Returns the event's id, or null when nothing was written. */
export async function emitWebhookEvent(tx: Tx, input: WebhookEventInput): Promise<string | null> {
  if (!input.always && !(await anyoneListens(tx, input.shopId, input.type))) return null;
  const [created] = await tx.webhookEvent.createManyAndReturn({
    data: [{ shopId: input.shopId, type: input.type, dedupeKey: input.dedupeKey, data: await input.data(), createdAt: input.at }],
    skipDuplicates: true,
    select: { id: true },
  });
  if (!created) return null;
  await enqueue(tx, fanOutOutboxJob(created.id));
  return created.id;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

/** The calls the product makes, one per event, each inside the transaction that causes it. */
export const webhookEvents = {
  /** A question was opened (REST, SMS or voice). */
  questionCreated(tx: Tx, question: Question) {
    return emitWebhookEvent(tx, {
      shopId: question.shopId,
      type: "question.created",
      dedupeKey: `question.created:${question.id}`,
      at: question.createdAt,
      data: () => ({
        questionId: question.id,
        status: question.status,
        channel: question.channel,
        preferredMode: question.preferredMode,
        productId: question.productId,
        tags: question.tags,
        customerFirstName: firstNameOrNull(question.customerName),
        expiresAt: iso(question.expiresAt),
      }),
    });
  },

  /** An expert accepted: called while settling the acceptance, timed at the acceptance. */
  async questionAssigned(tx: Tx, questionId: string) {
    const session = await tx.session.findUnique({
      where: { questionId },
      select: {
        id: true,
        shopId: true,
        expertId: true,
        mode: true,
        createdAt: true,
        expert: { select: { name: true } },
        offer: { select: { respondedAt: true } },
        question: { select: { productId: true } },
      },
    });
    if (!session) return null;
    return emitWebhookEvent(tx, {
      shopId: session.shopId,
      type: "question.assigned",
      dedupeKey: `question.assigned:${questionId}`,
      at: session.offer.respondedAt ?? session.createdAt,
      data: () => ({
        questionId,
        sessionId: session.id,
        expertId: session.expertId,
        expertFirstName: firstNameOrNull(session.expert.name),
        productId: session.question.productId,
        mode: session.mode,
      }),
    });
  },

  /** The search ended without an expert: expired, or cancelled (by the shop, or the customer's STOP). */
  questionClosed(tx: Tx, input: { questionId: string; shopId: string; outcome: "expired" | "cancelled"; at: Date }) {
    return emitWebhookEvent(tx, {
      shopId: input.shopId,
      type: input.outcome === "expired" ? "question.expired" : "question.cancelled",
      dedupeKey: `question.${input.outcome}:${input.questionId}`,
      at: input.at,
      data: async () => {
        const question = await tx.question.findUniqueOrThrow({ where: { id: input.questionId }, select: { status: true, productId: true, closedAt: true } });
        return { questionId: input.questionId, status: question.status, productId: question.productId, closedAt: iso(question.closedAt ?? input.at) };
      },
    });
  },

  async sessionStarted(tx: Tx, sessionId: string, at: Date) {
    const session = await tx.session.findUniqueOrThrow({ where: { id: sessionId }, include: { expert: { select: { name: true } } } });
    return emitWebhookEvent(tx, {
      shopId: session.shopId,
      type: "session.started",
      dedupeKey: `session.started:${sessionId}`,
      at,
      data: () => ({
        sessionId,
        questionId: session.questionId,
        expertId: session.expertId,
        expertFirstName: firstNameOrNull(session.expert.name),
        mode: session.mode,
        startedAt: iso(session.startedAt ?? at),
      }),
    });
  },

  /** Read after the session's row was ended in this transaction: duration and who ended it are final. */
  async sessionEnded(tx: Tx, sessionId: string, at: Date) {
    const session = await tx.session.findUniqueOrThrow({ where: { id: sessionId } });
    return emitWebhookEvent(tx, {
      shopId: session.shopId,
      type: "session.ended",
      dedupeKey: `session.ended:${sessionId}`,
      at,
      data: () => ({
        sessionId,
        questionId: session.questionId,
        expertId: session.expertId,
        mode: session.mode,
        startedAt: iso(session.startedAt),
        endedAt: iso(session.endedAt ?? at),
        durationSeconds: session.durationSeconds ?? 0,
        endedBy: session.endedBy,
      }),
    });
  },

  async ratingCreated(tx: Tx, sessionId: string) {
    const rating = await tx.rating.findUniqueOrThrow({ where: { sessionId }, include: { session: { select: { shopId: true, questionId: true } } } });
    return emitWebhookEvent(tx, {
      shopId: rating.session.shopId,
      type: "rating.created",
      dedupeKey: `rating.created:${sessionId}`,
      at: rating.createdAt,
      data: () => ({ ratingId: rating.id, sessionId, questionId: rating.session.questionId, expertId: rating.expertId, score: rating.score }),
    });
  },

  /**
   * A payout changed status. Only the payout's own shop hears of it (a
   * payout is one expert's, and an expert belongs to one shop). `change`
   * names the cause, so a replayed job emits once.
   */
  async payoutChanged(tx: Tx, payoutId: string, change: { type: PayoutEventType; cause: string; at: Date }) {
    const payout = await tx.payout.findUniqueOrThrow({ where: { id: payoutId } });
    return emitWebhookEvent(tx, {
      shopId: payout.shopId,
      type: change.type,
      dedupeKey: `${change.type}:${payoutId}:${change.cause}`,
      at: change.at,
      data: () => ({
        payoutId,
        expertId: payout.expertId,
        status: payout.status,
        amountMinor: payout.amountMinor,
        currency: payout.currency,
        sessionCount: payout.sessionCount,
        riskFlags: payout.riskFlags,
        reviewNote: payout.reviewNote,
        failureReason: payout.failureReason,
        reversedMinor: payout.reversedMinor,
        createdAt: payout.createdAt.toISOString(),
      }),
    });
  },
};

export type PayoutEventType = Extract<WebhookEventType, `payout.${string}`>;
