/**
 * Telephony benchmark: the real app, its workers and the Twilio sandbox in
 * this process, against the real PostgreSQL and Redis on 127.0.0.1. It
 * prints figures only; it never fails on timings. See bench/README.md.
 *
 *   npx tsx bench/telephony.ts        (or: npm run bench -- telephony)
 *   BENCH_REQUESTS=500 BENCH_ROUND_TRIPS=50 npx tsx bench/telephony.ts
 *
 * 0. limit: a bare Fastify route that parses the same signed form and does one
 *    INSERT (bench/limit.ts), before everything else and again at the end,
 *    with the app closed; every webhook scenario is compared with it.
 * 1. Inbound webhook throughput: signed POST /twilio/sms, a new MessageSid per
 *    request, autocannon from a worker thread over real HTTP (workers stopped,
 *    so it is the webhook alone).
 * 2. Replay cost: one signed webhook (same MessageSid) sent again and again.
 * 3. End to end: a simulated phone texts STATUS to the shop's expert line;
 *    time until the reply is in that phone's sandbox inbox (workers running
 *    in-process), one at a time and 20 experts at once.
 */
import "../test/helpers/no-network.js"; // any connection off 127.0.0.1 throws
import { buildApp, type App } from "../src/app.js";
import type { Config } from "../src/config.js";
import type { Deps } from "../src/deps.js";
import { createExpertService } from "../src/modules/experts/service.js";
import type { TwilioSandbox } from "../src/sandbox/twilio/server.js";
import { startWorkers, type RunningWorkers } from "../src/workers.js";
import { testConfig } from "../test/helpers/config.js";
import {
  betweenLimits,
  boundedInt,
  failedRequests,
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
  runLoad,
  sleep,
  sorted,
  timeBudget,
  type LimitBaseline,
} from "./common.js";
import type { LimitRun } from "./limit.js";
import type { Scenario, ScenarioResult } from "./load.js";
import { closeInOrder, createBenchShop, listenLocal, prepareBench, startTwilioSandbox, usPhones, type PreparedBench } from "./setup.js";
import { CUSTOMER, FORM_CONTENT_TYPE, SMS_WEBHOOK_PATH, newSidBodies, signedSms } from "./twilio-form.js";

const startedAt = Date.now();
/** No new end-to-end round trip starts after this. */
const E2E_DEADLINE = startedAt + 50_000;
/** The webhook and limit loads run until BUDGET.loadDeadline; the end-to-end trips stop earlier, at E2E_DEADLINE. */
const BUDGET = timeBudget(startedAt);

const SETTINGS = loadSettings();
const ROUND_TRIPS = boundedInt("BENCH_ROUND_TRIPS", 100, 1, 1_000);
const EXPERTS = boundedInt("BENCH_EXPERTS", 20, 1, 100);
const BURSTS = boundedInt("BENCH_BURSTS", 5, 1, 50);
/** Unmeasured round trips first (JIT, connection pools, prepared statements). */
const E2E_WARMUP = 5;
/** A round trip that has no reply after this counts as failed. */
const ROUND_TRIP_TIMEOUT_MS = 10_000;
const KEYWORD = "STATUS";
/** Issue 6, section 5: at 50 connections the webhook reaches this share of the limit's req/s... */
const GOAL_RPS_RATIO = 0.5;
/** ...with a p99 at most this multiple of the limit's. */
const GOAL_P99_RATIO = 2;
const NEW_SID_SCENARIO = "POST /twilio/sms (new MessageSid)";

// ---------------------------------------------------------------- setup

interface World {
  config: Config;
  deps: Deps;
  app: App;
  baseUrl: string;
  sandbox: TwilioSandbox;
}

/** Messages the phone has received (from the platform), oldest first. */
function received(sandbox: TwilioSandbox, phone: string) {
  return (sandbox.state.phones.get(phone)?.messages ?? []).filter((message) => message.direction === "received");
}

/** Creates the shop and its experts, waits for their invites, marks them active; returns the shop's expert line. */
async function seedExperts(world: World, phones: string[]): Promise<{ line: string; inviteMs: number }> {
  const { baseUrl, deps, sandbox } = world;
  const shop = await createBenchShop(baseUrl);
  const started = performance.now();
  const experts = await Promise.all(
    phones.map((phone, i) =>
      postJson<{ id: string }>(baseUrl, "/v1/experts", shop.key, {
        phone,
        name: `Bench Expert ${i}`,
        timeZone: "UTC",
        skills: [{ tag: "all-grain", level: 3 }],
      }),
    ),
  );
  // The first invite job buys the shop's expert line; every invite then comes from it.
  const inviteDeadline = performance.now() + 20_000;
  while (phones.some((phone) => received(sandbox, phone).length === 0)) {
    if (performance.now() > inviteDeadline) throw new Error("the experts' invites did not arrive within 20 s");
    await sleep(5);
  }
  const inviteMs = performance.now() - started;
  await sandbox.idle();
  const service = createExpertService(deps);
  for (const expert of experts) await service.verifyPhone(expert.id);
  const line = await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } });
  return { line: line.e164, inviteMs };
}

// ---------------------------------------------------------------- end to end

interface RoundTrip {
  from: string;
  /** The inbound message's SID (the sandbox made it up). */
  sid: string;
  webhookStatus: number | null;
  /** Wall clock (Date.now()) when the phone sent, when the webhook answered, when the reply was seen. */
  sentAt: number;
  answeredAt: number;
  repliedAt: number | null;
  /** performance.now() based, ms; null when no reply came in time. */
  ms: number | null;
  reply: string | null;
}

async function roundTrip(world: World, from: string, line: string): Promise<RoundTrip> {
  const { sandbox } = world;
  const before = received(sandbox, from).length;
  const sentAt = Date.now();
  const started = performance.now();
  const { sid, answer } = await sandbox.messaging.receive(from, line, KEYWORD);
  const answeredAt = Date.now();
  const giveUpAt = started + ROUND_TRIP_TIMEOUT_MS;
  for (;;) {
    const inbox = received(sandbox, from);
    if (inbox.length > before) {
      const ms = performance.now() - started;
      return { from, sid, webhookStatus: answer, sentAt, answeredAt, repliedAt: Date.now(), ms, reply: inbox[before]?.body ?? null };
    }
    if (performance.now() > giveUpAt) {
      return { from, sid, webhookStatus: answer, sentAt, answeredAt, repliedAt: null, ms: null, reply: null };
    }
    await sleep(1);
  }
}

interface E2eResult {
  name: string;
  trips: RoundTrip[];
  planned: number;
  /** Wall time of the measured phase (sum of the bursts' wall times for bursts). */
  elapsedMs: number;
}

async function sequentialTrips(world: World, phones: string[], line: string): Promise<E2eResult> {
  for (let i = 0; i < E2E_WARMUP && Date.now() < E2E_DEADLINE; i++) await roundTrip(world, phones[i % phones.length] ?? "", line);
  const trips: RoundTrip[] = [];
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS && Date.now() < E2E_DEADLINE; i++) {
    trips.push(await roundTrip(world, phones[i % phones.length] ?? "", line));
  }
  return { name: `one at a time (${phones.length} experts in turn)`, trips, planned: ROUND_TRIPS, elapsedMs: performance.now() - started };
}

async function burstTrips(world: World, phones: string[], line: string): Promise<E2eResult> {
  const trips: RoundTrip[] = [];
  let elapsedMs = 0;
  for (let burst = 0; burst < BURSTS && Date.now() < E2E_DEADLINE; burst++) {
    await world.sandbox.idle(); // the previous burst's status callbacks are done
    const started = performance.now();
    trips.push(...(await Promise.all(phones.map((phone) => roundTrip(world, phone, line)))));
    elapsedMs += performance.now() - started;
  }
  return { name: `${phones.length} experts at once (x${BURSTS} bursts)`, trips, planned: BURSTS * phones.length, elapsedMs };
}

/** Where the time of one round trip goes, from the rows and the sandbox's records. */
interface Stages {
  webhook: number;
  relayInbound: number;
  handleInbound: number;
  relayReply: number;
  sendReply: number;
  deliver: number;
}

const STAGE_LABELS: Record<keyof Stages, string> = {
  webhook: "phone -> webhook answered (sandbox, inject, verify, insert)",
  relayInbound: "webhook answered -> relay published inbound job",
  handleInbound: "published -> reply row written (BullMQ pickup, handler)",
  relayReply: "reply row -> relay published send job",
  sendReply: "published -> sandbox accepted (pickup, send-sms, REST)",
  deliver: "sandbox accepted -> seen in phone inbox",
};

async function stagesOf(world: World, trip: RoundTrip): Promise<Stages | null> {
  const { prisma } = world.deps;
  if (trip.repliedAt === null) return null;
  const inbound = await prisma.message.findUnique({ where: { twilioSid: trip.sid }, select: { id: true } });
  if (!inbound) return null;
  const [inboundEvent, reply] = await Promise.all([
    prisma.outboxEvent.findUnique({ where: { jobId: `inbound-${inbound.id}` }, select: { publishedAt: true } }),
    prisma.message.findUnique({ where: { dedupeKey: `reply:${inbound.id}` }, select: { id: true, createdAt: true, twilioSid: true } }),
  ]);
  if (!inboundEvent?.publishedAt || !reply?.twilioSid) return null;
  const replyEvent = await prisma.outboxEvent.findUnique({ where: { jobId: `sms-${reply.id}` }, select: { publishedAt: true } });
  const accepted = world.sandbox.state.messages.get(reply.twilioSid);
  if (!replyEvent?.publishedAt || !accepted) return null;
  return {
    webhook: trip.answeredAt - trip.sentAt,
    relayInbound: inboundEvent.publishedAt.getTime() - trip.answeredAt,
    handleInbound: reply.createdAt.getTime() - inboundEvent.publishedAt.getTime(),
    relayReply: replyEvent.publishedAt.getTime() - reply.createdAt.getTime(),
    sendReply: accepted.dateCreated.getTime() - replyEvent.publishedAt.getTime(),
    deliver: trip.repliedAt - accepted.dateCreated.getTime(),
  };
}

// ---------------------------------------------------------------- webhooks under load

function webhookScenarios(config: Config, line: string): Scenario[] {
  const common = { ...SETTINGS, method: "POST" as const, path: SMS_WEBHOOK_PATH, headers: {} };
  return [
    { ...common, name: NEW_SID_SCENARIO, body: newSidBodies(config, line, SETTINGS.warmup + SETTINGS.requests) },
    {
      ...common,
      name: "POST /twilio/sms (replay, same SID)",
      body: { kind: "prebuilt", contentType: FORM_CONTENT_TYPE, items: [signedSms(config, line)] },
      // The first delivery stores the message; every later one is a replay of it.
      prime: 1,
    },
  ];
}

// ---------------------------------------------------------------- report

interface RowsWritten {
  inbound: number;
  receipts: number;
  outbox: number;
  /** Distinct MessageSids that reached the server: one per new-SID request, one for all the replays. */
  distinct: number;
}

/** The goal for the new-SID webhook against the limit, as figures: a report line, never an exit code. */
function printGoal(webhook: ScenarioResult | undefined, baseline: LimitBaseline | null, failed: number, replaysWrote: boolean) {
  if (!webhook || !baseline) {
    console.log("goal (issue 6): not measured, the webhook or the limit did not run");
    return;
  }
  const rps = ratio(webhook.rps, baseline.rps);
  const p99 = ratio(webhook.p99, baseline.p99);
  const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
  const rpsOk = rps >= GOAL_RPS_RATIO;
  const p99Ok = p99 <= GOAL_P99_RATIO;
  console.log(
    `goal (issue 6) at ${webhook.connections} connections: webhook req/s >= ${GOAL_RPS_RATIO} x limit: ${fixed(rps, 2)} ${verdict(rpsOk)}; ` +
      `p99 <= ${GOAL_P99_RATIO} x limit: ${fixed(p99, 2)} ${verdict(p99Ok)}; ` +
      `failed requests: ${failed} ${verdict(failed === 0)}; replays wrote nothing: ${verdict(!replaysWrote)} ` +
      `=> ${verdict(rpsOk && p99Ok && failed === 0 && !replaysWrote)} (long-term aim: 0.7 x limit req/s)`,
  );
}

function printWebhooks(results: ScenarioResult[], limits: LimitRun[], rows: RowsWritten) {
  console.log(
    `0-2. limit and inbound SMS webhook: autocannon in a worker thread, ${SETTINGS.connections} connections, ` +
      `${SETTINGS.warmup} warm-up + ${SETTINGS.requests} measured requests each (workers stopped; limit run with the app closed)`,
  );
  const baseline = limitBaseline(limitResults(limits));
  printLoadResults(results, baseline);
  // Replays must add nothing: one receipt, message and outbox row per distinct MessageSid at most.
  const replaysWrote = rows.inbound > rows.distinct || rows.receipts > rows.distinct || rows.outbox > rows.distinct;
  console.log(
    `rows written by the webhooks: ${rows.inbound} inbound messages, ${rows.receipts} dedupe receipts, ` +
      `${rows.outbox} outbox rows, for ${rows.distinct} distinct MessageSids sent (replays must add none)` +
      (replaysWrote ? "  !!! MORE ROWS THAN DISTINCT MessageSids" : ""),
  );
  console.log(`limit route rows inserted: ${limits.map((run) => run.inserted).join(" + ")} (every 2xx is one)`);
  const webhooks = results.filter((r) => r.name.startsWith("POST /twilio/sms"));
  const failed = webhooks.reduce((total, r) => total + failedRequests(r), 0);
  printGoal(
    results.find((r) => r.name === NEW_SID_SCENARIO),
    baseline,
    failed,
    replaysWrote,
  );
  console.log("");
}

function printE2e(results: E2eResult[], stages: Stages[][]) {
  console.log(`3. end to end: phone texts ${KEYWORD} -> reply in the phone's sandbox inbox (workers in-process; outbox relay woken on commit by LISTEN/NOTIFY, polling only as a fallback)`);
  printTable(
    ["scenario", "trips", "replies/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "failed"],
    results.map((r) => {
      const ok = r.trips.flatMap((trip) => (trip.ms === null ? [] : [trip.ms]));
      const latencies = sorted(ok);
      const failed = r.trips.length - ok.length;
      return [
        r.name,
        r.trips.length === r.planned ? String(r.trips.length) : `${r.trips.length}/${r.planned}`,
        fixed((ok.length / r.elapsedMs) * 1000, 1),
        fixed(percentile(latencies, 50), 1),
        fixed(percentile(latencies, 95), 1),
        fixed(percentile(latencies, 99), 1),
        fixed(latencies[latencies.length - 1] ?? Number.NaN, 1),
        String(failed),
      ];
    }),
  );
  for (const r of results) {
    const webhookErrors = r.trips.filter((trip) => trip.webhookStatus !== 200).length;
    const wrongReplies = r.trips.filter((trip) => trip.reply !== null && !trip.reply.includes("Open offers")).length;
    if (webhookErrors > 0) console.log(`! ${r.name}: ${webhookErrors} webhooks did not answer 200`);
    if (wrongReplies > 0) console.log(`! ${r.name}: ${wrongReplies} replies were not a STATUS answer`);
    if (r.trips.length < r.planned) console.log(`! ${r.name}: cut short by the time budget`);
  }

  const measured = results.map((r, i) => ({ name: r.name, stages: stages[i] ?? [] })).filter((r) => r.stages.length > 0);
  if (measured.length === 0) return;
  console.log("where the time goes (ms; from the rows' and the sandbox's wall-clock stamps, 1 ms resolution)");
  const keys = Object.keys(STAGE_LABELS) as (keyof Stages)[];
  const summary = (values: number[]) => {
    const ordered = sorted(values);
    return [
      fixed(percentile(ordered, 50), 1),
      fixed(percentile(ordered, 95), 1),
      fixed(values.reduce((sum, value) => sum + value, 0) / values.length, 1),
    ];
  };
  const rows = keys.map((key) => [STAGE_LABELS[key], ...measured.flatMap((r) => summary(r.stages.map((stage) => stage[key])))]);
  rows.push(["total", ...measured.flatMap((r) => summary(r.stages.map((stage) => keys.reduce((sum, key) => sum + stage[key], 0))))]);
  const short = ["one at a time", "at once"];
  printTable(["stage", ...measured.flatMap((r, i) => [`${short[i] ?? r.name} p50`, "p95", "mean"])], rows);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const config = testConfig({ LOG_LEVEL: "silent", SMS_MESSAGES_PER_SECOND: "1000" });

  let bench: PreparedBench | null = null;
  let app: App | null = null;
  let sandbox: TwilioSandbox | null = null;
  let workers: RunningWorkers | null = null;
  try {
    bench = await prepareBench({ config, settings: SETTINGS, deadline: BUDGET.loadDeadline, killAt: BUDGET.workerKillAt });

    console.error("setting up: sandbox, app, workers");
    const twilio = await startTwilioSandbox(config);
    const liveSandbox = twilio.sandbox;
    sandbox = liveSandbox;
    const appConfig = testConfig({ LOG_LEVEL: "silent", SMS_MESSAGES_PER_SECOND: "1000", TWILIO_API_BASE_URL: twilio.url });

    const deps = await bench.connect(appConfig);
    const liveApp = await buildApp(deps);
    app = liveApp;
    const baseUrl = await listenLocal(liveApp);
    twilio.deliverTo(liveApp);
    workers = await startWorkers(deps);
    const world: World = { config: appConfig, deps, app: liveApp, baseUrl, sandbox: liveSandbox };

    // San Francisco numbers, lines from 2000.
    const phones = usPhones("415", EXPERTS, 2000);
    console.error(`creating a shop and ${EXPERTS} experts, waiting for their invites`);
    const { line, inviteMs } = await seedExperts(world, phones);

    console.error(`end to end: ${ROUND_TRIPS} round trips one at a time, then ${BURSTS} bursts of ${EXPERTS}`);
    const sequential = await sequentialTrips(world, phones, line);
    const bursts = await burstTrips(world, phones, line);
    const stages = await Promise.all(
      [sequential, bursts].map(async (r) => {
        const found: Stages[] = [];
        for (const trip of r.trips) {
          const stage = await stagesOf(world, trip);
          if (stage) found.push(stage);
        }
        return found;
      }),
    );

    // Webhooks alone: stop the workers (their outbox rows then just accumulate) and let callbacks finish.
    await workers.close();
    workers = null;
    await liveSandbox.idle();
    const count = async (prisma: Deps["prisma"]) => ({
      inbound: await prisma.message.count({ where: { direction: "inbound", from: CUSTOMER } }),
      receipts: await prisma.webhookReceipt.count({ where: { dedupeKey: { startsWith: "sms:" } } }),
      outbox: await prisma.outboxEvent.count(),
    });
    const before = await count(deps.prisma);
    console.error(`webhooks: ${SETTINGS.requests} requests per scenario at ${SETTINGS.connections} connections`);
    const run = await runLoad({ baseUrl, scenarios: webhookScenarios(appConfig, line), deadline: BUDGET.loadDeadline }, BUDGET.workerKillAt);
    const after = await count(deps.prisma);
    const [newSid, replay] = run.results;
    const written: RowsWritten = {
      inbound: after.inbound - before.inbound,
      receipts: after.receipts - before.receipts,
      outbox: after.outbox - before.outbox,
      distinct: (newSid?.sent ?? 0) + (replay && replay.sent > 0 ? 1 : 0),
    };

    // The limit runs with the app closed, as it did before the app started.
    await liveApp.close();
    app = null;
    await bench.measureLimitAfter();
    const { limits } = bench;

    printReportHeading("telephony");
    console.log(
      `in-process: Fastify app on 127.0.0.1, Twilio sandbox on 127.0.0.1 (its webhooks delivered by inject), ` +
        `real PostgreSQL + Redis; SMS_MESSAGES_PER_SECOND=${appConfig.SMS_MESSAGES_PER_SECOND}; ` +
        `${EXPERTS} experts invited in ${inviteMs.toFixed(0)} ms (includes buying the expert line)`,
    );
    console.log(
      `limit: bare Fastify + @fastify/formbody, one INSERT per signed inbound-SMS form, pg pool of ${bench.limitPoolSize} (DATABASE_POOL_SIZE, as the app's)`,
    );
    console.log("");
    printWebhooks(betweenLimits(limits, run.results), limits, written);
    printE2e([sequential, bursts], stages);
    return loadExitCode(run.error, ...limits.map((limit) => limit.error));
  } finally {
    await closeInOrder({ workers, sandbox, app, bench });
  }
}

runBounded(main, BUDGET.hardExitAt);
