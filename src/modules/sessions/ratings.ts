/**
 * The customer's 1-5 after a session, and the optional comment in their next
 * text. A rating counts once per session (Rating.sessionId is unique), and
 * the expert's running totals move in the same transaction as the row, so
 * the Bayesian score used in ranking never counts a rating twice or misses one.
 */
import type { Message, Prisma } from "../../generated/prisma/client.js";
import { recordQuestionEvent } from "../questions/timeline.js";
import { queueSms } from "../telephony/sms.js";
import { webhookEvents } from "../webhooks/emit.js";
import { sessionCopy } from "./copy.js";

type Tx = Prisma.TransactionClient;

/** A comment is the customer's next free text within this long of their rating. */
export const COMMENT_WINDOW_MS = 24 * 3600 * 1000;
const COMMENT_MAX_CHARS = 1000;

export interface RatedSession {
  id: string;
  questionId: string;
  shopId: string;
  expertId: string;
}

/** Replies to a participant's text from the session's number, once per inbound text. */
export function replyToSender(tx: Tx, input: { session: Omit<RatedSession, "expertId">; inbound: Message; body: string }) {
  return queueSms(tx, {
    shopId: input.session.shopId,
    from: input.inbound.to,
    to: input.inbound.from,
    body: input.body,
    purpose: "keyword_reply",
    isReply: true,
    dedupeKey: `reply:${input.inbound.id}`,
    questionId: input.session.questionId,
    sessionId: input.session.id,
  });
}

/** Records the score once; a second score (or a replay) only gets a polite reply. Returns whether it counted. */
export async function recordRating(
  tx: Tx,
  input: { session: RatedSession; expertFirstName: string; score: number; inbound: Message; now: Date },
): Promise<boolean> {
  const { session, expertFirstName, score, inbound, now } = input;
  const { count } = await tx.rating.createMany({ data: [{ sessionId: session.id, expertId: session.expertId, score, createdAt: now }], skipDuplicates: true });
  if (count === 0) {
    await replyToSender(tx, { session, inbound, body: sessionCopy.alreadyRated });
    return false;
  }
  await tx.expert.update({ where: { id: session.expertId }, data: { ratingSum: { increment: score }, ratingCount: { increment: 1 } } });
  await recordQuestionEvent(tx, {
    questionId: session.questionId,
    kind: "rated",
    data: { expertFirstName, score },
    dedupeKey: `rated:${session.id}`,
    at: now,
  });
  await webhookEvents.ratingCreated(tx, session.id);
  await replyToSender(tx, { session, inbound, body: sessionCopy.rated(expertFirstName, score) });
  return true;
}

/** Stores the comment if the rating has none yet. Returns whether it was stored. */
export async function recordComment(tx: Tx, input: { session: RatedSession; expertFirstName: string; comment: string; inbound: Message }): Promise<boolean> {
  const { count } = await tx.rating.updateMany({
    where: { sessionId: input.session.id, comment: null },
    data: { comment: input.comment.trim().slice(0, COMMENT_MAX_CHARS) },
  });
  if (count === 1) await replyToSender(tx, { session: input.session, inbound: input.inbound, body: sessionCopy.commented(input.expertFirstName) });
  return count === 1;
}
