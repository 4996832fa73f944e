/**
 * Ledger rows written straight to the database, for the read side's tests:
 * a session (question, accepted offer, ended session) and the entries the
 * posting code writes for it, with the timestamps a test chooses. The
 * entries respect the ledger's equation: charge = earning + fee, and a
 * refund = its earning reversal + its fee reversal.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { PrismaClient } from "../../src/generated/prisma/client.js";

type Db = Pick<PrismaClient, "question" | "offer" | "session" | "ledgerEntry" | "refund">;

export interface LedgerSession {
  id: string;
  questionId: string;
  shopId: string;
  expertId: string;
  currency: string;
  entries: { charge: string; earning: string; fee: string };
}

export async function makeEndedSession(
  db: Db,
  input: { shopId: string; expertId: string; expertPhone: string; mode?: "sms" | "voice"; at: Date },
): Promise<{ id: string; questionId: string }> {
  const question = await db.question.create({
    data: {
      shopId: input.shopId,
      statusToken: randomBytes(16).toString("hex"),
      channel: "api",
      body: "Which grain mill?",
      customerPhone: "+14155550100",
      tags: ["all-grain"],
      status: "answered",
      matchedExpertId: input.expertId,
    },
  });
  const offer = await db.offer.create({
    data: { questionId: question.id, expertId: input.expertId, code: "7KQ", status: "accepted", expiresAt: input.at },
  });
  const session = await db.session.create({
    data: {
      questionId: question.id,
      offerId: offer.id,
      expertId: input.expertId,
      shopId: input.shopId,
      customerPhone: "+14155550100",
      expertPhone: input.expertPhone,
      mode: input.mode ?? "sms",
      status: "ended",
      startedAt: input.at,
      endedAt: input.at,
    },
  });
  return { id: session.id, questionId: question.id };
}

/** A priced session: its shop_charge, session_earning and platform_fee, all at `at`. */
export async function postSession(
  db: Db,
  input: {
    shopId: string;
    expertId: string;
    expertPhone: string;
    mode?: "sms" | "voice";
    at: Date;
    chargeMinor: number;
    feeMinor: number;
    currency?: string;
    billableMinutes?: number;
  },
): Promise<LedgerSession> {
  const session = await makeEndedSession(db, input);
  const currency = input.currency ?? "USD";
  const common = { shopId: input.shopId, expertId: input.expertId, sessionId: session.id, currency, createdAt: input.at };
  const billableMinutes = input.billableMinutes ?? null;
  const charge = await db.ledgerEntry.create({
    data: { ...common, kind: "shop_charge", amountMinor: input.chargeMinor, billableMinutes, idempotencyKey: `charge:${session.id}` },
  });
  const earning = await db.ledgerEntry.create({
    data: { ...common, kind: "session_earning", amountMinor: input.chargeMinor - input.feeMinor, billableMinutes, idempotencyKey: `earning:${session.id}` },
  });
  const fee = await db.ledgerEntry.create({
    data: { ...common, kind: "platform_fee", amountMinor: input.feeMinor, billableMinutes, idempotencyKey: `fee:${session.id}` },
  });
  return { ...session, shopId: input.shopId, expertId: input.expertId, currency, entries: { charge: charge.id, earning: earning.id, fee: fee.id } };
}

/**
 * A refund of part of a session: charge_refund, earning_reversal and
 * fee_reversal (negative, each reversing its original). With a Refund
 * record unless `withRecord: false` (the ledger then links them by nothing
 * but the session).
 */
export async function postRefund(
  db: Db,
  session: LedgerSession,
  input: { at: Date; amountMinor: number; feePartMinor: number; withRecord?: boolean },
): Promise<{ refundId: string | null; chargeRefund: string }> {
  const refund =
    input.withRecord === false
      ? null
      : await db.refund.create({
          data: {
            shopId: session.shopId,
            sessionId: session.id,
            amountMinor: input.amountMinor,
            currency: session.currency,
            source: "shop",
            earningReversedMinor: input.amountMinor - input.feePartMinor,
            createdAt: input.at,
          },
        });
  const key = refund?.id ?? randomUUID();
  const common = {
    shopId: session.shopId,
    expertId: session.expertId,
    sessionId: session.id,
    refundId: refund?.id ?? null,
    currency: session.currency,
    createdAt: input.at,
  };
  const chargeRefund = await db.ledgerEntry.create({
    data: { ...common, kind: "charge_refund", amountMinor: -input.amountMinor, reversesEntryId: session.entries.charge, idempotencyKey: `refund:${key}` },
  });
  await db.ledgerEntry.create({
    data: {
      ...common,
      kind: "earning_reversal",
      amountMinor: -(input.amountMinor - input.feePartMinor),
      reversesEntryId: session.entries.earning,
      idempotencyKey: `earning-reversal:${key}`,
    },
  });
  await db.ledgerEntry.create({
    data: { ...common, kind: "fee_reversal", amountMinor: -input.feePartMinor, reversesEntryId: session.entries.fee, idempotencyKey: `fee-reversal:${key}` },
  });
  return { refundId: refund?.id ?? null, chargeRefund: chargeRefund.id };
}
