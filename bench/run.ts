/**
 * REST API benchmark: boots the real app in this process on 127.0.0.1 (its
 * own fresh PostgreSQL schema and Redis key prefix), seeds data, then drives
 * each scenario with autocannon from a worker thread and prints latency and
 * throughput, each scenario against the bare `limit` route run before and
 * after them. It prints figures only; it never fails on timings. See
 * bench/README.md.
 *
 *   npm run bench
 *   BENCH_REQUESTS=500 BENCH_CONNECTIONS=16 npm run bench
 *   npm run bench -- telephony     (bench/telephony.ts: Twilio webhooks and SMS round trips)
 *   npm run bench -- routing       (bench/routing.ts: candidate query + ranking at 100k experts)
 *   npm run bench -- flow          (bench/flow.ts: question -> offer SMS at 50/s, and the session relay)
 *   npm run bench -- payouts       (bench/payouts.ts: 10k sessions gathered into payouts, paid against the rate-limited Stripe sandbox)
 */
import "../test/helpers/no-network.js"; // any connection off 127.0.0.1 throws
import { randomBytes } from "node:crypto";
import { buildApp, type App } from "../src/app.js";
import type { Deps } from "../src/deps.js";
import { testConfig } from "../test/helpers/config.js";
import {
  betweenLimits,
  limitBaseline,
  limitResults,
  loadExitCode,
  loadSettings,
  printLoadResults,
  printReportHeading,
  runBounded,
  runLoad,
  timeBudget,
  type LoadSettings,
} from "./common.js";
import type { LimitRun } from "./limit.js";
import type { Scenario, ScenarioResult } from "./load.js";
import { createBenchShop, listenLocal, prepareBench, usPhones, type PreparedBench } from "./setup.js";

const startedAt = Date.now();
const BUDGET = timeBudget(startedAt);

const SETTINGS = loadSettings();
const SEED_EXPERTS = 2_000;
const TAGS = [
  "all-grain",
  "extract",
  "kegging",
  "fermentation",
  "water-chemistry",
  "yeast",
  "hops",
  "mash-ph",
  "bottling",
  "sanitation",
] as const;
const FILTER_TAG = "mash-ph";

async function seedExperts(deps: Deps, shopId: string): Promise<void> {
  await deps.prisma.skillTag.createMany({
    data: TAGS.map((slug) => ({ shopId, slug, label: slug })),
    skipDuplicates: true,
  });
  const experts = await deps.prisma.expert.createManyAndReturn({
    // San Francisco numbers, lines from 1000.
    data: usPhones("415", SEED_EXPERTS, 1000).map((phone, i) => ({ shopId, phone, name: `Bench Expert ${i}`, timeZone: "UTC" })),
    select: { id: true },
  });
  await deps.prisma.expertSkill.createMany({
    data: experts.flatMap(({ id }, i) => [
      { expertId: id, tag: TAGS[i % TAGS.length] ?? "all-grain", level: (i % 5) + 1 },
      { expertId: id, tag: TAGS[(i + 3) % TAGS.length] ?? "all-grain", level: ((i + 2) % 5) + 1 },
    ]),
  });
}

function scenarios(apiKey: string, runId: string, settings: LoadSettings): Scenario[] {
  const auth = { authorization: `Bearer ${apiKey}` };
  const common = settings;
  return [
    { ...common, name: "GET /healthz", method: "GET", path: "/healthz", headers: {} },
    { ...common, name: "GET /v1/shop", method: "GET", path: "/v1/shop", headers: auth },
    {
      ...common,
      name: "POST /v1/products (create)",
      method: "POST",
      path: "/v1/products",
      headers: auth,
      body: { kind: "uniqueSku", prefix: `BENCH-${runId}`, name: "Bench Kettle", tags: ["all-grain"] },
    },
    { ...common, name: `GET /v1/experts?limit=25`, method: "GET", path: "/v1/experts?limit=25", headers: auth },
    {
      ...common,
      name: `GET /v1/experts?tag=${FILTER_TAG}&limit=25`,
      method: "GET",
      path: `/v1/experts?tag=${FILTER_TAG}&limit=25`,
      headers: auth,
    },
    {
      ...common,
      name: "POST /v1/experts (idem. replay)",
      method: "POST",
      path: "/v1/experts",
      headers: { ...auth, "idempotency-key": `bench-${runId}` },
      body: {
        kind: "json",
        json: JSON.stringify({
          phone: "+14154999999",
          name: "Replay Expert",
          timeZone: "UTC",
          skills: [{ tag: "all-grain", level: 3 }],
        }),
      },
      // The first request creates the expert; every later one is a replay of it.
      prime: 1,
      expectHeader: ["idempotent-replayed", "true"],
    },
  ];
}

function printReport(results: ScenarioResult[], limits: LimitRun[], seedMs: number, pool: number) {
  printReportHeading("REST API");
  console.log(
    `server: in-process Fastify on 127.0.0.1, real PostgreSQL + Redis; ${SEED_EXPERTS} experts seeded in ${seedMs.toFixed(0)} ms`,
  );
  console.log(
    `load: autocannon in a worker thread, ${SETTINGS.connections} connections, ${SETTINGS.warmup} warm-up + ` +
      `${SETTINGS.requests} measured requests per scenario`,
  );
  console.log(
    `limit: bare Fastify + @fastify/formbody, one INSERT per signed inbound-SMS form, pg pool of ${pool} (DATABASE_POOL_SIZE, as the app's); ` +
      `run before and after the scenarios, with the app closed`,
  );
  console.log("");
  printLoadResults(results, limitBaseline(limitResults(limits)));
  console.log(`limit route rows inserted: ${limits.map((run) => run.inserted).join(" + ")} (every 2xx is one)`);
  console.log("the issue's goal is about the webhook against this limit: see `npm run bench -- telephony`");
}

async function main(): Promise<number> {
  const config = testConfig({ LOG_LEVEL: "silent" });

  const runId = randomBytes(4).toString("hex");
  let bench: PreparedBench | null = null;
  let app: App | null = null;
  try {
    bench = await prepareBench({ config, settings: SETTINGS, queuePrefix: `bench-${runId}`, deadline: BUDGET.loadDeadline, killAt: BUDGET.workerKillAt });

    console.error("setting up: app, shop, seed data");
    const deps = await bench.connect(config);
    const liveApp = await buildApp(deps);
    app = liveApp;
    const baseUrl = await listenLocal(liveApp);

    const shop = await createBenchShop(baseUrl);
    const seedStarted = performance.now();
    await seedExperts(deps, shop.id);
    const seedMs = performance.now() - seedStarted;

    console.error(`running the scenarios: ${SETTINGS.requests} requests each at ${SETTINGS.connections} connections`);
    const run = await runLoad(
      { baseUrl, scenarios: scenarios(shop.key, runId, SETTINGS), deadline: BUDGET.loadDeadline },
      BUDGET.workerKillAt,
    );
    // The limit runs with the app closed, as it did before the app started.
    await liveApp.close();
    app = null;
    await bench.measureLimitAfter();

    const { limits } = bench;
    printReport(betweenLimits(limits, run.results), limits, seedMs, bench.limitPoolSize);
    return loadExitCode(run.error, ...limits.map((limit) => limit.error));
  } finally {
    await app?.close();
    await bench?.close();
  }
}

const which = process.argv[2];
if (which === "telephony") {
  // `npm run bench -- telephony`: the webhook and SMS round-trip benchmark instead (it keeps its own time budget).
  await import("./telephony.js");
} else if (which === "routing") {
  // `npm run bench -- routing`: the candidate query and ranking at 100k experts (it keeps its own time budget).
  await import("./routing.js");
} else if (which === "flow") {
  // `npm run bench -- flow`: question -> offer SMS at a steady rate, and the session relay (it keeps its own time budget).
  await import("./flow.js");
} else if (which === "payouts") {
  // `npm run bench -- payouts`: payouts for 10k sessions, paid against the Stripe sandbox's rate limit (it keeps its own time budget).
  await import("./payouts.js");
} else if (which !== undefined && which !== "api") {
  console.error(`unknown benchmark ${which}: use "npm run bench" (REST API), "npm run bench -- telephony", "npm run bench -- routing", "npm run bench -- flow" or "npm run bench -- payouts"`);
  process.exitCode = 1;
} else {
  runBounded(main, BUDGET.hardExitAt);
}
