/**
 * Flow benchmark: the two waits people feel, through the real app, its
 * workers and the Twilio sandbox in this process, against the real
 * PostgreSQL and Redis on 127.0.0.1. It prints figures only; it never fails
 * on timings. See bench/README.md.
 *
 *   npm run bench -- flow
 *   BENCH_FLOW_RATE=20 BENCH_FLOW_SECONDS=10 BENCH_FLOW_SMS_PER_SECOND=100 npm run bench -- flow
 *
 * 0. limit: the bare Fastify route doing one INSERT (bench/limit.ts), before
 *    everything and again at the end, with the app closed.
 * 1. Question -> offer: POST /v1/questions at a steady rate, open loop (each
 *    request leaves at its scheduled time whether or not earlier ones have
 *    answered), for one product covered by one pool of ready experts. The
 *    latency runs from sending the request to the offer SMS landing on the
 *    chosen expert's simulated phone.
 * 2. Sessions: the experts of the warm-up's offers text "YES <code>" to the
 *    expert line at once, and the sessions start through the real flow
 *    (proxy numbers bought, intros texted).
 * 3. Relay: the customers text their proxy numbers at a steady rate; the
 *    latency runs from the text leaving the customer's phone to the relayed
 *    text landing on the expert's phone.
 * They run as warm-up, 2, 3, then 1, so the question phase's backlog (if
 * any) cannot distort the relay. Each arrival is seen by a hook on the
 * sandbox's inboxes (no polling); each latency is split into stages from the
 * stamps on the rows, and the app's pg pool, its connections' activity and
 * the queues are sampled to show where a backlog forms.
 */
import "../test/helpers/no-network.js"; // any connection off 127.0.0.1 throws
import { randomBytes } from "node:crypto";
import os from "node:os";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import pg from "pg";
import { buildApp, type App } from "../src/app.js";
import { createRedis, type Deps } from "../src/deps.js";
import { QUEUES } from "../src/jobs/define.js";
import { createNumberService } from "../src/modules/telephony/numbers.js";
import type { TwilioSandbox } from "../src/sandbox/twilio/server.js";
import type { PhoneMessage } from "../src/sandbox/twilio/state.js";
import { startWorkers, type RunningWorkers } from "../src/workers.js";
import { testConfig } from "../test/helpers/config.js";
import {
  boundedInt,
  fixed,
  limitBaseline,
  limitResults,
  loadExitCode,
  loadSettings,
  percentile,
  postJson,
  printLoadResults,
  printReportHeading,
  printTable,
  ratio,
  runBounded,
  sleep,
  sorted,
  timeBudget,
} from "./common.js";
import { closeInOrder, createBenchShop, listenLocal, prepareBench, startTwilioSandbox, usPhones, type PreparedBench } from "./setup.js";

const startedAt = Date.now();
const loadAtStart = os.loadavg().map((value) => value.toFixed(1)).join(" ");
/** No new question or relayed text starts after this. */
const FLOW_DEADLINE = startedAt + 80_000;
/** The limit runs until BUDGET.loadDeadline; the flows stop earlier, at FLOW_DEADLINE. */
const BUDGET = timeBudget(startedAt);

const SETTINGS = loadSettings();
/** Questions per second, and for how long (issue 7: a steady 50/s). */
const RATE = boundedInt("BENCH_FLOW_RATE", 50, 1, 500);
const SECONDS = boundedInt("BENCH_FLOW_SECONDS", 20, 1, 40);
const EXPERTS = boundedInt("BENCH_FLOW_EXPERTS", 200, 1, 5_000);
/**
 * The per-sender throughput limit (SMS_MESSAGES_PER_SECOND). Every question
 * makes its shop's expert line send two texts, the customer's "we got your
 * question" and the expert's offer, so 50 questions/s is 100 messages/s from
 * one number: far past a long code's 1/s, a short code's 100/s exactly. 200
 * leaves the line headroom, so the figure is the app's and not the cap's.
 */
const SMS_PER_SECOND = boundedInt("BENCH_FLOW_SMS_PER_SECOND", 200, 1, 1_000);
/** The app's pg pool (DATABASE_POOL_SIZE, default 10), and the limit's with it: to see how far a bigger pool moves the figures. */
const POOL_SIZE = boundedInt("BENCH_FLOW_POOL_SIZE", 10, 1, 200);
const SESSIONS = boundedInt("BENCH_FLOW_SESSIONS", 50, 1, 500);
const RELAY_RATE = boundedInt("BENCH_FLOW_RELAY_RATE", 25, 1, 500);
const RELAY_SECONDS = boundedInt("BENCH_FLOW_RELAY_SECONDS", 10, 1, 30);
/** Unmeasured questions first, at the full rate (JIT, connection pools, prepared statements). */
const WARMUP_SECONDS = 1;
/** After the last send, how long arrivals are waited for before they count as missing. */
const DRAIN_MS = 8_000;
/** How often the pool and the queues are sampled for the timeline. */
const SAMPLE_EVERY_MS = 200;
/** A new customer's daily cap far above the run's questions (the shop's default is 200 a day). */
const NEW_CUSTOMER_CAP = 1_000_000;
/** 50 questions/s is 3,000 a minute: the shop-wide ceiling (default 120/min) must allow it. */
const SHOP_PER_MINUTE = 100_000;
/** Issue 7's goal for question -> offer at 50 questions/s. */
const GOAL_P50_MS = 50;
const GOAL_P99_MS = 150;

const QUESTION_TOKEN = /#q(\d+)\b/;
const RELAY_TOKEN = /#r(\d+)\b/;
const OFFER_CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;

const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length);

// ---------------------------------------------------------------- setup

interface World {
  deps: Deps;
  baseUrl: string;
  sandbox: TwilioSandbox;
  shop: { id: string; key: string };
  productId: string;
  /** The shop's expert line: sends the offers, receives the YES. */
  line: string;
}

/**
 * A shop, one product, one pool covering it and `EXPERTS` ready members.
 * Joining and vetting have their own tests: the experts are written straight
 * to the rows (active, approved, verified), as test/helpers/routing.ts does,
 * with room for several sessions each.
 */
async function setUpShop(deps: Deps, baseUrl: string): Promise<Omit<World, "deps" | "baseUrl" | "sandbox">> {
  const shop = await createBenchShop(baseUrl);
  await deps.prisma.shop.update({ where: { id: shop.id }, data: { dailyNewCustomerCap: NEW_CUSTOMER_CAP } });
  const product = await postJson<{ id: string }>(baseUrl, "/v1/products", shop.key, { sku: "BENCH-G30", name: "Grainfather G30", tags: ["all-grain"] });
  const pool = await postJson<{ id: string }>(baseUrl, "/v1/pools", shop.key, {
    name: "Grainfather brewers",
    tags: ["all-grain"],
    productIds: [product.id],
    pricing: { mode: "per_session", amountMinor: 1500, platformFeeBps: 2000 },
    // Longer than the run: no offer times out into a second routing step while it is measured.
    offerPolicy: { mode: "sequential", timeoutSeconds: 600, fanout: 1 },
  });
  const now = new Date();
  const experts = await deps.prisma.expert.createManyAndReturn({
    data: usPhones("415", EXPERTS, 5000).map((phone, i) => ({
      shopId: shop.id,
      phone,
      name: `Dan${i} Brewer`,
      timeZone: "UTC",
      status: "active" as const,
      vettingStatus: "approved" as const,
      vettedAt: now,
      phoneVerifiedAt: now,
      maxConcurrentSessions: 10,
    })),
    select: { id: true },
  });
  await deps.prisma.expertSkill.createMany({ data: experts.map(({ id }, i) => ({ expertId: id, tag: "all-grain", level: (i % 5) + 1 })) });
  await deps.prisma.poolMember.createMany({ data: experts.map(({ id }) => ({ poolId: pool.id, expertId: id })) });
  // Bought now, as the first question would: that purchase is not what this measures.
  const line = await createNumberService(deps).ensureExpertLine(shop.id);
  return { shop, productId: product.id, line: line.e164 };
}

/**
 * Calls `onReceived` the moment a message lands in a simulated phone's inbox.
 * The sandbox's own change hook (state.onChange) says that something changed
 * but not what, so the inbox write itself is wrapped: no polling, and the
 * instant is the delivery's own.
 */
function watchInboxes(sandbox: TwilioSandbox, onReceived: (phone: string, message: PhoneMessage, at: number) => void): void {
  const { state } = sandbox;
  const addPhoneMessage = state.addPhoneMessage.bind(state);
  state.addPhoneMessage = (phone, message) => {
    addPhoneMessage(phone, message);
    if (message.direction === "received") onReceived(phone.number, message, performance.now());
  };
}

/**
 * Counts the statements the app sends to PostgreSQL (Prisma's and the raw
 * ones, BEGIN and COMMIT included): every client the app's pool opens from
 * now on gets its query method wrapped. Call it before the app's first query.
 */
function countStatements(pool: pg.Pool): () => number {
  let count = 0;
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      count += 1;
      return query(...args);
    };
  });
  return () => count;
}

/** What the app was waiting on at one instant: the pg pool and the queues' backlogs. */
interface Sample {
  wall: number;
  /** Queries waiting for a connection of the app's pg pool, and connections in use. */
  poolWaiting: number;
  poolBusy: number;
  /** Jobs waiting (not yet picked up) per queue, and delayed (e.g. for a sender's throughput slot) in telephony. */
  routing: number;
  telephony: number;
  telephonyDelayed: number;
  sessions: number;
}

/**
 * What the app's PostgreSQL connections are doing, from pg_stat_activity
 * (they carry the run's application_name): running, waiting on a lock, or
 * "idle in transaction" (the transaction is open while Node works or waits).
 */
const ACTIVITY_SQL = `
  SELECT state, wait_event_type AS "waitType", wait_event AS "wait", query
  FROM pg_stat_activity WHERE application_name = $1 AND state IS DISTINCT FROM 'idle'`;

/** A query's first words, without the schema qualifier Prisma puts on every table. */
function queryLabel(query: string, schema: string): string {
  const words = query.replaceAll(`"${schema}".`, "").replace(/\s+/g, " ").trim();
  return words.length > 110 ? `${words.slice(0, 109)}…` : words;
}

/**
 * Samples the app's pg pool, its connections' activity and the queues every
 * `everyMs`, from outside the app: the pool's counters cost nothing, the
 * rest is one query on a connection of the bench's own and a few Redis calls.
 * This is what says where a backlog forms when the figures climb.
 */
function startSampler(deps: Deps, options: { everyMs: number; applicationName: string; schema: string; databaseUrl: string }) {
  const { everyMs } = options;
  const activity = new Map<string, number>();
  let activitySamples = 0;
  const client = new pg.Client({ connectionString: options.databaseUrl });
  const clientReady = client.connect();
  const connection: Redis = createRedis(deps.config.REDIS_URL, "worker", `${deps.queuePrefix}-bench-sampler`);
  const queues = {
    routing: new Queue(QUEUES.routing, { connection, prefix: deps.queuePrefix }),
    telephony: new Queue(QUEUES.telephony, { connection, prefix: deps.queuePrefix }),
    sessions: new Queue(QUEUES.sessions, { connection, prefix: deps.queuePrefix }),
  };
  const samples: Sample[] = [];
  let running = true;
  const waiting = async (queue: Queue) => {
    const counts = await queue.getJobCounts("waiting", "prioritized");
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  };
  const loop = (async () => {
    while (running) {
      const wall = Date.now();
      const poolWaiting = deps.sql.waitingCount;
      const poolBusy = deps.sql.totalCount - deps.sql.idleCount;
      try {
        await clientReady;
        const { rows } = await client.query<{ state: string; waitType: string | null; wait: string | null; query: string }>(ACTIVITY_SQL, [
          options.applicationName,
        ]);
        activitySamples += 1;
        for (const row of rows) {
          const waiting = row.waitType && row.waitType !== "Client" ? ` [${row.waitType}: ${row.wait}]` : "";
          const key = `${row.state}${waiting}: ${queryLabel(row.query, options.schema)}`;
          activity.set(key, (activity.get(key) ?? 0) + 1);
        }
        const [routing, telephony, sessions, delayed] = await Promise.all([
          waiting(queues.routing),
          waiting(queues.telephony),
          waiting(queues.sessions),
          queues.telephony.getJobCounts("delayed"),
        ]);
        samples.push({ wall, poolWaiting, poolBusy, routing, telephony, telephonyDelayed: delayed.delayed ?? 0, sessions });
      } catch {
        // A sample missed is a gap in the timeline, not a failed run.
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    /** Per (state, wait, query): in how many samples a connection was there, and how many samples were taken. */
    activity: () => ({ counts: [...activity.entries()].sort((a, b) => b[1] - a[1]), samples: activitySamples }),
    async stop(): Promise<void> {
      running = false;
      await loop;
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      await connection.quit();
      await client.end();
    },
  };
}

// ---------------------------------------------------------------- 1. question -> offer

interface Ask {
  index: number;
  measured: boolean;
  customer: string;
  /** performance.now(): when it was due, when it left, when the offer landed. */
  dueAt: number;
  sentAt: number;
  offerAt: number | null;
  /** Date.now() stamps, to line up with the rows' and the sandbox's. */
  sentWall: number;
  answeredWall: number | null;
  offerWall: number | null;
  status: number | null;
  failure: string | null;
  questionId: string | null;
  expertPhone: string | null;
  code: string | null;
}

async function ask(world: World, record: Ask): Promise<void> {
  record.sentAt = performance.now();
  record.sentWall = Date.now();
  try {
    const response = await fetch(`${world.baseUrl}/v1/questions`, {
      method: "POST",
      headers: { authorization: `Bearer ${world.shop.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        // The token comes first: the offer quotes the question's first 80 characters.
        text: `#q${record.index} My mash pH reads 5.8 after adding salts; should I add acid now or wait?`,
        customer: { phone: record.customer, name: `Sam${record.index} Lee` },
        productId: world.productId,
      }),
    });
    const text = await response.text();
    record.answeredWall = Date.now();
    record.status = response.status;
    if (response.status === 201) record.questionId = (JSON.parse(text) as { id: string }).id;
    else record.failure = `${response.status}: ${text.slice(0, 300)}`;
  } catch (error) {
    record.failure = error instanceof Error ? error.message : String(error);
  }
}

/**
 * Sends `count` questions `1000 / rate` ms apart, open loop: a late tick sends
 * at once, never waits for answers. Resolves with the time the sends took,
 * and once every answer is in.
 */
async function driveQuestions(
  world: World,
  asks: Map<number, Ask>,
  options: { from: number; count: number; measured: boolean; customers: string[] },
): Promise<number> {
  const interval = 1000 / RATE;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < options.count && Date.now() < FLOW_DEADLINE; i++) {
    const index = options.from + i;
    const dueAt = started + i * interval;
    const wait = dueAt - performance.now();
    if (wait >= 1) await sleep(wait);
    const record: Ask = {
      index,
      measured: options.measured,
      customer: options.customers[index] ?? "",
      dueAt,
      sentAt: 0,
      offerAt: null,
      sentWall: 0,
      answeredWall: null,
      offerWall: null,
      status: null,
      failure: null,
      questionId: null,
      expertPhone: null,
      code: null,
    };
    asks.set(index, record);
    inFlight.push(ask(world, record));
  }
  const sendingMs = performance.now() - started;
  await Promise.all(inFlight);
  return sendingMs;
}

/** Waits until `done` says every arrival is in, or DRAIN_MS has passed since the last send. */
async function drain(done: () => boolean): Promise<number> {
  const started = performance.now();
  while (!done() && performance.now() - started < DRAIN_MS) await sleep(10);
  return performance.now() - started;
}

/** Where the time of one question -> offer goes (ms), from the client's, the rows' and the sandbox's wall-clock stamps. */
interface OfferStages {
  handler: number;
  commit: number;
  relayRoute: number;
  routePickup: number;
  routeWork: number;
  sendWork: number;
  deliver: number;
  /** The offer text reserved a later throughput slot (sendAfter set): how long after that slot the sandbox got it. */
  afterSlotMs: number | null;
}

const OFFER_STAGE_LABELS: Record<Exclude<keyof OfferStages, "afterSlotMs">, string> = {
  handler: "POST sent -> question stamped (HTTP, auth, zod, product, shop, line)",
  commit: "question stamped -> 201 received (guard, rows, outbox, commit)",
  relayRoute: "201 received -> routing job published (outbox relay)",
  routePickup: "published -> routing step's clock (BullMQ pickup, row lock)",
  routeWork: "routing step -> offer's send job published (candidates, rank, rows, commit, relay)",
  sendWork: "published -> sandbox accepted the offer (pickup, checks, slot, claim, REST)",
  deliver: "sandbox accepted -> in the expert's inbox",
};

const OFFER_STAGES_SQL = `
  SELECT q.id, q."createdAt" AS "questionAt", rj."publishedAt" AS "routePublishedAt", o."sentAt" AS "offeredAt",
         m."twilioSid" AS sid, m."sendAfter" AS "sendAfter", sj."publishedAt" AS "sendPublishedAt"
  FROM "Question" q
  LEFT JOIN "OutboxEvent" rj ON rj."jobId" = 'route-' || q.id::text || '-opened'
  LEFT JOIN LATERAL (SELECT x.id, x."sentAt" FROM "Offer" x WHERE x."questionId" = q.id ORDER BY x.id LIMIT 1) o ON true
  LEFT JOIN "Message" m ON m."dedupeKey" = 'offer:' || o.id::text
  LEFT JOIN "OutboxEvent" sj ON sj."jobId" = 'sms-' || m.id::text
  WHERE q.id = ANY ($1::uuid[])`;

interface OfferStageRow {
  id: string;
  questionAt: Date;
  routePublishedAt: Date | null;
  offeredAt: Date | null;
  sid: string | null;
  sendAfter: Date | null;
  sendPublishedAt: Date | null;
}

async function offerStages(world: World, asks: Ask[]): Promise<OfferStages[]> {
  const byId = new Map(asks.flatMap((record) => (record.questionId ? [[record.questionId, record] as const] : [])));
  const { rows } = await world.deps.sql.query<OfferStageRow>(OFFER_STAGES_SQL, [[...byId.keys()]]);
  const stages: OfferStages[] = [];
  for (const row of rows) {
    const record = byId.get(row.id);
    const accepted = row.sid ? world.sandbox.state.messages.get(row.sid) : undefined;
    if (!record?.answeredWall || !record.offerWall || !row.routePublishedAt || !row.offeredAt || !row.sendPublishedAt || !accepted) continue;
    stages.push({
      handler: row.questionAt.getTime() - record.sentWall,
      commit: record.answeredWall - row.questionAt.getTime(),
      relayRoute: row.routePublishedAt.getTime() - record.answeredWall,
      routePickup: row.offeredAt.getTime() - row.routePublishedAt.getTime(),
      routeWork: row.sendPublishedAt.getTime() - row.offeredAt.getTime(),
      sendWork: accepted.dateCreated.getTime() - row.sendPublishedAt.getTime(),
      deliver: record.offerWall - accepted.dateCreated.getTime(),
      afterSlotMs: row.sendAfter ? accepted.dateCreated.getTime() - row.sendAfter.getTime() : null,
    });
  }
  return stages;
}

// ---------------------------------------------------------------- 2. sessions

interface OpenedSession {
  customer: string;
  customerFirstName: string;
  expert: string;
  proxy: string;
  /** YES sent -> both intros delivered, ms (sandbox stamps, 1 ms resolution). */
  startMs: number;
}

/**
 * Experts of distinct questions (one each) text YES with their offer's code,
 * all at once; returns the sessions once both intros are in both phones.
 */
async function openSessions(world: World, asks: Ask[]): Promise<{ sessions: OpenedSession[]; wanted: number; experts: number; proxies: number }> {
  // One session per expert where the offers allow it; then experts with a second session (each pair gets its own proxy fit).
  const offeredAsks = asks.filter((record) => record.expertPhone && record.code && record.questionId);
  const experts = new Set<string>();
  const picks: Ask[] = [];
  for (const record of offeredAsks) {
    if (picks.length < SESSIONS && !experts.has(record.expertPhone ?? "")) {
      experts.add(record.expertPhone ?? "");
      picks.push(record);
    }
  }
  for (const record of offeredAsks) if (picks.length < SESSIONS && !picks.includes(record)) picks.push(record);
  const yesAt = Date.now();
  await Promise.all(picks.map((record) => world.sandbox.messaging.receive(record.expertPhone ?? "", world.line, `YES ${record.code}`)));

  const questionIds = picks.map((record) => record.questionId ?? "");
  const giveUpAt = performance.now() + 15_000;
  const received = (phone: string, peer: string) =>
    (world.sandbox.state.phones.get(phone)?.messages ?? []).find((message) => message.direction === "received" && message.peer === peer);
  for (;;) {
    const { rows } = await world.deps.sql.query<{ questionId: string; proxy: string }>(
      `SELECT s."questionId", p.e164 AS proxy FROM "Session" s JOIN "PhoneNumber" p ON p.id = s."proxyNumberId"
       WHERE s."questionId" = ANY ($1::uuid[]) AND s.status = 'active'`,
      [questionIds],
    );
    const proxyOf = new Map(rows.map((row) => [row.questionId, row.proxy]));
    const sessions = picks.flatMap((record): OpenedSession[] => {
      const proxy = proxyOf.get(record.questionId ?? "");
      const expert = record.expertPhone ?? "";
      const intros = proxy ? [received(record.customer, proxy), received(expert, proxy)] : [];
      if (!proxy || intros.length < 2 || intros.some((intro) => intro === undefined)) return [];
      const lastIntro = Math.max(...intros.map((intro) => intro?.at.getTime() ?? 0));
      return [{ customer: record.customer, customerFirstName: `Sam${record.index}`, expert, proxy, startMs: lastIntro - yesAt }];
    });
    if (sessions.length === picks.length || performance.now() > giveUpAt) {
      return { sessions, wanted: picks.length, experts: experts.size, proxies: new Set(sessions.map((session) => session.proxy)).size };
    }
    await sleep(20);
  }
}

// ---------------------------------------------------------------- 3. relay

interface RelayedText {
  index: number;
  session: OpenedSession;
  body: string;
  dueAt: number;
  sentAt: number;
  arrivedAt: number | null;
  sentWall: number;
  answeredWall: number | null;
  arrivedWall: number | null;
  /** The inbound message's SID (the sandbox made it up) and the webhook's answer. */
  sid: string | null;
  webhookStatus: number | null;
  arrivedBody: string | null;
}

async function driveRelays(world: World, sessions: OpenedSession[], relays: Map<number, RelayedText>): Promise<void> {
  const interval = 1000 / RELAY_RATE;
  const count = RELAY_RATE * RELAY_SECONDS;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count && Date.now() < FLOW_DEADLINE; i++) {
    const session = sessions[i % sessions.length];
    if (!session) break;
    const dueAt = started + i * interval;
    const wait = dueAt - performance.now();
    if (wait >= 1) await sleep(wait);
    const record: RelayedText = {
      index: i,
      session,
      body: `#r${i} Thanks! It reads 5.6 now, is that fine for a stout?`,
      dueAt,
      sentAt: performance.now(),
      arrivedAt: null,
      sentWall: Date.now(),
      answeredWall: null,
      arrivedWall: null,
      sid: null,
      webhookStatus: null,
      arrivedBody: null,
    };
    relays.set(i, record);
    inFlight.push(
      world.sandbox.messaging.receive(session.customer, session.proxy, record.body).then(({ sid, answer }) => {
        record.answeredWall = Date.now();
        record.sid = sid;
        record.webhookStatus = answer;
      }),
    );
  }
  await Promise.all(inFlight);
}

interface RelayStages {
  webhook: number;
  relayInbound: number;
  handle: number;
  relaySend: number;
  sendWork: number;
  deliver: number;
}

const RELAY_STAGE_LABELS: Record<keyof RelayStages, string> = {
  webhook: "customer's phone -> webhook answered (sandbox, inject, verify, insert)",
  relayInbound: "webhook answered -> inbound job published (outbox relay)",
  handle: "published -> relay statement ran (BullMQ pickup, session lookup)",
  relaySend: "relay statement -> send job published (commit, outbox relay)",
  sendWork: "published -> sandbox accepted (pickup, checks, slot, claim, REST)",
  deliver: "sandbox accepted -> in the expert's inbox",
};

const RELAY_STAGES_SQL = `
  SELECT i."twilioSid" AS sid, ij."publishedAt" AS "inboundPublishedAt", r."createdAt" AS "relayedAt",
         r."twilioSid" AS "relayedSid", rj."publishedAt" AS "sendPublishedAt"
  FROM "Message" i
  LEFT JOIN "OutboxEvent" ij ON ij."jobId" = 'inbound-' || i.id::text
  LEFT JOIN "Message" r ON r."dedupeKey" = 'relay:' || i.id::text
  LEFT JOIN "OutboxEvent" rj ON rj."jobId" = 'sms-' || r.id::text
  WHERE i."twilioSid" = ANY ($1::text[])`;

async function relayStages(world: World, relays: RelayedText[]): Promise<RelayStages[]> {
  const bySid = new Map(relays.flatMap((record) => (record.sid ? [[record.sid, record] as const] : [])));
  const { rows } = await world.deps.sql.query<{
    sid: string;
    inboundPublishedAt: Date | null;
    relayedAt: Date | null;
    relayedSid: string | null;
    sendPublishedAt: Date | null;
  }>(RELAY_STAGES_SQL, [[...bySid.keys()]]);
  const stages: RelayStages[] = [];
  for (const row of rows) {
    const record = bySid.get(row.sid);
    const accepted = row.relayedSid ? world.sandbox.state.messages.get(row.relayedSid) : undefined;
    if (!record?.answeredWall || !record.arrivedWall || !row.inboundPublishedAt || !row.relayedAt || !row.sendPublishedAt || !accepted) continue;
    stages.push({
      webhook: record.answeredWall - record.sentWall,
      relayInbound: row.inboundPublishedAt.getTime() - record.answeredWall,
      handle: row.relayedAt.getTime() - row.inboundPublishedAt.getTime(),
      relaySend: row.sendPublishedAt.getTime() - row.relayedAt.getTime(),
      sendWork: accepted.dateCreated.getTime() - row.sendPublishedAt.getTime(),
      deliver: record.arrivedWall - accepted.dateCreated.getTime(),
    });
  }
  return stages;
}

// ---------------------------------------------------------------- report

interface LimitFigures {
  p50: number;
  p99: number;
}

function latencyRow(name: string, latencies: number[], sent: number, limit: LimitFigures | null): string[] {
  const ordered = sorted(latencies);
  const p50 = percentile(ordered, 50);
  const p99 = percentile(ordered, 99);
  return [
    name,
    String(sent),
    String(latencies.length),
    String(sent - latencies.length),
    fixed(p50, 1),
    fixed(percentile(ordered, 90), 1),
    fixed(p99, 1),
    fixed(ordered[ordered.length - 1] ?? Number.NaN, 1),
    limit ? fixed(ratio(p50, limit.p50), 1) : "-",
    limit ? fixed(ratio(p99, limit.p99), 1) : "-",
  ];
}

const LATENCY_COLUMNS = ["scenario", "sent", "arrived", "missing", "p50 ms", "p90 ms", "p99 ms", "max ms", "p50 ×limit", "p99 ×limit"];

function printStages<T extends object>(labels: Record<string, string>, stages: T[]): void {
  if (stages.length === 0) {
    console.log("where the time goes: no complete stamps found");
    console.log("");
    return;
  }
  const keys = Object.keys(labels) as (keyof T & string)[];
  const value = (stage: T, key: keyof T & string) => Number(stage[key]);
  const summary = (values: number[]) => {
    const ordered = sorted(values);
    return [fixed(percentile(ordered, 50), 1), fixed(percentile(ordered, 95), 1), fixed(percentile(ordered, 99), 1), fixed(mean(values), 1)];
  };
  const rows = keys.map((key) => [labels[key] ?? key, ...summary(stages.map((stage) => value(stage, key)))]);
  rows.push(["total", ...summary(stages.map((stage) => keys.reduce((sum, key) => sum + value(stage, key), 0)))]);
  console.log(`where the time goes (ms, ${stages.length} with every stamp; wall clocks, 1 ms resolution; stages overlap a little at the edges)`);
  printTable(["stage", "p50", "p95", "p99", "mean"], rows);
}

/** The monitor's sampling interval; each recorded value includes it. */
const LOOP_RESOLUTION_MS = 5;

function loopDelay(histogram: IntervalHistogram): string {
  const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  return `event-loop delay p50 ${fixed(ms(histogram.percentile(50)), 1)} ms, p99 ${fixed(ms(histogram.percentile(99)), 1)} ms, max ${fixed(ms(histogram.max), 1)} ms`;
}

function lagSummary(lags: number[]): string {
  const ordered = sorted(lags);
  return `sends left late by p50 ${fixed(percentile(ordered, 50), 1)} ms, p99 ${fixed(percentile(ordered, 99), 1)} ms, max ${fixed(ordered[ordered.length - 1] ?? Number.NaN, 1)} ms`;
}

/** Per `bucketMs` from `fromWall`: questions sent, answered and offered, and the worst backlog sampled. */
function printTimeline(asks: Ask[], samples: Sample[], fromWall: number, bucketMs: number): void {
  const last = Math.max(fromWall, ...samples.map((sample) => sample.wall), ...asks.map((record) => record.offerWall ?? record.answeredWall ?? 0));
  const rows: string[][] = [];
  for (let start = fromWall; start <= last; start += bucketMs) {
    const inBucket = (wall: number | null) => wall !== null && wall >= start && wall < start + bucketMs;
    const bucket = samples.filter((sample) => inBucket(sample.wall));
    const worst = (pick: (sample: Sample) => number) => (bucket.length === 0 ? "-" : String(Math.max(...bucket.map(pick))));
    rows.push([
      `${fixed((start - fromWall) / 1000, 0)}-${fixed((start + bucketMs - fromWall) / 1000, 0)} s`,
      String(asks.filter((record) => inBucket(record.sentWall)).length),
      String(asks.filter((record) => inBucket(record.answeredWall)).length),
      String(asks.filter((record) => inBucket(record.offerWall)).length),
      worst((sample) => sample.poolBusy),
      worst((sample) => sample.poolWaiting),
      worst((sample) => sample.routing),
      worst((sample) => sample.telephony),
      worst((sample) => sample.telephonyDelayed),
    ]);
  }
  console.log(`timeline (every ${bucketMs / 1000} s; backlogs are the worst of the samples taken every ${SAMPLE_EVERY_MS} ms)`);
  printTable(["time", "sent", "answered", "offered", "pool busy", "pool waiting", "routing queued", "telephony queued", "telephony delayed"], rows);
}

/**
 * Where the app's connections spent the phase: each line is the average
 * number of connections found in that state (samples with it ÷ samples).
 * "idle in transaction" is a transaction held open while Node works or
 * waits (for the CPU, Redis, or another pool connection); a [Lock: ...] is
 * a wait on another transaction.
 */
function printActivity(activity: { counts: [string, number][]; samples: number }, poolSize: number, top: number): void {
  if (activity.samples === 0) return;
  const busy = activity.counts.reduce((sum, [, count]) => sum + count, 0) / activity.samples;
  console.log(
    `what the app's ${poolSize} PostgreSQL connections were doing (pg_stat_activity every ${SAMPLE_EVERY_MS} ms, ${activity.samples} samples; ` +
      `${fixed(busy, 1)} not idle on average; the last statement of an open transaction is shown)`,
  );
  printTable(
    ["state [wait]: statement", "connections"],
    activity.counts.slice(0, top).map(([key, count]) => [key, fixed(count / activity.samples, 2)]),
  );
}

function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const config = testConfig({ LOG_LEVEL: "silent", DATABASE_POOL_SIZE: String(POOL_SIZE) });

  const runId = randomBytes(4).toString("hex");
  let bench: PreparedBench | null = null;
  let app: App | null = null;
  let sandbox: TwilioSandbox | null = null;
  let workers: RunningWorkers | null = null;
  try {
    bench = await prepareBench({ config, settings: SETTINGS, queuePrefix: `bench-${runId}`, deadline: BUDGET.loadDeadline, killAt: BUDGET.workerKillAt });

    console.error("setting up: sandbox, app, workers, shop and experts");
    const twilio = await startTwilioSandbox(config);
    const liveSandbox = twilio.sandbox;
    sandbox = liveSandbox;
    // The app's connections carry a name of their own, so the sampler can find them in pg_stat_activity.
    const applicationName = `expertline-bench-flow-${runId}`;
    const databaseUrl = new URL(config.DATABASE_URL);
    databaseUrl.searchParams.set("application_name", applicationName);
    const appConfig = testConfig({
      DATABASE_URL: databaseUrl.toString(),
      LOG_LEVEL: "silent",
      DATABASE_POOL_SIZE: String(POOL_SIZE),
      SMS_MESSAGES_PER_SECOND: String(SMS_PER_SECOND),
      SMS_GUARD_SHOP_PER_MINUTE: String(SHOP_PER_MINUTE),
      TWILIO_API_BASE_URL: twilio.url,
    });
    const deps = await bench.connect(appConfig);
    const statements = countStatements(deps.sql);
    const liveApp = await buildApp(deps);
    app = liveApp;
    const baseUrl = await listenLocal(liveApp);
    twilio.deliverTo(liveApp);
    workers = await startWorkers(deps);
    const world: World = { deps, baseUrl, sandbox: liveSandbox, ...(await setUpShop(deps, baseUrl)) };

    const asks = new Map<number, Ask>();
    const relays = new Map<number, RelayedText>();
    watchInboxes(liveSandbox, (phone, message, at) => {
      if (message.peer === world.line) {
        const code = OFFER_CODE.exec(message.body)?.[1];
        const record = code ? asks.get(Number(QUESTION_TOKEN.exec(message.body)?.[1] ?? Number.NaN)) : undefined;
        if (!record || record.offerAt !== null) return;
        record.offerAt = at;
        record.offerWall = Date.now();
        record.expertPhone = phone;
        record.code = code ?? null;
        return;
      }
      const record = relays.get(Number(RELAY_TOKEN.exec(message.body)?.[1] ?? Number.NaN));
      if (!record || record.arrivedAt !== null || phone !== record.session.expert || message.peer !== record.session.proxy) return;
      record.arrivedAt = at;
      record.arrivedWall = Date.now();
      record.arrivedBody = message.body;
    });

    // The warm-up's questions are also where the sessions come from: enough of them for SESSIONS.
    const warmup = Math.max(RATE * WARMUP_SECONDS, SESSIONS);
    const planned = RATE * SECONDS;
    const customers = usPhones("510", warmup + planned, 1000);
    const offered = (records: Ask[]) => records.every((record) => record.questionId === null || record.offerAt !== null);
    const sample = () => startSampler(deps, { everyMs: SAMPLE_EVERY_MS, applicationName, schema: bench?.schema ?? "", databaseUrl: config.DATABASE_URL });

    console.error(`warm-up: ${warmup} questions at ${RATE}/s`);
    const statementsBefore = statements();
    await driveQuestions(world, asks, { from: 0, count: warmup, measured: false, customers });
    await drain(() => offered([...asks.values()]));
    await liveSandbox.idle();
    const warmupOffers = [...asks.values()].filter((record) => record.offerAt !== null).length;
    // Everything a question costs, its two texts' sends and status callbacks included (and the relay's polls meanwhile).
    const statementsPerQuestion = warmupOffers === warmup ? (statements() - statementsBefore) / warmup : Number.NaN;

    // Sessions and relay before the question phase, so that phase's backlog (if any) cannot distort them.
    console.error(`sessions: ${SESSIONS} experts text YES at once`);
    const opened = await openSessions(world, [...asks.values()]);
    await liveSandbox.idle();

    let relayLoop: IntervalHistogram | null = null;
    let relayDrainMs = 0;
    const relaySampler = sample();
    if (opened.sessions.length > 0) {
      console.error(`relay: ${RELAY_RATE * RELAY_SECONDS} texts at ${RELAY_RATE}/s over ${opened.sessions.length} sessions`);
      relayLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      relayLoop.enable();
      await driveRelays(world, opened.sessions, relays);
      relayDrainMs = await drain(() => [...relays.values()].every((record) => record.arrivedAt !== null));
      relayLoop.disable();
    }
    await relaySampler.stop();
    await liveSandbox.idle();
    const relayed = [...relays.values()];
    const stagesOfRelays = await relayStages(world, relayed);

    console.error(`question -> offer: ${planned} questions at ${RATE}/s, open loop`);
    const questionLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    questionLoop.enable();
    const questionSampler = sample();
    const phaseStartedWall = Date.now();
    const sendingMs = await driveQuestions(world, asks, { from: warmup, count: planned, measured: true, customers });
    const measuredAsks = () => [...asks.values()].filter((record) => record.measured);
    const drainMs = await drain(() => offered(measuredAsks()));
    questionLoop.disable();
    await questionSampler.stop();
    const questions = measuredAsks();
    const stagesOfOffers = await offerStages(world, questions);

    await workers.close();
    workers = null;
    await liveSandbox.idle();
    // The limit runs with the app closed, as it did before the app started.
    await liveApp.close();
    app = null;
    await bench.measureLimitAfter();

    // ------------------------------------------------------------ report
    const limitRunResults = limitResults(bench.limits);
    const baseline = limitBaseline(limitRunResults);
    const limit: LimitFigures | null = baseline ? { p50: mean(baseline.runs.map((run) => run.p50)), p99: baseline.p99 } : null;
    const cpus = os.cpus();
    const load = os.loadavg().map((value) => fixed(value, 1)).join(" ");
    printReportHeading("flow", `; load average ${load} (at the start: ${loadAtStart}; other work on the machine moves these figures)`);
    console.log(
      "in-process: Fastify app on 127.0.0.1 (questions over real HTTP), its workers (outbox relay woken on commit; " +
        "routing, telephony, sessions at concurrency 8) and the Twilio sandbox (its webhooks delivered by inject), real PostgreSQL + Redis, " +
        `pg pool of ${appConfig.DATABASE_POOL_SIZE}; all on the same ${cpus.length} cores. Order: warm-up questions, sessions and relay, then the question phase`,
    );
    console.log(
      `SMS_MESSAGES_PER_SECOND=${appConfig.SMS_MESSAGES_PER_SECOND} per sender: each question makes the expert line send 2 texts ` +
        `(the customer's confirmation and the offer), so ${RATE} questions/s is ${2 * RATE} messages/s from one number. Twilio lets a long code ` +
        "send about 1/s; that rate needs a short code (100/s) or a messaging service over a pool of numbers. " +
        `${appConfig.SMS_MESSAGES_PER_SECOND} keeps the cap out of the figure (BENCH_FLOW_SMS_PER_SECOND=100 shows a short code at 100% load).`,
    );
    console.log(
      `SMS pumping guard: SMS_GUARD_SHOP_PER_MINUTE=${appConfig.SMS_GUARD_SHOP_PER_MINUTE} (default 120, and ${RATE} questions/s is ${RATE * 60}/min), ` +
        `the shop's dailyNewCustomerCap ${NEW_CUSTOMER_CAP} (default 200); every question has a new customer number, so each one takes the shop's new-customer lock`,
    );
    console.log("");
    console.log(`0. limit: bare Fastify + @fastify/formbody, one INSERT per request, ${SETTINGS.connections} connections, before and after the flows with the app closed`);
    printLoadResults(limitRunResults, baseline);
    console.log(`limit route rows inserted: ${bench.limits.map((run) => run.inserted).join(" + ")} (every 2xx is one)`);
    console.log(
      limit
        ? `the ×limit columns below: a flow's latency ÷ the limit's (p50 ${fixed(limit.p50, 1)} ms, p99 ${fixed(limit.p99, 1)} ms, means of its runs)`
        : "! no limit run finished: no ratios",
    );
    console.log("");

    const answered = questions.filter((record) => record.status === 201);
    const offerLatencies = answered.flatMap((record) => (record.offerAt === null ? [] : [record.offerAt - record.sentAt]));
    const httpLatencies = questions.flatMap((record) => (record.answeredWall === null ? [] : [record.answeredWall - record.sentWall]));
    console.log(
      `1. question -> offer: POST /v1/questions at ${RATE}/s for ${SECONDS} s (open loop, after ${warmup} unmeasured), one product, ` +
        `one sequential pool of ${EXPERTS} ready experts; from sending the request to the offer SMS in the expert's sandbox inbox`,
    );
    printTable(LATENCY_COLUMNS, [
      latencyRow("POST /v1/questions -> 201", httpLatencies, questions.length, limit),
      latencyRow("POST /v1/questions -> offer SMS", offerLatencies, answered.length, limit),
    ]);
    const ordered = sorted(offerLatencies);
    const p50 = percentile(ordered, 50);
    const p99 = percentile(ordered, 99);
    const missing = answered.length - offerLatencies.length;
    const failed = questions.length - answered.length;
    console.log(
      `goal (issue 7) at ${RATE} questions/s: p50 <= ${GOAL_P50_MS} ms: ${fixed(p50, 1)} ${verdict(p50 <= GOAL_P50_MS)}; ` +
        `p99 <= ${GOAL_P99_MS} ms: ${fixed(p99, 1)} ${verdict(p99 <= GOAL_P99_MS)}; ` +
        `missing offers: ${missing} ${verdict(missing === 0)}; failed requests: ${failed} ${verdict(failed === 0)}` +
        (RATE === 50 ? "" : ` (the goal is stated for 50/s; this run was ${RATE}/s)`),
    );
    console.log(
      `sent ${questions.length}/${planned} in ${fixed(sendingMs / 1000, 1)} s (${fixed((questions.length / sendingMs) * 1000, 1)}/s); ` +
        `${lagSummary(questions.map((record) => record.sentAt - record.dueAt))}; ${loopDelay(questionLoop)}; ` +
        `offers drained ${fixed(drainMs, 0)} ms after the last answer`,
    );
    const failures = questions.flatMap((record) => (record.failure ? [record.failure] : []));
    for (const sample of [...new Set(failures)].slice(0, 3)) console.log(`! failed request, e.g. ${sample}`);
    const held = stagesOfOffers.flatMap((stage) => (stage.afterSlotMs !== null ? [stage.afterSlotMs] : []));
    console.log(
      `offer texts that reserved a later send slot (sendAfter set, the job put back until then): ${held.length} of ${stagesOfOffers.length}` +
        (held.length > 0 ? `; the sandbox got them p50 ${fixed(percentile(sorted(held), 50), 0)} ms, max ${fixed(Math.max(...held), 0)} ms after that slot` : ""),
    );
    const perExpert = new Map<string, number>();
    for (const record of answered) if (record.expertPhone) perExpert.set(record.expertPhone, (perExpert.get(record.expertPhone) ?? 0) + 1);
    console.log(`the offers that arrived went to ${perExpert.size} of ${EXPERTS} experts (at most ${Math.max(0, ...perExpert.values())} to one): concurrent routing steps share the round-robin cursor`);
    console.log(
      `PostgreSQL statements per question, from the warm-up (POST to offer delivered, both texts' sends and status callbacks): ` +
        `${fixed(statementsPerQuestion, 0)}; at ${RATE} questions/s that is ${fixed(statementsPerQuestion * RATE, 0)} statements/s, ` +
        `against the limit's ${baseline ? fixed(baseline.rps, 0) : "-"} one-statement requests/s on this machine`,
    );
    console.log("");
    printStages(OFFER_STAGE_LABELS, stagesOfOffers);
    printTimeline(questions, questionSampler.samples, phaseStartedWall, 2_000);
    printActivity(questionSampler.activity(), appConfig.DATABASE_POOL_SIZE, 12);

    const starts = sorted(opened.sessions.map((session) => session.startMs));
    console.log(
      `2. sessions (before the question phase, from the warm-up's offers): ${opened.experts} experts texted "YES <code>" for ${opened.wanted} offers ` +
        `to the expert line at once; ${opened.sessions.length} sessions active ` +
        `with both intros delivered, over ${opened.proxies} proxy number(s); YES -> both intros delivered: p50 ${fixed(percentile(starts, 50), 0)} ms, ` +
        `max ${fixed(starts[starts.length - 1] ?? Number.NaN, 0)} ms (sandbox stamps)`,
    );
    console.log("");

    if (opened.sessions.length === 0) {
      console.log("3. relay: not measured, no session started within 15 s of the YES texts");
      return bench.limits.some((run) => run.error) ? 1 : 0;
    }
    const arrived = relayed.flatMap((record) => (record.arrivedAt === null ? [] : [record.arrivedAt - record.sentAt]));
    console.log(
      `3. relay (run before the question phase): customers text their proxy numbers at ${RELAY_RATE}/s for ${RELAY_SECONDS} s, in turn over ${opened.sessions.length} sessions; ` +
        "from the customer's text leaving the phone to the relayed text in the expert's sandbox inbox",
    );
    printTable(LATENCY_COLUMNS, [latencyRow("customer text -> expert's phone", arrived, relayed.length, limit)]);
    const wrongBodies = relayed.filter((record) => record.arrivedBody !== null && record.arrivedBody !== `${record.session.customerFirstName}: ${record.body}`).length;
    const webhookErrors = relayed.filter((record) => record.webhookStatus !== 200).length;
    console.log(
      `${lagSummary(relayed.map((record) => record.sentAt - record.dueAt))}; ${relayLoop ? loopDelay(relayLoop) : "not run"}; ` +
        `relays drained ${fixed(relayDrainMs, 0)} ms after the last webhook answered` +
        (wrongBodies > 0 ? `; !!! ${wrongBodies} relayed texts were not "<first name>: <text>"` : "") +
        (webhookErrors > 0 ? `; !!! ${webhookErrors} webhooks did not answer 200` : ""),
    );
    console.log("");
    printStages(RELAY_STAGE_LABELS, stagesOfRelays);
    const worstWaiting = Math.max(0, ...relaySampler.samples.map((one) => one.poolWaiting));
    console.log(`pg pool during the relay: at most ${worstWaiting} queries waiting for a connection`);
    printActivity(relaySampler.activity(), appConfig.DATABASE_POOL_SIZE, 6);

    return loadExitCode(...bench.limits.map((run) => run.error));
  } finally {
    await closeInOrder({ workers, sandbox, app, bench });
  }
}

runBounded(main, BUDGET.hardExitAt);
