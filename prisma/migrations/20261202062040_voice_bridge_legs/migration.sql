-- AlterTable
ALTER TABLE "VoiceBridge" ADD COLUMN     "customerCallSid" TEXT,
ADD COLUMN     "expertCallSid" TEXT;
