-- AlterTable
ALTER TABLE "Offer" ADD COLUMN     "poolId" UUID;

-- CreateIndex
CREATE INDEX "Offer_poolId_idx" ON "Offer"("poolId");

-- AddForeignKey
ALTER TABLE "Offer" ADD CONSTRAINT "Offer_poolId_fkey" FOREIGN KEY ("poolId") REFERENCES "Pool"("id") ON DELETE SET NULL ON UPDATE CASCADE;
