/**
 * Exactly one winner, whatever the timing, and nothing twice, whatever is
 * replayed: two experts' YES at the same instant (50 times), a YES racing
 * the offer's timeout, a replayed webhook, and every job of a finished
 * question run again as after a crash or a Redis that lost its state.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { SWEEP_ROUTING } from "../../src/modules/routing/sweep.js";
import { makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { makeRoutingWorld } from "../helpers/routing.js";
import { signedTwilioWebhook } from "../helpers/signed-webhook.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let queues: Queue[];
let connection: ReturnType<typeof createRedis>;

beforeAll(() => {
  const { deps } = ctx();
  connection = createRedis(deps.config.REDIS_URL, "worker");
  queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: deps.queuePrefix }));
});
afterAll(async () => {
  await Promise.all(queues.map((queue) => queue.close()));
  await connection.quit();
});

const CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;
const codeIn = (body: string | undefined) => CODE.exec(body ?? "")?.[1] ?? "";

async function ask(shop: TestShop, productId: string) {
  const { app, settle } = ctx();
  const response = await app.inject({
    method: "POST",
    url: "/v1/questions",
    headers: shop.headers,
    payload: { text: "Which yeast for a saison?", customer: { phone: nextPhone(), name: "Sam" }, productId },
  });
  expect(response.statusCode, response.body).toBe(201);
  await settle();
  return response.json<{ id: string }>().id;
}

describe("two experts say YES at the same instant", () => {
  it("opens exactly one session for each of 50 questions; the other expert hears it is taken", async () => {
    const { app, deps, sandbox, settle, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, {
      pool: { offerPolicy: { mode: "broadcast", fanout: 2, timeoutSeconds: 600 } },
      experts: [{ name: "Ann" }, { name: "Bob" }],
    });
    // 50 questions, each offered to both experts; room for every conversation either may win.
    await deps.prisma.expert.updateMany({ where: { id: { in: experts.map((expert) => expert.id) } }, data: { maxConcurrentSessions: 100 } });
    const questionIds: string[] = [];
    for (let round = 0; round < 50; round++) questionIds.push(await ask(shop, product.id));
    const line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
    const offers = await deps.prisma.offer.findMany({ where: { questionId: { in: questionIds } }, include: { expert: true } });
    expect(offers).toHaveLength(100);
    // Both YES of a question go out together; all 50 pairs at once, so the worker handles them side by side.
    await Promise.all(offers.map((offer) => sandbox.messaging.receive(offer.expert.phone, line, `YES ${offer.code}`)));
    await settle();

    const winners = { Ann: 0, Bob: 0 };
    for (const questionId of questionIds) {
      const after = await deps.prisma.offer.findMany({ where: { questionId }, include: { expert: true } });
      expect(after.map((offer) => offer.status).sort(), questionId).toEqual(["accepted", "lost"]);
      expect(await deps.prisma.session.count({ where: { questionId } }), questionId).toBe(1);
      winners[after.find((offer) => offer.status === "accepted")!.expert.name as "Ann" | "Bob"]++;
    }
    expect(winners.Ann + winners.Bob).toBe(50);
    // Each loser heard "Already taken" once per question lost, never more.
    for (const [index, expert] of experts.entries()) {
      const lost = 50 - winners[index === 0 ? "Ann" : "Bob"];
      expect(inbox(expert.phone).filter((body) => body === "Already taken, thanks!")).toHaveLength(lost);
    }
  }, 120_000);
});

describe("a YES racing the offer's timeout", () => {
  it("either the session opens or the offer expires and moves on; never both", async () => {
    const { app, deps, sandbox, settle, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Tia", skills: [{ tag: "all-grain", level: 5 }] }, { name: "Uma" }] });
    const maintenance = queues.find((queue) => queue.name === QUEUES.maintenance)!;
    for (let round = 0; round < 10; round++) {
      const questionId = await ask(shop, product.id);
      const line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
      const first = await deps.prisma.offer.findFirstOrThrow({ where: { questionId }, include: { expert: true } });
      await deps.prisma.offer.update({ where: { id: first.id }, data: { expiresAt: new Date(Date.now() - 6_000) } });
      await Promise.all([sandbox.messaging.receive(first.expert.phone, line, `YES ${first.code}`), maintenance.add(SWEEP_ROUTING, {})]);
      await settle();
      const after = await deps.prisma.offer.findUniqueOrThrow({ where: { id: first.id } });
      const sessions = await deps.prisma.session.findMany({ where: { questionId } });
      if (after.status === "accepted") {
        expect(sessions.map((session) => session.offerId)).toEqual([first.id]);
      } else {
        expect(after.status).toBe("expired");
        expect(inbox(first.expert.phone).at(-1)).toBe("Sorry, that one timed out. We'll text you the next one.");
        expect(sessions.every((session) => session.offerId !== first.id)).toBe(true);
      }
      await deps.prisma.session.updateMany({ where: { questionId }, data: { status: "ended", endedAt: new Date() } });
      await deps.prisma.offer.updateMany({ where: { questionId, status: "pending" }, data: { status: "cancelled" } });
      await deps.prisma.question.updateMany({ where: { id: questionId, status: { in: ["routing", "offered"] } }, data: { status: "cancelled" } });
      // Three expiries in a row would pause Tia: that is another test's story.
      await deps.prisma.expert.updateMany({ where: { id: { in: experts.map((expert) => expert.id) } }, data: { missedOffersInRow: 0, paused: false } });
    }
  }, 60_000);
});

describe("replays", () => {
  it("a replayed YES webhook answers once and opens one session", async () => {
    const { app, deps, settle, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop);
    const questionId = await ask(shop, product.id);
    const line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
    const expert = experts[0]!;
    const webhook = signedTwilioWebhook("/twilio/sms", {
      MessageSid: `SM${"ab".repeat(16)}`,
      From: expert.phone,
      To: line,
      Body: `YES ${codeIn(inbox(expert.phone).at(-1))}`,
    });
    for (let delivery = 0; delivery < 3; delivery++) expect((await app.inject(webhook)).statusCode).toBe(200);
    await settle();
    expect(await deps.prisma.session.count({ where: { questionId } })).toBe(1);
    expect(await deps.prisma.message.count({ where: { direction: "inbound", from: expert.phone, to: line } })).toBe(1);
  });

  it("every job of an SMS question and its follow-up run again: the question is not opened or lengthened twice", async () => {
    const { app, deps, sandbox, settle, inbox } = ctx();
    const shop = await makeShop(app);
    await makeRoutingWorld(app, deps, shop, { product: { name: "Kettle", aliases: ["kettle"] } });
    await ask(shop, (await deps.prisma.product.findFirstOrThrow({ where: { shopId: shop.id } })).id);
    const line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
    const customer = nextPhone();
    await sandbox.messaging.receive(customer, line, "My kettle hums");
    await settle();
    await sandbox.messaging.receive(customer, line, "Only on high heat");
    await settle();
    const before = { body: (await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: customer } })).body, texts: inbox(customer).length };
    expect(before.body).toBe("My kettle hums\nOnly on high heat");

    for (const queue of queues) await queue.clean(0, 10_000, "completed");
    await deps.prisma.outboxEvent.updateMany({ data: { publishedAt: null } });
    await settle();
    expect(await deps.prisma.question.count({ where: { customerPhone: customer } })).toBe(1);
    expect((await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: customer } })).body).toBe(before.body);
    expect(inbox(customer)).toHaveLength(before.texts);
  });

  it("every job of a routed, accepted question run again (a crash, Redis lost): nothing new is sent or opened", async () => {
    const { app, deps, sandbox, settle } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, {
      pool: { offerPolicy: { mode: "broadcast", fanout: 2, timeoutSeconds: 600 } },
      experts: [{ name: "Kim" }, { name: "Lee" }, { name: "Max" }],
    });
    const questionId = await ask(shop, product.id);
    const line = (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
    const offered = await deps.prisma.offer.findMany({ where: { questionId }, include: { expert: true } });
    await sandbox.messaging.receive(offered[0]!.expert.phone, line, `NO ${offered[0]!.code}`);
    await settle();
    const next = await deps.prisma.offer.findFirstOrThrow({ where: { questionId, status: "pending", expertId: { not: offered[1]!.expertId } }, include: { expert: true } });
    await sandbox.messaging.receive(next.expert.phone, line, `YES ${next.code}`);
    await settle();

    const snapshot = async () => ({
      messages: await deps.prisma.message.count(),
      offers: await deps.prisma.offer.findMany({ where: { questionId }, select: { id: true, status: true }, orderBy: { id: "asc" } }),
      sessions: await deps.prisma.session.count({ where: { questionId } }),
      sent: sandbox.state.messages.size,
    });
    const before = await snapshot();
    expect(before.sessions).toBe(1);
    expect(experts).toHaveLength(3);

    // Every job, again: completed jobs forgotten and every outbox row handed back to the relay.
    for (const queue of queues) await queue.clean(0, 10_000, "completed");
    await deps.prisma.outboxEvent.updateMany({ data: { publishedAt: null } });
    await settle();
    expect(await snapshot()).toEqual(before);
  });
});
