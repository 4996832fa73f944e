-- AlterEnum
BEGIN;
CREATE TYPE "LedgerKind_new" AS ENUM ('shop_charge', 'session_earning', 'platform_fee', 'charge_refund', 'earning_reversal', 'fee_reversal');
ALTER TABLE "LedgerEntry" ALTER COLUMN "kind" TYPE "LedgerKind_new" USING ("kind"::text::"LedgerKind_new");
ALTER TYPE "LedgerKind" RENAME TO "LedgerKind_old";
ALTER TYPE "LedgerKind_new" RENAME TO "LedgerKind";
DROP TYPE "LedgerKind_old";
COMMIT;

-- AlterEnum
BEGIN;
CREATE TYPE "PayoutStatus_new" AS ENUM ('pending_review', 'held', 'rejected', 'approved', 'transferred', 'paid', 'failed');
ALTER TABLE "Payout" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "Payout" ALTER COLUMN "status" TYPE "PayoutStatus_new" USING ("status"::text::"PayoutStatus_new");
ALTER TYPE "PayoutStatus" RENAME TO "PayoutStatus_old";
ALTER TYPE "PayoutStatus_new" RENAME TO "PayoutStatus";
DROP TYPE "PayoutStatus_old";
ALTER TABLE "Payout" ALTER COLUMN "status" SET DEFAULT 'pending_review';
COMMIT;

-- DropForeignKey
ALTER TABLE "LedgerEntry" DROP CONSTRAINT "LedgerEntry_payoutId_fkey";

-- DropIndex
DROP INDEX "LedgerEntry_reversesEntryId_key";

-- DropIndex
DROP INDEX "LedgerEntry_expertId_payoutId_idx";

-- DropIndex
DROP INDEX "LedgerEntry_shopId_id_idx";

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "minimumMinor" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Expert" ADD COLUMN     "onboardingLinkSentAt" TIMESTAMPTZ(3),
ADD COLUMN     "onboardingTokenHash" TEXT,
ADD COLUMN     "payoutReminderSentAt" TIMESTAMPTZ(3),
ADD COLUMN     "stripeAccountSyncedAt" TIMESTAMPTZ(3),
ADD COLUMN     "stripeDetailsSubmitted" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "stripeDisabledReason" TEXT,
ADD COLUMN     "stripeRequirementsDue" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "LedgerEntry" DROP COLUMN "payoutId",
ADD COLUMN     "billableMinutes" INTEGER,
ADD COLUMN     "refundId" UUID;

-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "reversedMinor" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reviewedBy" TEXT,
ADD COLUMN     "riskDetails" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "sessionCount" INTEGER NOT NULL,
ADD COLUMN     "stripePayoutId" TEXT,
ADD COLUMN     "transferAttempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "transferredAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "Refund" (
    "id" UUID NOT NULL,
    "shopId" UUID NOT NULL,
    "sessionId" UUID NOT NULL,
    "amountMinor" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "source" TEXT NOT NULL,
    "reason" TEXT,
    "earningReversedMinor" INTEGER NOT NULL,
    "clawbackPayoutId" UUID,
    "clawbackStatus" TEXT,
    "stripeReversalId" TEXT,
    "clawbackFailure" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Refund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PayoutItem" (
    "id" UUID NOT NULL,
    "payoutId" UUID NOT NULL,
    "entryId" UUID NOT NULL,
    "releasedAt" TIMESTAMPTZ(3),

    CONSTRAINT "PayoutItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PayoutDecision" (
    "id" UUID NOT NULL,
    "payoutId" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "note" TEXT,
    "fromStatus" "PayoutStatus" NOT NULL,
    "toStatus" "PayoutStatus" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PayoutDecision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Refund_stripeReversalId_key" ON "Refund"("stripeReversalId");

-- CreateIndex
CREATE INDEX "Refund_sessionId_idx" ON "Refund"("sessionId");

-- CreateIndex
CREATE INDEX "Refund_shopId_id_idx" ON "Refund"("shopId", "id");

-- CreateIndex
CREATE INDEX "Refund_clawbackPayoutId_idx" ON "Refund"("clawbackPayoutId");

-- CreateIndex
CREATE INDEX "PayoutItem_payoutId_idx" ON "PayoutItem"("payoutId");

-- CreateIndex
CREATE UNIQUE INDEX "PayoutItem_entryId_active_key" ON "PayoutItem"("entryId") WHERE ("releasedAt" IS NULL);

-- CreateIndex
CREATE INDEX "PayoutDecision_payoutId_createdAt_idx" ON "PayoutDecision"("payoutId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Expert_onboardingTokenHash_key" ON "Expert"("onboardingTokenHash");

-- CreateIndex
CREATE INDEX "LedgerEntry_expertId_kind_createdAt_idx" ON "LedgerEntry"("expertId", "kind", "createdAt");

-- CreateIndex
CREATE INDEX "LedgerEntry_shopId_createdAt_id_idx" ON "LedgerEntry"("shopId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "LedgerEntry_sessionId_idx" ON "LedgerEntry"("sessionId");

-- CreateIndex
CREATE INDEX "LedgerEntry_reversesEntryId_idx" ON "LedgerEntry"("reversesEntryId");

-- CreateIndex
CREATE INDEX "Payout_shopId_id_idx" ON "Payout"("shopId", "id");

-- AddForeignKey
ALTER TABLE "LedgerEntry" ADD CONSTRAINT "LedgerEntry_refundId_fkey" FOREIGN KEY ("refundId") REFERENCES "Refund"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Refund" ADD CONSTRAINT "Refund_clawbackPayoutId_fkey" FOREIGN KEY ("clawbackPayoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutItem" ADD CONSTRAINT "PayoutItem_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutItem" ADD CONSTRAINT "PayoutItem_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "LedgerEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutDecision" ADD CONSTRAINT "PayoutDecision_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written (triggers are not in schema.prisma): ledger entries are
-- immutable. Corrections and refunds are new entries; an UPDATE or DELETE,
-- from the product or from a person at a psql prompt, is refused.
CREATE FUNCTION "ledger_entry_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'LedgerEntry rows are immutable: post a reversing entry instead'
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER "LedgerEntry_immutable"
  BEFORE UPDATE OR DELETE ON "LedgerEntry"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entry_immutable"();
