/**
 * A question's timeline: append-only events that the detail view and the
 * public status page read. Event data is for people (first names, estimates)
 * and never holds a phone number.
 */
import type { Prisma } from "../../generated/prisma/client.js";

export const QUESTION_EVENTS = [
  "received",
  "product_asked",
  "product_chosen",
  "searching",
  "offered",
  "declined",
  "timed_out",
  "widened",
  "no_expert_yet",
  "accepted",
  "session_started",
  "session_ended",
  "rated",
  "expired",
  "cancelled",
] as const;
export type QuestionEventKind = (typeof QUESTION_EVENTS)[number];

export interface QuestionEventInput {
  questionId: string;
  kind: QuestionEventKind;
  data?: Prisma.InputJsonObject;
  /** Makes the event exist once (replays, retries): e.g. `accepted:<questionId>`. */
  dedupeKey?: string;
  at?: Date;
}

export async function recordQuestionEvent(tx: Prisma.TransactionClient, event: QuestionEventInput): Promise<boolean> {
  const { count } = await tx.questionEvent.createMany({
    data: [
      {
        questionId: event.questionId,
        kind: event.kind,
        ...(event.data ? { data: event.data } : {}),
        ...(event.dedupeKey ? { dedupeKey: event.dedupeKey } : {}),
        ...(event.at ? { createdAt: event.at } : {}),
      },
    ],
    skipDuplicates: true,
  });
  return count === 1;
}
