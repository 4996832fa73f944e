/**
 * Opening an accepted question's masked conversation: a proxy number for the
 * pair, the two intro texts from it (a voice session's customer hears that
 * the number is about to ring; the calls are voice-bridge.ts's), and the idle timer, all in one
 * transaction with the session turning active. Idempotent: only a
 * `connecting` session starts, so a replayed job (or one whose worker died
 * after the commit) changes nothing and sends nothing.
 */
import type { PhoneNumber, Prisma } from "../../generated/prisma/client.js";
import { recordQuestionEvent } from "../questions/timeline.js";
import { createNumberService } from "../telephony/numbers.js";
import { allocateProxyNumber, type OpenSession } from "../telephony/proxy-allocation.js";
import { queueSms } from "../telephony/sms.js";
import { webhookEvents } from "../webhooks/emit.js";
import { customerIntroText, expertIntroText, expertIntroduction, firstName, firstNameOrNull, handoffSummary } from "./copy.js";
import { voiceTextCopy } from "./voice-copy.js";
import { DEFAULT_IDLE_SECONDS } from "./end.js";
import { enqueueIdleTimer } from "./idle.js";
import type { SessionDeps } from "./jobs.js";
import { maskPhonesInText } from "../../lib/phone.js";

type Db = Pick<Prisma.TransactionClient, "$queryRaw">;

/**
 * How long after its rating request a customer's ended session still holds
 * its number pair: a "5" sent to that number must reach the rating, not a
 * new conversation with someone else.
 */
export const RATING_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Sessions that occupy proxy numbers for allocation: every open one, and the
 * ended ones of these participants still waiting for their customer's
 * rating (only the customer is held there).
 */
async function occupiedProxyNumbers(db: Db, participants: string[], now: Date): Promise<OpenSession[]> {
  const rows = await db.$queryRaw<{ proxyNumber: string; customerPhone: string; expertPhone: string; open: boolean }[]>`
    SELECT p."e164" AS "proxyNumber", s."customerPhone", s."expertPhone", s."status" <> 'ended' AS "open"
    FROM "Session" s JOIN "PhoneNumber" p ON p."id" = s."proxyNumberId"
    WHERE s."status" <> 'ended'
       OR (s."customerPhone" = ANY(${participants}::text[]) AND s."ratingRequestedAt" > ${new Date(now.getTime() - RATING_WINDOW_MS)}::timestamptz)`;
  return rows.map((row) => ({
    proxyNumber: row.proxyNumber,
    participants: row.open ? [row.customerPhone, row.expertPhone] : [row.customerPhone],
  }));
}

type StartOutcome = "started" | "not-connecting" | "no-number";

/** Starts the session; buys a proxy number first when none in the pool fits the pair. */
export async function startSession(deps: SessionDeps, sessionId: string): Promise<StartOutcome> {
  const numbers = createNumberService(deps);
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await tryStart(deps, sessionId);
    if (outcome !== "no-number") return outcome;
    const participants = await deps.prisma.session.findUniqueOrThrow({ where: { id: sessionId }, select: { customerPhone: true, expertPhone: true } });
    const pair = [participants.customerPhone, participants.expertPhone];
    // Outside the session's transaction: buying talks to Twilio and may take seconds.
    await numbers.ensureProxyNumber(async (pool: PhoneNumber[]) => {
      const chosen = allocateProxyNumber(pool.map((number) => number.e164), await occupiedProxyNumbers(deps.prisma, pair, deps.clock.now()), pair);
      return pool.find((number) => number.e164 === chosen) ?? null;
    });
  }
  // Others keep taking the numbers bought for this pair: the job's retry tries again.
  throw new Error("no proxy number fitted the session's pair after buying");
}

async function tryStart(deps: SessionDeps, sessionId: string): Promise<StartOutcome> {
  const { prisma, clock } = deps;
  const session = await prisma.session.findUnique({
    where: { id: sessionId },
    include: {
      expert: { select: { name: true } },
      question: {
        select: {
          body: true,
          context: true,
          customerName: true,
          shop: { select: { name: true } },
          product: { select: { name: true, expertNoun: true } },
          pool: { select: { sessionIdleSeconds: true } },
        },
      },
    },
  });
  if (!session || session.status !== "connecting") return "not-connecting";
  const { question } = session;
  const participants = [session.customerPhone, session.expertPhone];
  return prisma.$transaction(async (tx) => {
    // Per participant, in a fixed order (no deadlock): two starts sharing a person allocate one after the other.
    for (const phone of [...new Set(participants)].sort()) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`proxy-participant:${phone}`}))`;
    }
    const now = clock.now();
    const pool = await tx.phoneNumber.findMany({ where: { purpose: "proxy" }, orderBy: { id: "asc" }, select: { id: true, e164: true } });
    const chosen = allocateProxyNumber(
      pool.map((number) => number.e164),
      await occupiedProxyNumbers(tx, participants, now),
      participants,
    );
    const proxy = pool.find((number) => number.e164 === chosen);
    if (!proxy) return "no-number";

    const { count } = await tx.session.updateMany({
      where: { id: sessionId, status: "connecting" },
      data: { status: "active", proxyNumberId: proxy.id, startedAt: now, lastActivityAt: now },
    });
    if (count === 0) return "not-connecting"; // started (or ended) by someone else since we looked
    await tx.question.updateMany({ where: { id: session.questionId, status: "matched" }, data: { status: "in_session" } });
    const expertFirstName = firstName(session.expert.name, "Your expert");
    await recordQuestionEvent(tx, {
      questionId: session.questionId,
      kind: "session_started",
      data: { expertFirstName },
      dedupeKey: `session-started:${sessionId}`,
      at: now,
    });
    await webhookEvents.sessionStarted(tx, sessionId, now);
    // Both are answers to what each just did (asked, accepted): sent even in the expert's quiet hours.
    const common = { shopId: session.shopId, from: proxy.e164, questionId: session.questionId, sessionId, purpose: "session_intro", isReply: true };
    await queueSms(tx, {
      ...common,
      to: session.expertPhone,
      body: expertIntroText({
        shopName: question.shop.name,
        customerFirstName: firstNameOrNull(question.customerName),
        // A number the customer typed into the question stays with us: the expert answers through the proxy.
        question: maskPhonesInText(question.body),
        handoff: handoffSummary(question.context),
      }),
      dedupeKey: `session-intro-expert:${sessionId}`,
    });
    const introduction = { shopName: question.shop.name, expertFirstName, expertNoun: question.product?.expertNoun ?? null, productName: question.product?.name ?? null };
    await queueSms(tx, {
      ...common,
      to: session.customerPhone,
      // A voice session's number is about to ring: the text says whose call it is.
      body: session.mode === "voice" ? voiceTextCopy.customerCalling({ shopName: question.shop.name, expertIntroduction: expertIntroduction(introduction) }) : customerIntroText(introduction),
      dedupeKey: `session-intro-customer:${sessionId}`,
    });
    const idleSeconds = question.pool?.sessionIdleSeconds ?? DEFAULT_IDLE_SECONDS;
    await enqueueIdleTimer(tx, { sessionId, runAt: new Date(now.getTime() + idleSeconds * 1000) });
    return "started";
  });
}
