/**
 * The payout run: each expert's unpaid earnings older than the review window
 * become one payout per currency, in `pending_review`. Nothing moves until
 * an admin decides (payout-review.ts).
 *
 * "Unpaid" means in no payout that is not released (PayoutItem's partial
 * unique index makes that a database fact: the same entry can never be in
 * two live payouts). A reversal travels with the earning it reverses: an
 * unpaid reversal is gathered with its earning whatever its age, so a
 * refund that landed after the window still nets out. Earnings fully
 * reversed before any payout are left out (they would pay 0).
 *
 * One transaction per expert, under a per-expert advisory lock that refunds
 * take too (refunds.ts), so a refund never slips between the gathering of
 * an earning and of its reversals.
 */
import type { Prisma } from "../../generated/prisma/client.js";
import type { Deps } from "../../deps.js";
import { webhookEvents } from "../webhooks/emit.js";
import { assessPayoutRisk, type PayoutSessionFacts } from "./risk-flags.js";

type Tx = Prisma.TransactionClient;
export type PayoutRunDeps = Pick<Deps, "prisma" | "clock" | "logger" | "config">;

/** Serialises payout work on one expert's earnings: the run, refunds, releases. */
export async function lockExpertEarnings(tx: Tx, expertId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`expert-earnings:${expertId}`}, 0))`;
}

/** An entry is unpaid while no live (unreleased) payout holds it. */
const UNPAID = (alias: string) => `NOT EXISTS (SELECT 1 FROM "PayoutItem" i WHERE i."entryId" = ${alias}."id" AND i."releasedAt" IS NULL)`;

export interface PayoutRunResult {
  payoutIds: string[];
  /** Experts (and currencies) looked at. */
  considered: number;
}

/** Gathers payouts for every expert with earnings due (optionally one shop's). */
export async function runPayouts(deps: PayoutRunDeps, options: { shopId?: string } = {}): Promise<PayoutRunResult> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - deps.config.PAYOUT_REVIEW_WINDOW_HOURS * 3600_000);
  const due = await deps.prisma.$queryRawUnsafe<{ expertId: string; currency: string }[]>(
    `SELECT DISTINCT e."expertId", e."currency" FROM "LedgerEntry" e
     WHERE e."kind" = 'session_earning' AND e."createdAt" <= $1 AND ($2::uuid IS NULL OR e."shopId" = $2::uuid) AND ${UNPAID("e")}
     ORDER BY 1, 2`,
    cutoff,
    options.shopId ?? null,
  );
  const payoutIds: string[] = [];
  for (const { expertId, currency } of due) {
    const id = await gatherExpertPayout(deps, { expertId, currency, cutoff, now });
    if (id) payoutIds.push(id);
  }
  if (payoutIds.length > 0) deps.logger.info({ payouts: payoutIds.length }, "payouts gathered for review");
  return { payoutIds, considered: due.length };
}

interface GatheredEntry {
  id: string;
  sessionId: string | null;
  amountMinor: number;
  createdAt: Date;
}

async function gatherExpertPayout(
  deps: PayoutRunDeps,
  input: { expertId: string; currency: string; cutoff: Date; now: Date },
): Promise<string | null> {
  return deps.prisma.$transaction(async (tx) => {
    await lockExpertEarnings(tx, input.expertId);
    const entries = await tx.$queryRawUnsafe<GatheredEntry[]>(
      `WITH earnings AS (
         SELECT e."id", e."sessionId", e."amountMinor", e."createdAt" FROM "LedgerEntry" e
         WHERE e."expertId" = $1::uuid AND e."currency" = $2 AND e."kind" = 'session_earning' AND e."createdAt" <= $3 AND ${UNPAID("e")}
       ), reversals AS (
         SELECT r."id", r."sessionId", r."amountMinor", r."createdAt", r."reversesEntryId" FROM "LedgerEntry" r
         JOIN earnings o ON r."reversesEntryId" = o."id"
         WHERE r."kind" = 'earning_reversal' AND ${UNPAID("r")}
       ), owed AS (
         -- Fully reversed earnings pay nothing: leave them (and their reversals) out.
         SELECT o."id" FROM earnings o LEFT JOIN reversals r ON r."reversesEntryId" = o."id"
         GROUP BY o."id", o."amountMinor" HAVING o."amountMinor" + COALESCE(SUM(r."amountMinor"), 0) > 0
       )
       SELECT o."id", o."sessionId", o."amountMinor", o."createdAt" FROM earnings o WHERE o."id" IN (SELECT "id" FROM owed)
       UNION ALL
       SELECT r."id", r."sessionId", r."amountMinor", r."createdAt" FROM reversals r WHERE r."reversesEntryId" IN (SELECT "id" FROM owed)`,
      input.expertId,
      input.currency,
      input.cutoff,
    );
    const amountMinor = entries.reduce((sum, entry) => sum + entry.amountMinor, 0);
    if (entries.length === 0 || amountMinor <= 0) return null;
    const sessionIds = [...new Set(entries.map((entry) => entry.sessionId).filter((id): id is string => id !== null))];
    const expert = await tx.expert.findUniqueOrThrow({ where: { id: input.expertId }, select: { shopId: true, payoutsEnabled: true, phone: true } });
    const risk = assessPayoutRisk({
      sessions: await sessionFacts(tx, sessionIds),
      amountMinor,
      currency: input.currency,
      payoutsEnabled: expert.payoutsEnabled,
      history: await expertHistory(tx, { expertId: input.expertId, shopId: expert.shopId, currency: input.currency, sessionIds }),
    });
    const payout = await tx.payout.create({
      data: {
        shopId: expert.shopId,
        expertId: input.expertId,
        amountMinor,
        currency: input.currency,
        sessionCount: sessionIds.length,
        riskFlags: risk.flags,
        riskDetails: risk.details,
        createdAt: input.now,
      },
      select: { id: true },
    });
    // The partial unique index refuses an entry already in a live payout: this insert is the guarantee.
    await tx.payoutItem.createMany({ data: entries.map((entry) => ({ payoutId: payout.id, entryId: entry.id })) });
    await webhookEvents.payoutChanged(tx, payout.id, { type: "payout.created", cause: "created", at: input.now });
    return payout.id;
  });
}

async function sessionFacts(tx: Tx, sessionIds: string[]): Promise<PayoutSessionFacts[]> {
  if (sessionIds.length === 0) return [];
  const rows = await tx.$queryRaw<(Omit<PayoutSessionFacts, "expertMessages"> & { expertMessages: number })[]>`
    SELECT s."id" AS "sessionId", s."mode"::text AS "mode",
           COALESCE(s."durationSeconds", 0) AS "durationSeconds",
           (SELECT COUNT(*)::int FROM "Message" m
             WHERE m."sessionId" = s."id" AND m."direction" = 'outbound' AND m."purpose" = 'relay' AND m."to" = s."customerPhone") AS "expertMessages",
           (SELECT r."score" FROM "Rating" r WHERE r."sessionId" = s."id") AS "rating",
           s."customerPhone", s."expertPhone"
    FROM "Session" s WHERE s."id" = ANY(${sessionIds}::uuid[]) ORDER BY s."id"`;
  return rows.map((row) => ({ ...row, mode: row.mode === "voice" ? "voice" : "sms" }));
}

async function expertHistory(tx: Tx, input: { expertId: string; shopId: string; currency: string; sessionIds: string[] }) {
  // One at a time: queries of one interactive transaction share its connection.
  const previous = await tx.payout.findMany({
      // Amounts are compared as they are: only payouts in this currency.
      where: { expertId: input.expertId, currency: input.currency, status: { not: "rejected" } },
      orderBy: { id: "desc" },
      take: 12,
      select: { sessionCount: true, amountMinor: true },
    });
  const pairs = await tx.$queryRaw<{ customerPhone: string; sessions: number }[]>`
      SELECT s."customerPhone", COUNT(*)::int AS "sessions" FROM "Session" s
      WHERE s."expertId" = ${input.expertId}::uuid
        AND s."customerPhone" IN (SELECT "customerPhone" FROM "Session" WHERE "id" = ANY(${input.sessionIds}::uuid[]))
      GROUP BY s."customerPhone"`;
  const total = await tx.session.count({ where: { expertId: input.expertId } });
  // Only experts whose phone is one of this payout's customers matter (the same person on both sides).
  const phones = await tx.$queryRaw<{ phone: string }[]>`
    SELECT x."phone" FROM "Expert" x
    WHERE x."shopId" = ${input.shopId}::uuid
      AND x."phone" IN (SELECT "customerPhone" FROM "Session" WHERE "id" = ANY(${input.sessionIds}::uuid[]))`;
  return {
    previousPayouts: previous,
    sessionsWithCustomer: Object.fromEntries(pairs.map((pair) => [pair.customerPhone, pair.sessions])),
    totalSessions: total,
    expertPhones: phones.map((expert) => expert.phone),
  };
}
