-- AlterTable
ALTER TABLE "Expert" ADD COLUMN     "pausedChangedAt" TIMESTAMPTZ(3);
