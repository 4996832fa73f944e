/**
 * A worker killed (SIGKILL) in the middle of routing, and another started:
 * nothing lost, nothing sent twice. The workers run in child processes on
 * this file's schema and queue prefix (test/process/fixtures/worker-in-schema.ts);
 * the app and the Twilio sandbox stay in this process. In the first test one
 * kill lands while questions are routed and offers sent, another while
 * experts' acceptances open sessions and tell the losers; in the second, the
 * same job loses two workers in a row.
 */
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { lostNoticeKey } from "../../src/modules/routing/offers.js";
import { SENDING_LEASE_MS } from "../../src/modules/telephony/send-claims.js";
import { makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { entryPointEnv, startEntryPoint, type StartedEntryPoint } from "../helpers/processes.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext({}, { workers: false });

const QUESTIONS = 20;
const FANOUT = 2;
const ACCEPTED = 10;
/**
 * The children's job lock: a killed worker's running jobs run again seconds
 * later, not 30 s. Not much shorter: a live worker on a busy machine must
 * still renew its locks in time.
 */
const JOB_LOCK_MS = 4_000;
const ALREADY_TAKEN = "Already taken, thanks!";

const started: StartedEntryPoint[] = [];
let queues: Queue[] = [];
let connection: ReturnType<typeof createRedis>;

beforeAll(() => {
  const { deps } = ctx();
  connection = createRedis(deps.config.REDIS_URL, "worker");
  queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: deps.queuePrefix }));
});

afterEach(async () => {
  // No worker of a test outlives it, whatever failed (and none is left when the context drops the schema).
  for (const child of started) child.kill("SIGKILL");
  await Promise.all(started.splice(0).map((child) => child.exit));
});

afterAll(async () => {
  await Promise.all(queues.map((queue) => queue.close()));
  await connection.quit();
});

const queue = (name: string) => queues.find((candidate) => candidate.name === name)!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** src/worker.ts's workers in a process of their own, on this file's world; resolves once they run. */
async function startWorker(): Promise<StartedEntryPoint> {
  const { config, deps, schema, sandboxUrl } = ctx();
  const child = startEntryPoint(
    "test/process/fixtures/worker-in-schema.ts",
    entryPointEnv({
      TEST_DB_SCHEMA: schema,
      TEST_QUEUE_PREFIX: deps.queuePrefix,
      // This file's Redis database and sandbox, not the entry-point tests' defaults.
      REDIS_URL: config.REDIS_URL,
      TWILIO_API_BASE_URL: sandboxUrl,
      SMS_MESSAGES_PER_SECOND: "100",
      JOB_LOCK_MS: String(JOB_LOCK_MS),
      JOB_STALLED_INTERVAL_MS: "1000",
    }),
  );
  started.push(child);
  await child.waitFor(/workers started/);
  return child;
}

async function killHard(child: StartedEntryPoint): Promise<void> {
  child.kill("SIGKILL");
  expect(await child.exit).toBeNull(); // ended by the signal: nothing of it ran on
}

async function until(what: string, condition: () => Promise<boolean>, { timeoutMs = 20_000, everyMs = 5 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(everyMs);
  }
}

/** Jobs some worker holds right now: what a kill interrupts. */
async function activeJobs(): Promise<number> {
  let active = 0;
  for (const each of queues) active += await each.getActiveCount();
  return active;
}

/**
 * A send the dead worker had claimed but not handed to Twilio is sent again
 * once its claim's lease (2 min) has run out. Rather than wait, the claim is
 * aged past the lease and the send job, waiting for it, runs now. Returns how
 * many there were.
 */
async function outliveDeadSendClaims(): Promise<number> {
  const { deps, settle } = ctx();
  const claims = await deps.prisma.message.findMany({ where: { direction: "outbound", status: "sending", twilioSid: null }, select: { id: true } });
  if (claims.length === 0) return 0;
  const ids = claims.map((claim) => claim.id);
  await deps.prisma.message.updateMany({ where: { id: { in: ids } }, data: { sendingClaimedAt: new Date(Date.now() - SENDING_LEASE_MS - 1_000) } });
  const waiting = await queue(QUEUES.telephony).getJobs(["delayed"]);
  const promoted = waiting.filter((job) => ids.includes((job.data as { messageId?: string }).messageId ?? ""));
  expect(promoted).toHaveLength(ids.length); // each dead claim still has a send job
  for (const job of promoted) await job.promote();
  await settle();
  return claims.length;
}

/** Settled, with every outbound text handed to Twilio and its callbacks in. */
async function settleEverything(): Promise<number> {
  const { deps, settle } = ctx();
  await settle();
  const takenOver = await outliveDeadSendClaims();
  await until("every message is sent", async () => (await deps.prisma.message.count({ where: { direction: "outbound", twilioSid: null } })) === 0, { timeoutMs: 10_000, everyMs: 50 });
  return takenOver;
}

async function ask(shop: TestShop, productId: string, index: number) {
  const customer = nextPhone();
  const response = await ctx().app.inject({
    method: "POST",
    url: "/v1/questions",
    headers: shop.headers,
    payload: { text: `Question ${index}: which yeast for a saison?`, customer: { phone: customer, name: `Sam${index}` }, productId },
  });
  expect(response.statusCode, response.body).toBe(201);
  return { questionId: response.json<{ id: string }>().id, customer };
}

describe("a worker killed mid-routing", () => {
  it("loses nothing and sends nothing twice across two kills and restarts", async () => {
    const { app, deps, sandbox, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, {
      pool: { offerPolicy: { mode: "broadcast", fanout: FANOUT, timeoutSeconds: 600 } },
      // Room for every session an expert may win here: the cap is another test's story.
      experts: ["Ann", "Bob", "Cat", "Dev", "Eve", "Fay"].map((name) => ({ name, maxConcurrentSessions: ACCEPTED })),
    });
    const line = await expertLine(deps, shop.id);
    const offerCount = () => deps.prisma.offer.count({ where: { question: { shopId: shop.id } } });

    // 1. Questions arrive a few at a time while worker A routes them; A dies with some offers out.
    let worker = await startWorker();
    const asked: { questionId: string; customer: string }[] = [];
    const asking = (async () => {
      for (let index = 0; index < QUESTIONS; index++) {
        asked.push(await ask(shop, product.id, index));
        await sleep(20);
      }
    })();
    await until("some offers exist", async () => (await offerCount()) >= 6);
    await killHard(worker);
    const offersAtFirstKill = await offerCount();
    const activeAtFirstKill = await activeJobs();
    expect(offersAtFirstKill).toBeLessThan(QUESTIONS * FANOUT);

    // Worker B starts while questions still arrive: it takes the dead worker's jobs once their locks run out.
    const starting = startWorker();
    await asking;
    worker = await starting;
    await until("every question has its offers", async () => (await offerCount()) >= QUESTIONS * FANOUT, { everyMs: 50 });
    const claimsTakenOverFirst = await settleEverything();
    const questionIds = asked.map((question) => question.questionId);
    const offered = await deps.prisma.offer.findMany({ where: { questionId: { in: questionIds } }, include: { expert: true }, orderBy: { id: "asc" } });
    for (const questionId of questionIds) {
      const offers = offered.filter((offer) => offer.questionId === questionId);
      expect(offers.map((offer) => offer.status), questionId).toEqual(["pending", "pending"]);
      expect(new Set(offers.map((offer) => offer.expertId)).size, questionId).toBe(FANOUT);
    }

    // 2. Both offered experts of ten questions say YES; B dies while sessions open.
    const contested = questionIds.slice(0, ACCEPTED);
    const replies = offered.filter((offer) => contested.includes(offer.questionId));
    const sessionCount = () => deps.prisma.session.count({ where: { questionId: { in: contested } } });
    const replying = (async () => {
      for (const offer of replies) {
        await sandbox.messaging.receive(offer.expert.phone, line, `YES ${offer.code}`);
        await sleep(10);
      }
    })();
    await until("some sessions exist", async () => (await sessionCount()) >= 2);
    await killHard(worker);
    const sessionsAtSecondKill = await sessionCount();
    const activeAtSecondKill = await activeJobs();
    expect(sessionsAtSecondKill).toBeLessThan(ACCEPTED);

    const restarting = startWorker();
    await replying;
    worker = await restarting;
    const startedSessions = () => deps.prisma.session.count({ where: { questionId: { in: contested }, status: "active" } });
    await until("every contested question has a started session", async () => (await startedSessions()) >= ACCEPTED, { everyMs: 50 });
    const claimsTakenOverSecond = await settleEverything();

    // Nothing lost: each question has its policy's offers, or one winner and one session.
    const offers = await deps.prisma.offer.findMany({ where: { questionId: { in: questionIds } }, orderBy: { id: "asc" } });
    const sessions = await deps.prisma.session.findMany({ where: { questionId: { in: questionIds } } });
    for (const questionId of questionIds) {
      const mine = offers.filter((offer) => offer.questionId === questionId);
      const theirs = sessions.filter((session) => session.questionId === questionId);
      if (contested.includes(questionId)) {
        expect(mine.map((offer) => offer.status).sort(), questionId).toEqual(["accepted", "lost"]);
        const winner = mine.find((offer) => offer.status === "accepted")!;
        expect(theirs.map((session) => [session.offerId, session.status]), questionId).toEqual([[winner.id, "active"]]);
      } else {
        expect(mine.map((offer) => offer.status), questionId).toEqual(["pending", "pending"]);
        expect(theirs, questionId).toEqual([]);
      }
    }
    expect(offers).toHaveLength(QUESTIONS * FANOUT);

    // Nothing twice, by our rows: one offer text per offer, one "Already taken" per lost offer, two intros per session.
    const outbound = await deps.prisma.message.findMany({ where: { direction: "outbound" } });
    const withKey = (key: string) => outbound.filter((message) => message.dedupeKey === key);
    for (const offer of offers) {
      expect(withKey(`offer:${offer.id}`), offer.id).toHaveLength(1);
      expect(withKey(lostNoticeKey(offer.id)), offer.id).toHaveLength(offer.status === "lost" ? 1 : 0);
    }
    for (const session of sessions) {
      expect(withKey(`session-intro-expert:${session.id}`), session.id).toHaveLength(1);
      expect(withKey(`session-intro-customer:${session.id}`), session.id).toHaveLength(1);
    }
    // A status link per question, an offer per offer, a notice per loser, two intros per session: nothing else.
    expect(outbound).toHaveLength(QUESTIONS + QUESTIONS * FANOUT + ACCEPTED + 2 * ACCEPTED);
    expect(outbound.filter((message) => message.status !== "delivered")).toEqual([]);
    // Each YES was taken in once.
    expect(await deps.prisma.message.count({ where: { direction: "inbound" } })).toBe(replies.length);

    // Nothing twice, by Twilio's log: each send is one of our rows, and no phone got the same text twice
    // (but "Already taken", which a phone rightly gets once for each offer it lost).
    const sent = [...sandbox.state.messages.values()].filter((message) => message.direction === "outbound-api");
    expect(sent.map((message) => message.sid).sort()).toEqual(outbound.map((message) => message.twilioSid).sort());
    const copies = new Map<string, number>();
    for (const message of sent) copies.set(`${message.to} ${message.body}`, (copies.get(`${message.to} ${message.body}`) ?? 0) + 1);
    expect([...copies].filter(([key, count]) => count > 1 && !key.endsWith(ALREADY_TAKEN))).toEqual([]);
    for (const expert of experts) {
      const lost = offers.filter((offer) => offer.expertId === expert.id && offer.status === "lost").length;
      expect(inbox(expert.phone).filter((body) => body === ALREADY_TAKEN), expert.id).toHaveLength(lost);
    }
    for (const { customer } of asked) expect(inbox(customer).filter((body) => body.startsWith("Hi Sam")), customer).toHaveLength(1);
    expect(sandbox.state.contractViolations).toEqual([]);

    // The last worker stops cleanly; none is left behind.
    worker.kill("SIGTERM");
    expect(await worker.exit).toBe(0);
    const owned = [...sandbox.state.numbers.keys()];
    const recorded = await deps.prisma.phoneNumber.count({ where: { e164: { in: owned } } });
    console.log(
      `worker-crash: 1st kill at ${offersAtFirstKill}/${QUESTIONS * FANOUT} offers, ${activeAtFirstKill} jobs running, ${claimsTakenOverFirst} SMS claims taken over; ` +
        `2nd kill at ${sessionsAtSecondKill}/${ACCEPTED} sessions, ${activeAtSecondKill} jobs running, ${claimsTakenOverSecond} SMS claims taken over; ` +
        `numbers bought ${owned.length}, recorded ${recorded}`,
    );
  }, 60_000);

  it("a job whose worker dies twice under it still runs once a third worker takes it", async () => {
    const { app, deps, settle } = ctx();
    const shop = await makeShop(app);
    const { product } = await makeRoutingWorld(app, deps, shop);
    await expertLine(deps, shop.id);
    const { questionId } = await ask(shop, product.id, 0);
    const routing = queue(QUEUES.routing);
    const routeJob = async () => {
      const job = await routing.getJob(`route-${questionId}-opened`);
      return { state: job ? await job.getState() : "missing", stalls: job?.stalledCounter ?? 0 };
    };
    /** Kills the worker running the job, and waits until the only live worker, `next`, runs it again. */
    const handOver = async (dead: StartedEntryPoint, next: string) => {
      const before = await routeJob();
      expect(before.state).toBe("active");
      await killHard(dead);
      await until(`${next} runs the job again`, async () => {
        const now = await routeJob();
        return now.state === "active" && now.stalls > before.stalls;
      }, { everyMs: 50 });
    };

    // The question's row is held, so every worker that takes its routing job waits inside it until killed.
    const holder = await deps.sql.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT id FROM "Question" WHERE id = $1 FOR UPDATE`, [questionId]);
      const first = await startWorker();
      await until("the first worker runs the job", async () => (await routeJob()).state === "active", { everyMs: 50 });
      const second = await startWorker();
      await handOver(first, "the second worker");
      const third = await startWorker();
      // BullMQ's default (maxStalledCount 1) fails the job here, and the question waits for nobody.
      await handOver(second, "the third worker");
      await holder.query("COMMIT");
      await until("the question is offered", async () => (await deps.prisma.offer.count({ where: { questionId } })) === 1, { everyMs: 50 });
      await settle();
      const [offer] = await deps.prisma.offer.findMany({ where: { questionId } });
      expect(await deps.prisma.message.count({ where: { dedupeKey: `offer:${offer!.id}` } })).toBe(1);
      const done = await routeJob();
      expect(done.state).toBe("completed");
      expect(done.stalls).toBeGreaterThanOrEqual(2);
      third.kill("SIGTERM");
      expect(await third.exit).toBe(0);
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      holder.release();
    }
  }, 60_000);
});
