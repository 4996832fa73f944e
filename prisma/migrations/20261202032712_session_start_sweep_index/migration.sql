-- CreateIndex
CREATE INDEX "Session_createdAt_idx" ON "Session"("createdAt") WHERE (status = 'connecting');
