-- AlterTable
ALTER TABLE "VoiceBridge" ADD COLUMN     "conferenceEndedAt" TIMESTAMPTZ(3),
ADD COLUMN     "customerLeftAt" TIMESTAMPTZ(3),
ADD COLUMN     "expertLeftAt" TIMESTAMPTZ(3);
