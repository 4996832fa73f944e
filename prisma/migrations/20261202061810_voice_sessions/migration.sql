-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "recordCalls" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "callCapSeconds" INTEGER NOT NULL DEFAULT 3600;

-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "bridgedSeconds" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "callLiveSince" TIMESTAMPTZ(3),
ADD COLUMN     "customerCallAttempts" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Call" ADD COLUMN     "dedupeKey" TEXT,
ADD COLUMN     "offerId" UUID,
ADD COLUMN     "party" TEXT,
ADD COLUMN     "purpose" TEXT;

-- CreateTable
CREATE TABLE "VoiceBridge" (
    "id" UUID NOT NULL,
    "sessionId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "conferenceSid" TEXT,
    "expertJoinedAt" TIMESTAMPTZ(3),
    "customerJoinedAt" TIMESTAMPTZ(3),
    "bridgedAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "endedBy" TEXT,
    "billableSeconds" INTEGER,
    "warnedAt" TIMESTAMPTZ(3),
    "recordingUrl" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "VoiceBridge_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "VoiceBridge_name_key" ON "VoiceBridge"("name");

-- CreateIndex
CREATE UNIQUE INDEX "VoiceBridge_conferenceSid_key" ON "VoiceBridge"("conferenceSid");

-- CreateIndex
CREATE INDEX "VoiceBridge_sessionId_idx" ON "VoiceBridge"("sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "Call_dedupeKey_key" ON "Call"("dedupeKey");

-- CreateIndex
CREATE INDEX "Call_offerId_idx" ON "Call"("offerId");

-- AddForeignKey
ALTER TABLE "VoiceBridge" ADD CONSTRAINT "VoiceBridge_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session"("id") ON DELETE CASCADE ON UPDATE CASCADE;
