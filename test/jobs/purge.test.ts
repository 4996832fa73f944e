/**
 * Retention of the plumbing tables: webhook receipts go after 30 days and
 * published outbox rows after 7, in bounded batches; rows inside their
 * retention, and outbox rows never published, stay whatever their age.
 */
import { describe, expect, it } from "vitest";
import {
  PUBLISHED_OUTBOX_RETENTION_MS,
  purgePublishedOutboxJob,
  purgeWebhookReceiptsJob,
  WEBHOOK_RECEIPT_RETENTION_MS,
} from "../../src/modules/maintenance/jobs.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();
const DAY = 24 * 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const context = { jobId: "purge", attempt: 1, delayUntil: () => Promise.reject(new Error("no delay expected")), rateLimited: () => Promise.reject(new Error("no rate limit expected")) };

async function receipts(ages: Record<string, number>) {
  await ctx().deps.prisma.webhookReceipt.createMany({
    data: Object.entries(ages).map(([dedupeKey, age]) => ({ provider: "twilio" as const, dedupeKey, receivedAt: ago(age) })),
  });
}
const receiptKeys = async () => (await ctx().deps.prisma.webhookReceipt.findMany({ orderBy: { dedupeKey: "asc" } })).map((row) => row.dedupeKey);

describe("webhook receipt purge", () => {
  it("deletes receipts past retention and keeps the rest", async () => {
    const { deps } = ctx();
    await deps.prisma.webhookReceipt.deleteMany();
    await receipts({ "sms:year": 365 * DAY, "sms:month": WEBHOOK_RECEIPT_RETENTION_MS + 60_000, "sms:almost": WEBHOOK_RECEIPT_RETENTION_MS - 3600_000, "sms:today": 60_000 });
    await purgeWebhookReceiptsJob(deps).handle({}, context);
    expect(await receiptKeys()).toEqual(["sms:almost", "sms:today"]);
  });

  it("deletes in batches of the given size, and stops after the run's last batch", async () => {
    const { deps } = ctx();
    await deps.prisma.webhookReceipt.deleteMany();
    await receipts({ "old:1": 40 * DAY, "old:2": 41 * DAY, "old:3": 42 * DAY, "old:4": 43 * DAY, "old:5": 44 * DAY, fresh: DAY });
    // Two statements of two rows: four go now, the fifth waits for the next run.
    await purgeWebhookReceiptsJob(deps, { batchSize: 2, maxBatches: 2 }).handle({}, context);
    expect(await receiptKeys()).toHaveLength(2);
    expect(await receiptKeys()).toContain("fresh");
    await purgeWebhookReceiptsJob(deps, { batchSize: 2, maxBatches: 2 }).handle({}, context);
    expect(await receiptKeys()).toEqual(["fresh"]);
  });
});

describe("published outbox purge", () => {
  it("deletes rows published before retention; keeps recent and unpublished ones", async () => {
    const { deps } = ctx();
    const row = (jobId: string, age: number, published: boolean) => ({
      topic: "telephony/send-sms",
      payload: {},
      jobId,
      createdAt: ago(age),
      runAt: ago(age),
      publishedAt: published ? ago(age) : null,
    });
    await deps.prisma.outboxEvent.createMany({
      data: [
        row("published-long-ago", PUBLISHED_OUTBOX_RETENTION_MS + DAY, true),
        row("published-just-past", PUBLISHED_OUTBOX_RETENTION_MS + 60_000, true),
        row("published-inside", PUBLISHED_OUTBOX_RETENTION_MS - 3600_000, true),
        row("published-now", 1_000, true),
        // Never relayed (Redis was down for weeks): still work to do, never purged.
        row("unpublished-old", 30 * DAY, false),
      ],
    });
    await purgePublishedOutboxJob(deps, { batchSize: 1 }).handle({}, context);
    const left = await deps.prisma.outboxEvent.findMany({ orderBy: { jobId: "asc" } });
    expect(left.map((event) => event.jobId)).toEqual(["published-inside", "published-now", "unpublished-old"]);
  });
});
