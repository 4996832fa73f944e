/**
 * A phone change (PATCH /v1/experts/:id {phone}) racing another writer of
 * the expert's row. The races are made deterministic with a gate: a separate
 * connection takes the row lock (and, for an admin's suspension, writes
 * while holding it), the racing requests start and are seen waiting on that
 * lock in pg_stat_activity, and only then does the gate commit.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExpertService } from "../../src/modules/experts/service.js";
import { handleInboundSms } from "../../src/modules/telephony/inbound.js";
import { useTestContext } from "../helpers/context.js";
import { makeExpert, makeShop, nextPhone, request, type TestShop } from "../helpers/factories.js";
import { invitesEnqueued } from "../helpers/invites.js";

const ctx = useTestContext();
/** Watches lock waits from outside every transaction under test. */
let observer: pg.Client;

beforeAll(async () => {
  observer = new pg.Client({ connectionString: ctx().config.DATABASE_URL });
  await observer.connect();
});

afterAll(async () => {
  await observer.end();
});

/** A transaction on its own connection that holds the expert's row lock until `commit`. */
async function lockExpertRow(expertId: string, write?: string) {
  const { config, schema } = ctx();
  const client = new pg.Client({ connectionString: config.DATABASE_URL, options: `-c search_path="${schema}"` });
  await client.connect();
  await client.query("BEGIN");
  await client.query(`SELECT id FROM "Expert" WHERE id = $1 FOR UPDATE`, [expertId]);
  if (write) await client.query(`UPDATE "Expert" SET ${write} WHERE id = $1`, [expertId]);
  const [row] = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows;
  return {
    pid: row!.pid,
    async commit() {
      await client.query("COMMIT");
      await client.end();
    },
  };
}

/**
 * Waits until `count` backends wait, directly or in a queue behind one
 * another, on the lock `holder` holds. Other test files share the server,
 * so only waits that lead back to `holder` count.
 */
async function waitForWaiters(holder: number, count: number) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const { rows } = await observer.query<{ pid: number; blockers: number[] }>(
      "SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0",
    );
    const waiting = new Set([holder]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const row of rows) {
        if (!waiting.has(row.pid) && row.blockers.some((pid) => waiting.has(pid))) {
          waiting.add(row.pid);
          grew = true;
        }
      }
    }
    if (waiting.size - 1 >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} transactions ever waited on the row lock`);
}

const invitesOf = (expertId: string) => invitesEnqueued(ctx().deps.prisma, expertId);

function changePhone(shop: TestShop, expertId: string, phone: string) {
  return request(ctx().app, shop, { method: "PATCH", url: `/v1/experts/${expertId}`, payload: { phone } });
}

describe("a phone change waiting on an admin's suspension", () => {
  it.each(["active", "invited"] as const)("keeps an %s expert suspended, and invites the new number only on reinstatement", async (start) => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    if (start === "active") await createExpertService(deps).verifyPhone(expert.id);

    const suspension = await lockExpertRow(expert.id, `status = 'suspended', "suspendedAt" = now()`);
    const newPhone = nextPhone();
    const patch = changePhone(shop, expert.id, newPhone);
    await waitForWaiters(suspension.pid, 1);
    await suspension.commit();
    const patched = await patch;

    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ phone: newPhone, status: "suspended", phoneVerifiedAt: null });
    const row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row).toMatchObject({ phone: newPhone, status: "suspended", phoneVerifiedAt: null, inviteCount: 1 });
    expect(row.suspendedAt).not.toBeNull();
    expect(await invitesOf(expert.id)).toEqual([1]); // no invite while suspended

    // The new number was never verified: reinstatement invites it.
    const reinstated = await request(app, shop, { method: "POST", url: `/v1/experts/${expert.id}/reinstate` });
    expect(reinstated.json()).toMatchObject({ status: "invited", phone: newPhone });
    expect(await invitesOf(expert.id)).toEqual([1, 2]);
  });
});

describe("a YES from the old phone racing a phone change", () => {
  async function setUp() {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const line = nextPhone();
    await deps.prisma.phoneNumber.create({ data: { e164: line, purpose: "expert_line", shopId: shop.id } });
    const expert = await makeExpert(app, shop);
    const yes = await deps.prisma.message.create({
      data: { shopId: shop.id, direction: "inbound", purpose: "inbound", from: expert.phone, to: line, body: "YES", status: "received" },
    });
    return { shop, expert, handleYes: () => handleInboundSms(deps, yes.id) };
  }

  /** Either order ends the same: the new number unverified, the expert invited, and an invite for it queued. */
  async function expectNewNumberInvited(expertId: string, newPhone: string) {
    const row = await ctx().deps.prisma.expert.findUniqueOrThrow({ where: { id: expertId } });
    expect(row).toMatchObject({ phone: newPhone, status: "invited", phoneVerifiedAt: null, inviteCount: 2 });
    expect(await invitesOf(expertId)).toEqual([1, 2]);
  }

  it("YES first: the expert joins, then the new number sends them back to invited with an invite", async () => {
    const { shop, expert, handleYes } = await setUp();
    const gate = await lockExpertRow(expert.id);
    const yes = handleYes();
    await waitForWaiters(gate.pid, 1);
    const newPhone = nextPhone();
    const patch = changePhone(shop, expert.id, newPhone);
    await waitForWaiters(gate.pid, 2);
    await gate.commit();
    await yes;
    expect((await patch).statusCode).toBe(200);
    await expectNewNumberInvited(expert.id, newPhone);
  });

  it("change first: the YES from the old number no longer finds the expert", async () => {
    const { shop, expert, handleYes } = await setUp();
    const gate = await lockExpertRow(expert.id);
    const newPhone = nextPhone();
    const patch = changePhone(shop, expert.id, newPhone);
    await waitForWaiters(gate.pid, 1);
    const yes = handleYes();
    await waitForWaiters(gate.pid, 2);
    await gate.commit();
    expect((await patch).statusCode).toBe(200);
    await yes;
    await expectNewNumberInvited(expert.id, newPhone);
  });
});
