-- CreateIndex
CREATE INDEX "WebhookEvent_createdAt_idx" ON "WebhookEvent" USING BRIN ("createdAt");
