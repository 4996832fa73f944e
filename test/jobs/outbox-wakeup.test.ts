/**
 * The relay's wake-up: an OutboxEvent insert notifies at commit (the table's
 * trigger) only while a relay has announced that it sleeps, and only the
 * listener of the same schema wakes. `wait` answers true only for a
 * notification and false when its time runs out, so these tests check what
 * woke the listener, not how fast.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listenForOutbox, type OutboxWakeup } from "../../src/modules/outbox/outbox-wakeup.js";
import { createTestSchema, dropTestSchema } from "../helpers/database.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();
let wakeup: OutboxWakeup;
let otherSchema: string;
let jobs = 0;

const QUIET_MS = 400;
const event = (jobId = `job-${++jobs}`) => ({ topic: "telephony/test", payload: {}, jobId });

async function listening(): Promise<OutboxWakeup> {
  const listener = listenForOutbox(ctx().deps.sql.options, ctx().deps.logger);
  for (let i = 0; i < 100 && !listener.listening; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(listener.listening).toBe(true);
  await listener.wait(0); // its own test notification
  return listener;
}

beforeAll(async () => {
  wakeup = await listening();
  otherSchema = await createTestSchema(ctx().config.DATABASE_URL, "other");
});

afterEach(async () => {
  await wakeup.endSleep();
  await wakeup.wait(50); // forget a notification a test left unheard
});

afterAll(async () => {
  await wakeup.close();
  await dropTestSchema(ctx().config.DATABASE_URL, otherSchema);
});

describe("outbox wake-up", () => {
  it("while the relay sleeps, a committed insert wakes it", async () => {
    expect(await wakeup.announceSleep()).toBe("asleep");
    const woken = wakeup.wait(10_000);
    await ctx().deps.prisma.outboxEvent.create({ data: event() });
    expect(await woken).toBe(true);
  });

  it("while no relay sleeps, inserts notify nobody: a busy relay costs the hot path no NOTIFY", async () => {
    const woken = wakeup.wait(QUIET_MS);
    await ctx().deps.prisma.outboxEvent.create({ data: event() });
    expect(await woken).toBe(false);
  });

  it("a notification that arrives while the relay is busy is kept for its next wait", async () => {
    expect(await wakeup.announceSleep()).toBe("asleep");
    await ctx().deps.prisma.outboxEvent.create({ data: event() });
    expect(await wakeup.wait(10_000)).toBe(true);
  });

  it("a relay cannot announce sleep while an insert is committing (that insert skipped its notification)", async () => {
    const { config, schema } = ctx();
    const inserting = new pg.Client({ connectionString: config.DATABASE_URL, options: `-c search_path="${schema}"` });
    await inserting.connect();
    try {
      await inserting.query("BEGIN");
      await inserting.query(`INSERT INTO "OutboxEvent" (id, topic, payload, "jobId") VALUES (gen_random_uuid(), 'telephony/test', '{}', $1)`, [`job-${++jobs}`]);
      expect(await wakeup.announceSleep()).toBe("busy");
      await inserting.query("COMMIT");
      // Committed: the relay's next look finds the row, and from now on it may sleep.
      expect(await wakeup.announceSleep()).toBe("asleep");
    } finally {
      await inserting.end();
    }
  });

  it("a relay of another database on the same server is not taken for one of ours", async () => {
    const { config, schema } = ctx();
    // A relay in another database sleeping on the same schema name holds the same key there.
    const elsewhere = new URL(config.DATABASE_URL);
    elsewhere.pathname = "/postgres";
    const otherRelay = new pg.Client({ connectionString: elsewhere.toString() });
    const inserting = new pg.Client({ connectionString: config.DATABASE_URL, options: `-c search_path="${schema}"` });
    await Promise.all([otherRelay.connect(), inserting.connect()]);
    try {
      await otherRelay.query("SELECT pg_advisory_lock(1869903979, hashtext($1))", [schema]);
      await inserting.query("BEGIN");
      await inserting.query(`INSERT INTO "OutboxEvent" (id, topic, payload, "jobId") VALUES (gen_random_uuid(), 'telephony/test', '{}', $1)`, [`job-${++jobs}`]);
      // Our insert is committing, and no relay of ours sleeps: look again soon, do not wait for a notification.
      expect(await wakeup.announceSleep()).toBe("busy");
      await inserting.query("COMMIT");
    } finally {
      await Promise.all([otherRelay.end(), inserting.end()]);
    }
  });

  it("a second relay sees that one already sleeps, and hears the same notifications", async () => {
    const second = await listening();
    try {
      expect(await wakeup.announceSleep()).toBe("asleep");
      expect(await second.announceSleep()).toBe("another-relay-sleeps");
      const woken = second.wait(10_000);
      await ctx().deps.prisma.outboxEvent.create({ data: event() });
      expect(await woken).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("a rolled-back insert wakes nobody", async () => {
    expect(await wakeup.announceSleep()).toBe("asleep");
    const woken = wakeup.wait(QUIET_MS);
    await expect(
      ctx().deps.prisma.$transaction(async (tx) => {
        await tx.outboxEvent.create({ data: event() });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await woken).toBe(false);
  });

  it("an insert that skipped every row (a replay) wakes nobody", async () => {
    const jobId = `job-${++jobs}`;
    await ctx().deps.prisma.outboxEvent.create({ data: event(jobId) });
    expect(await wakeup.announceSleep()).toBe("asleep");
    const woken = wakeup.wait(QUIET_MS);
    await ctx().deps.prisma.outboxEvent.createMany({ data: [event(jobId)], skipDuplicates: true });
    expect(await woken).toBe(false);
  });

  it("an insert in another schema (another app sharing the database) does not wake this one", async () => {
    expect(await wakeup.announceSleep()).toBe("asleep");
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
