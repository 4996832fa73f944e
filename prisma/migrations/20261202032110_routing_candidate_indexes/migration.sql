-- DropIndex
DROP INDEX "PoolMember_expertId_idx";

-- CreateIndex
CREATE INDEX "Expert_shopId_lastOfferedAt_idx" ON "Expert"("shopId", "lastOfferedAt");

-- CreateIndex
CREATE INDEX "ExpertSkill_tag_expertId_idx" ON "ExpertSkill"("tag", "expertId");

-- CreateIndex
CREATE INDEX "PoolMember_expertId_poolId_idx" ON "PoolMember"("expertId", "poolId");
