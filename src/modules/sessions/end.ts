/**
 * Ending a session: DONE from either side, inactivity, or (for voice) a
 * hang-up. One transaction, conditional on the session being open, so two
 * ends at once (DONE from both sides, DONE and the idle timer) end it once
 * and tell everyone once.
 */
import type { Prisma } from "../../generated/prisma/client.js";
import { postSessionLedger } from "../payments/ledger.js";
import { recordQuestionEvent } from "../questions/timeline.js";
import { queueSms } from "../telephony/sms.js";
import { webhookEvents } from "../webhooks/emit.js";
import { customerEndText, expertEndText, firstName, firstNameOrNull } from "./copy.js";
import type { SessionDeps } from "./jobs.js";

/** Pool.sessionIdleSeconds' default, for a question without a pool. */
export const DEFAULT_IDLE_SECONDS = 1800;

export interface EndSessionInput {
  sessionId: string;
  /** customer, expert, idle, or the caller's own word (e.g. voice's hang-up side). */
  endedBy: string;
  /** Why, for people reading the row: done_keyword, inactivity, ... */
  reason?: string;
  /** Billable length when the caller knows it (a call's duration); SMS sessions count from start to end. */
  durationSeconds?: number;
  /**
   * Idle ends only: end only if nothing happened after this instant, so a
   * text that arrives as the timer fires keeps the conversation going.
   */
  quietSince?: Date;
}

type Tx = Prisma.TransactionClient;

/** Who the texts at the end name; read before the transaction (names and pool do not change with the session). */
function loadSession(deps: Pick<SessionDeps, "prisma">, sessionId: string) {
  return deps.prisma.session.findUnique({
    where: { id: sessionId },
    include: {
      expert: { select: { name: true } },
      question: { select: { customerName: true, pool: { select: { sessionIdleSeconds: true } } } },
    },
  });
}
type EndingSession = NonNullable<Awaited<ReturnType<typeof loadSession>>>;

/** Ends the session and tells both sides. Returns false when it was already ended (or, with quietSince, not quiet). */
export async function endSession(deps: Pick<SessionDeps, "prisma" | "clock" | "logger">, input: EndSessionInput): Promise<boolean> {
  const session = await loadSession(deps, input.sessionId);
  if (!session || session.status === "ended") return false;
  const now = deps.clock.now();
  const ended = await deps.prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ proxy: string | null }[]>`
      UPDATE "Session"
      SET "status" = 'ended', "endedAt" = ${now}, "endedBy" = ${input.endedBy}, "endReason" = ${input.reason ?? null},
          "durationSeconds" = COALESCE(${input.durationSeconds ?? null}::int,
            CASE WHEN "mode" = 'sms' THEN GREATEST(0, FLOOR(EXTRACT(EPOCH FROM (${now}::timestamptz - COALESCE("startedAt", ${now}::timestamptz)))))::int
                 -- A voice session is billed by its bridged seconds (Twilio's timestamps), even when DONE or idleness ends it.
                 ELSE "bridgedSeconds" END),
          "callLiveSince" = NULL,
          -- The rating is asked for by SMS from the session's number; without one nobody asks.
          "ratingRequestedAt" = CASE WHEN "proxyNumberId" IS NULL THEN NULL ELSE ${now}::timestamptz END,
          "updatedAt" = ${now}
      WHERE "id" = ${input.sessionId}::uuid AND "status" <> 'ended'
        AND (${input.quietSince ?? null}::timestamptz IS NULL
             -- Idleness never cuts a call that is live: its bridge ends the session when it ends.
             OR (COALESCE("lastActivityAt", "startedAt", "createdAt") <= ${input.quietSince ?? null}::timestamptz AND "callLiveSince" IS NULL))
      -- As the row is now: the session may have started since it was read above.
      RETURNING (SELECT "e164" FROM "PhoneNumber" WHERE "id" = "Session"."proxyNumberId") AS "proxy"`;
    const [row] = rows;
    if (!row) return false;
    await afterEnd(tx, { session, proxy: row.proxy, endedBy: input.endedBy, now });
    return true;
  });
  if (ended) deps.logger.info({ sessionId: input.sessionId, endedBy: input.endedBy }, "session ended");
  return ended;
}

/** The question closes, the session is priced, the timeline says so, the other side is told and the customer asked for a rating. */
async function afterEnd(
  tx: Tx,
  { session, proxy, endedBy, now }: { session: EndingSession; proxy: string | null; endedBy: string; now: Date },
): Promise<void> {
  const expertFirstName = firstName(session.expert.name, "Your expert");
  await tx.question.updateMany({
    where: { id: session.questionId, status: { in: ["matched", "in_session"] } },
    data: { status: "answered", closedAt: now },
  });
  await recordQuestionEvent(tx, {
    questionId: session.questionId,
    kind: "session_ended",
    data: { expertFirstName, endedBy },
    dedupeKey: `session-ended:${session.id}`,
    at: now,
  });
  await webhookEvents.sessionEnded(tx, session.id, now);
  // In the transaction that ends it; a call still live is priced when its bridge settles (voice-bridge.ts).
  await postSessionLedger(tx, session.id, now);
  if (!proxy) return;
  const idleSeconds = session.question.pool?.sessionIdleSeconds ?? DEFAULT_IDLE_SECONDS;
  const customerFirstName = firstNameOrNull(session.question.customerName);
  const common = { shopId: session.shopId, from: proxy, questionId: session.questionId, sessionId: session.id, isReply: true };
  await queueSms(tx, {
    ...common,
    to: session.expertPhone,
    body: expertEndText({ endedBy, customerFirstName, idleSeconds }),
    purpose: "session_end",
    dedupeKey: `session-end-expert:${session.id}`,
  });
  await queueSms(tx, {
    ...common,
    to: session.customerPhone,
    body: customerEndText({ endedBy, expertFirstName, idleSeconds }),
    purpose: "rating_request",
    dedupeKey: `rating-request:${session.id}`,
  });
}
