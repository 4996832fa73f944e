/**
 * The relay's wake-up: an OutboxEvent insert notifies at commit (the table's
 * trigger), and only the listener of the same schema wakes. `wait` answers
 * true only for a notification and false when its time runs out, so these
 * tests check what woke the listener, not how fast.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenForOutbox, type OutboxWakeup } from "../../src/modules/outbox/outbox-wakeup.js";
import { createTestSchema, dropTestSchema } from "../helpers/database.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();
let wakeup: OutboxWakeup;
let otherSchema: string;

const QUIET_MS = 400;
const event = (jobId: string) => ({ topic: "telephony/test", payload: {}, jobId });

beforeAll(async () => {
  wakeup = listenForOutbox(ctx().deps.sql.options, ctx().deps.logger);
  for (let i = 0; i < 100 && !wakeup.listening; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(wakeup.listening).toBe(true);
  await wakeup.wait(0); // the wake-up that catches anything committed before we listened
  otherSchema = await createTestSchema(ctx().config.DATABASE_URL, "other");
});

afterAll(async () => {
  await wakeup.close();
  await dropTestSchema(ctx().config.DATABASE_URL, otherSchema);
});

describe("outbox wake-up", () => {
  it("a committed insert wakes the listener", async () => {
    const woken = wakeup.wait(10_000);
    await ctx().deps.prisma.outboxEvent.create({ data: event("wake-1") });
    expect(await woken).toBe(true);
  });

  it("a notification that arrives while the relay is busy is kept for its next wait", async () => {
    await ctx().deps.prisma.outboxEvent.create({ data: event("wake-2") });
    expect(await wakeup.wait(10_000)).toBe(true);
  });

  it("a rolled-back insert wakes nobody", async () => {
    const woken = wakeup.wait(QUIET_MS);
    await expect(
      ctx().deps.prisma.$transaction(async (tx) => {
        await tx.outboxEvent.create({ data: event("rolled-back") });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await woken).toBe(false);
  });

  it("an insert that skipped every row (a replay) wakes nobody", async () => {
    const woken = wakeup.wait(QUIET_MS);
    await ctx().deps.prisma.outboxEvent.createMany({ data: [event("wake-1")], skipDuplicates: true });
    expect(await woken).toBe(false);
  });

  it("an insert in another schema (another app sharing the database) does not wake this one", async () => {
    const client = new pg.Client({ connectionString: ctx().config.DATABASE_URL, options: `-c search_path="${otherSchema}"` });
    await client.connect();
    try {
      const woken = wakeup.wait(QUIET_MS);
      await client.query(`INSERT INTO "OutboxEvent" (id, topic, payload, "jobId") VALUES (gen_random_uuid(), 'telephony/test', '{}', 'elsewhere')`);
      expect(await woken).toBe(false);
    } finally {
      await client.end();
    }
  });
});
