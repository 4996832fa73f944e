-- AlterTable
ALTER TABLE "Expert" ADD COLUMN     "inviteCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "failureReason" TEXT,
ADD COLUMN     "interruptedSends" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "sendingClaimedAt" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "Message_sendingClaimedAt_idx" ON "Message"("sendingClaimedAt") WHERE (status = 'sending');

-- CreateIndex
CREATE INDEX "WebhookReceipt_receivedAt_idx" ON "WebhookReceipt" USING BRIN ("receivedAt");

-- Rows left in "sending" before claims were recorded: date their claim from
-- their last update, so the stuck-send sweep can settle them.
UPDATE "Message" SET "sendingClaimedAt" = "updatedAt" WHERE status = 'sending' AND "sendingClaimedAt" IS NULL;
