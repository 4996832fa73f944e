-- DropIndex
DROP INDEX "Expert_onboardingTokenHash_key";

-- AlterTable
ALTER TABLE "Expert" DROP COLUMN "onboardingTokenHash";
