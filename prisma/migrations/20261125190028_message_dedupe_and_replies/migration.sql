-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "dedupeKey" TEXT,
ADD COLUMN     "isReply" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sendAfter" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "Message_dedupeKey_key" ON "Message"("dedupeKey");
