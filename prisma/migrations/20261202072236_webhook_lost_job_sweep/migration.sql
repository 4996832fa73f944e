-- AlterTable
ALTER TABLE "WebhookEvent" ADD COLUMN     "fannedOutAt" TIMESTAMPTZ(3);

-- Events from before this column: their fan-out ran long ago or is queued now (and then sets it again).
-- Either way the sweep for lost fan-outs has nothing to do for them.
UPDATE "WebhookEvent" SET "fannedOutAt" = "createdAt";

-- CreateIndex
CREATE INDEX "WebhookEvent_not_fanned_out_idx" ON "WebhookEvent"("createdAt") WHERE ("fannedOutAt" IS NULL);

-- CreateIndex
CREATE INDEX "WebhookDelivery_nextAttemptAt_idx" ON "WebhookDelivery"("nextAttemptAt") WHERE (status = 'pending');
