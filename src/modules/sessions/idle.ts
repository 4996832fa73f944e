/**
 * Inactivity: a conversation with no text for its pool's sessionIdleSeconds
 * ends by itself. One delayed job per session (`session-idle-<sessionId>`),
 * set for the earliest moment the session could be idle; when it fires
 * after newer activity it puts itself back to the new moment, so a busy
 * session costs one job, not one per text. A sweep ends idle sessions whose
 * timer was lost (Redis came back empty and the outbox row was long purged).
 */
import type { Prisma } from "../../generated/prisma/client.js";
import type { JobContext } from "../../jobs/define.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";
import { DEFAULT_IDLE_SECONDS, endSession } from "./end.js";
import type { SessionDeps } from "./jobs.js";

export const SESSION_IDLE = "session-idle";

export function idleTimerJobId(sessionId: string): string {
  return `session-idle-${sessionId}`;
}

/** Called in the transaction that starts the session. */
export async function enqueueIdleTimer(tx: Prisma.TransactionClient, input: { sessionId: string; runAt: Date }): Promise<void> {
  await enqueue(tx, {
    queue: QUEUES.sessions,
    name: SESSION_IDLE,
    payload: { sessionId: input.sessionId },
    jobId: idleTimerJobId(input.sessionId),
    runAt: input.runAt,
  });
}

type IdleDeps = Pick<SessionDeps, "prisma" | "clock" | "logger">;

/** The idle timer fired: end the session if it has been quiet long enough, else wait until it could be. */
export async function checkIdleSession(deps: IdleDeps, sessionId: string, context: Pick<JobContext, "delayUntil">): Promise<void> {
  // A second pass only when a text slipped in between the look and the end: the next look sees it.
  for (let pass = 0; pass < 3; pass++) {
    const session = await deps.prisma.session.findUnique({
      where: { id: sessionId },
      select: { status: true, mode: true, lastActivityAt: true, startedAt: true, createdAt: true, question: { select: { pool: { select: { sessionIdleSeconds: true } } } } },
    });
    if (!session || session.status === "ended" || session.mode !== "sms") return;
    const idleMs = (session.question.pool?.sessionIdleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
    const lastActivity = session.lastActivityAt ?? session.startedAt ?? session.createdAt;
    const idleAt = new Date(lastActivity.getTime() + idleMs);
    const now = deps.clock.now();
    if (idleAt > now) await context.delayUntil(idleAt);
    if (await endSession(deps, { sessionId, endedBy: "idle", reason: "inactivity", quietSince: new Date(now.getTime() - idleMs) })) return;
  }
}

/**
 * Ends every open SMS session quiet for longer than its pool allows, in
 * case its timer was lost. Returns how many it ended. Meant for the
 * periodic maintenance sweep; safe beside the timers (ending is conditional).
 */
export async function sweepIdleSessions(deps: IdleDeps, { limit = 500 }: { limit?: number } = {}): Promise<number> {
  const now = deps.clock.now();
  const idle = await deps.prisma.$queryRaw<{ id: string; idleSeconds: number }[]>`
    SELECT s."id", COALESCE(p."sessionIdleSeconds", ${DEFAULT_IDLE_SECONDS}::int) AS "idleSeconds"
    FROM "Session" s
    JOIN "Question" q ON q."id" = s."questionId"
    LEFT JOIN "Pool" p ON p."id" = q."poolId"
    WHERE s."status" <> 'ended' AND s."mode" = 'sms' AND s."lastActivityAt" IS NOT NULL
      AND s."lastActivityAt" < ${now}::timestamptz - make_interval(secs => COALESCE(p."sessionIdleSeconds", ${DEFAULT_IDLE_SECONDS}::int))
    ORDER BY s."lastActivityAt"
    LIMIT ${limit}`;
  let ended = 0;
  for (const session of idle) {
    const quietSince = new Date(now.getTime() - session.idleSeconds * 1000);
    if (await endSession(deps, { sessionId: session.id, endedBy: "idle", reason: "inactivity", quietSince })) ended++;
  }
  if (ended > 0) deps.logger.warn({ ended }, "ended idle sessions whose timers were lost");
  return ended;
}
