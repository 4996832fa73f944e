/**
 * The ledger's writes: a session's charge, earning and fee when it ends.
 * Entries are immutable (a trigger refuses UPDATE and DELETE); refunds and
 * corrections are new entries (refunds.ts). Every entry's idempotency key
 * names its cause, so a replayed end, a re-run job or two ends at once post
 * a session once.
 */
import type { Prisma } from "../../generated/prisma/client.js";
import { priceSession, type PricingMode } from "./pricing.js";

type Tx = Prisma.TransactionClient;

/** The largest amount a ledger row holds (PostgreSQL integer). */
export const MAX_ENTRY_MINOR = 2_147_483_647;

export const sessionEntryKey = {
  charge: (sessionId: string) => `session:${sessionId}:charge`,
  earning: (sessionId: string) => `session:${sessionId}:earning`,
  fee: (sessionId: string) => `session:${sessionId}:fee`,
} as const;

interface SessionToPrice {
  id: string;
  shopId: string;
  expertId: string;
  status: string;
  bridgedSeconds: number;
  pricingMode: PricingMode | null;
  amountMinor: number | null;
  minimumMinor: number | null;
  platformFeeBps: number | null;
  currency: string | null;
  /** The expert's words reached the customer (a relayed text). */
  expertTexted: boolean;
  /** A call of the session is still bridged: its seconds are not known yet. */
  callLive: boolean;
}

/**
 * Posts an ended session's entries, in the caller's transaction (the one
 * that ends the session, or the one that settles its last call). Returns
 * what was posted, or null when there is nothing to post yet or ever: the
 * session is open, a call is still live (its bridge posts when it settles),
 * no pool prices it (neither the question's nor the offer's), or the expert
 * never answered (no charge).
 */
export async function postSessionLedger(tx: Tx, sessionId: string, now: Date): Promise<{ chargeMinor: number } | null> {
  const [session] = await tx.$queryRaw<SessionToPrice[]>`
    SELECT s."id", s."shopId", s."expertId", s."status"::text AS "status", s."bridgedSeconds",
           p."pricingMode"::text AS "pricingMode", p."amountMinor", p."minimumMinor", p."platformFeeBps", p."currency",
           -- A relayed text to the customer can only be the expert's words.
           EXISTS (SELECT 1 FROM "Message" m
                   WHERE m."sessionId" = s."id" AND m."direction" = 'outbound' AND m."purpose" = 'relay' AND m."to" = s."customerPhone") AS "expertTexted",
           EXISTS (SELECT 1 FROM "VoiceBridge" b WHERE b."sessionId" = s."id" AND b."bridgedAt" IS NOT NULL AND b."endedAt" IS NULL) AS "callLive"
    FROM "Session" s
    JOIN "Question" q ON q."id" = s."questionId"
    LEFT JOIN "Offer" o ON o."id" = s."offerId"
    -- The question's pool (what the offer quoted), else the pool the expert was offered it through.
    LEFT JOIN "Pool" p ON p."id" = COALESCE(q."poolId", o."poolId")
    WHERE s."id" = ${sessionId}::uuid`;
  if (!session || session.status !== "ended" || session.callLive) return null;
  if (session.pricingMode === null || session.amountMinor === null || session.currency === null) return null;
  const price = priceSession(
    {
      mode: session.pricingMode,
      amountMinor: session.amountMinor,
      minimumMinor: session.minimumMinor ?? 0,
      platformFeeBps: session.platformFeeBps ?? 0,
      currency: session.currency,
    },
    { bridgedSeconds: session.bridgedSeconds, answered: session.bridgedSeconds > 0 || session.expertTexted },
  );
  if (price.chargeMinor === 0) return null;
  if (price.chargeMinor > MAX_ENTRY_MINOR) throw new RangeError(`session ${sessionId}: a charge of ${price.chargeMinor} does not fit a ledger row`);
  const common = { shopId: session.shopId, expertId: session.expertId, sessionId, currency: price.currency, billableMinutes: price.billableMinutes, createdAt: now };
  const entries: Prisma.LedgerEntryCreateManyInput[] = [
    { ...common, kind: "shop_charge", amountMinor: price.chargeMinor, idempotencyKey: sessionEntryKey.charge(sessionId) },
    { ...common, kind: "session_earning", amountMinor: price.earningMinor, idempotencyKey: sessionEntryKey.earning(sessionId) },
  ];
  if (price.feeMinor > 0) entries.push({ ...common, kind: "platform_fee", amountMinor: price.feeMinor, idempotencyKey: sessionEntryKey.fee(sessionId) });
  await tx.ledgerEntry.createMany({ data: entries, skipDuplicates: true });
  return { chargeMinor: price.chargeMinor };
}
