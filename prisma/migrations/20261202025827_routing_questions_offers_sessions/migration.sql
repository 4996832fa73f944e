-- DropIndex
DROP INDEX "Question_customerPhone_idx";

-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "country" CHAR(2) NOT NULL DEFAULT 'US',
ADD COLUMN     "dailyNewCustomerCap" INTEGER NOT NULL DEFAULT 200,
ADD COLUMN     "frameAncestors" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "smsCountries" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "Product" ADD COLUMN     "aliases" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "expertNoun" TEXT;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "patienceSeconds" INTEGER NOT NULL DEFAULT 900,
ADD COLUMN     "sessionIdleSeconds" INTEGER NOT NULL DEFAULT 1800;

-- AlterTable
ALTER TABLE "Expert" ADD COLUMN     "missedOffersInRow" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "offersDeclined" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "offersTimedOut" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Question" ADD COLUMN     "closedAt" TIMESTAMPTZ(3),
ADD COLUMN     "context" JSONB,
ADD COLUMN     "optionalTags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "productChoices" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "searchStartedAt" TIMESTAMPTZ(3),
ADD COLUMN     "widenLevel" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Offer" ADD COLUMN     "rank" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reasons" JSONB,
ADD COLUMN     "score" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "widenLevel" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "customerPhone" TEXT NOT NULL,
ADD COLUMN     "endedBy" TEXT,
ADD COLUMN     "expertPhone" TEXT NOT NULL,
ADD COLUMN     "ratingRequestedAt" TIMESTAMPTZ(3),
ADD COLUMN     "shopId" UUID NOT NULL;

-- CreateTable
CREATE TABLE "ShopCustomer" (
    "shopId" UUID NOT NULL,
    "phone" TEXT NOT NULL,
    "firstSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ShopCustomer_pkey" PRIMARY KEY ("shopId","phone")
);

-- CreateTable
CREATE TABLE "QuestionEvent" (
    "id" UUID NOT NULL,
    "questionId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "data" JSONB,
    "dedupeKey" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "QuestionEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ShopCustomer_shopId_firstSeenAt_idx" ON "ShopCustomer"("shopId", "firstSeenAt");

-- CreateIndex
CREATE UNIQUE INDEX "QuestionEvent_dedupeKey_key" ON "QuestionEvent"("dedupeKey");

-- CreateIndex
CREATE INDEX "QuestionEvent_questionId_id_idx" ON "QuestionEvent"("questionId", "id");

-- CreateIndex
CREATE INDEX "Question_shopId_productId_id_idx" ON "Question"("shopId", "productId", "id");

-- CreateIndex
CREATE INDEX "Question_customerPhone_shopId_idx" ON "Question"("customerPhone", "shopId");

-- CreateIndex
CREATE INDEX "Question_expiresAt_idx" ON "Question"("expiresAt") WHERE (status IN ('received', 'routing', 'offered'));

-- CreateIndex
CREATE UNIQUE INDEX "Offer_one_accepted_per_question" ON "Offer"("questionId") WHERE (status = 'accepted');

-- CreateIndex
CREATE UNIQUE INDEX "Offer_open_code_per_expert" ON "Offer"("expertId", "code") WHERE (status = 'pending');

-- CreateIndex
CREATE INDEX "Session_customerPhone_shopId_endedAt_idx" ON "Session"("customerPhone", "shopId", "endedAt");

-- CreateIndex
CREATE INDEX "Session_lastActivityAt_idx" ON "Session"("lastActivityAt") WHERE (status <> 'ended');

-- AddForeignKey
ALTER TABLE "ShopCustomer" ADD CONSTRAINT "ShopCustomer_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "QuestionEvent" ADD CONSTRAINT "QuestionEvent_questionId_fkey" FOREIGN KEY ("questionId") REFERENCES "Question"("id") ON DELETE CASCADE ON UPDATE CASCADE;
