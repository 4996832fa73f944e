/**
 * What the benchmarks do around their own scenarios: a fresh migrated
 * schema, the `limit` run before anything of the app starts, the app's
 * connections on that schema under a Redis key prefix of the run's own, the
 * `limit` run again at the end, and the clean-up of all of it. Also the
 * pieces of the in-process app they share: its port, the Twilio sandbox
 * delivering to it, the seed shop and phones, and the order of shutdown.
 *
 * Its own module rather than common.ts: it needs limit.ts, which needs
 * common.ts, and the app's dependencies, which the bare limit route must not.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { App } from "../src/app.js";
import type { Config } from "../src/config.js";
import { ensureDatabase } from "../src/db/migrate.js";
import { createDeps, type Deps } from "../src/deps.js";
import { toE164 } from "../src/lib/phone.js";
import { createTwilioSandbox, type TwilioSandbox } from "../src/sandbox/twilio/server.js";
import type { WebhookSender } from "../src/sandbox/twilio/transport.js";
import type { RunningWorkers } from "../src/workers.js";
import { TEST_ADMIN_KEY } from "../test/helpers/config.js";
import { createTestSchema, dropTestSchema } from "../test/helpers/database.js";
import { assertLocal, postJson, withTimeout, type LoadSettings } from "./common.js";
import { measureLimit, type LimitRun } from "./limit.js";

export interface PreparedBench {
  schema: string;
  /** Connections of the limit route's pool: as many as the app's (one pool per process). */
  limitPoolSize: number;
  /** The limit runs so far: "limit (before)" first. */
  limits: LimitRun[];
  /** The app's dependencies on the bench's schema and key prefix, once Redis is connected. */
  connect(appConfig: Config): Promise<Deps>;
  /** Runs "limit (after)" (call it with the app closed, as the first run was) and adds it to `limits`. */
  measureLimitAfter(): Promise<LimitRun>;
  /** Deletes the run's Redis keys, closes the app's connections and drops the schema. */
  close(): Promise<void>;
}

/**
 * Checks that `config` points at this machine, creates the bench's schema and
 * runs "limit (before)" in it. `config` is what the limit signs its forms
 * with and connects to. Without a `queuePrefix`, the run gets a random one.
 */
export async function prepareBench(options: {
  config: Config;
  settings: LoadSettings;
  queuePrefix?: string;
  deadline: number;
  killAt: number;
}): Promise<PreparedBench> {
  const { config, settings } = options;
  // A benchmark fills and drops schemas and deletes Redis keys: never anywhere but here.
  assertLocal("TEST_DATABASE_URL", config.DATABASE_URL);
  assertLocal("TEST_REDIS_URL", config.REDIS_URL);
  const queuePrefix = options.queuePrefix ?? `bench-${randomBytes(4).toString("hex")}`;
  const limitPoolSize = config.DATABASE_POOL_SIZE;
  await ensureDatabase(config.DATABASE_URL);
  const schema = await createTestSchema(config.DATABASE_URL, "bench");
  const limitRun = (name: string) =>
    measureLimit({ config, schema, poolSize: limitPoolSize, name, settings, deadline: options.deadline, killAt: options.killAt });

  let limits: LimitRun[];
  try {
    console.error(`limit (before): ${settings.requests} requests at ${settings.connections} connections`);
    limits = [await limitRun("limit (before)")];
  } catch (error) {
    await dropTestSchema(config.DATABASE_URL, schema);
    throw error;
  }

  let deps: Deps | null = null;
  return {
    schema,
    limitPoolSize,
    limits,
    async connect(appConfig) {
      const connected = createDeps(appConfig, { dbSchema: schema, queuePrefix });
      deps = connected;
      // The request-path connection fails fast instead of queueing: wait until it is up.
      if (connected.redis.status !== "ready") await withTimeout(once(connected.redis, "ready"), 5_000, "connecting to Redis");
      return connected;
    },
    async measureLimitAfter() {
      console.error("limit (after)");
      const run = await limitRun("limit (after)");
      limits.push(run);
      return run;
    },
    async close() {
      try {
        if (deps) {
          const keys = await deps.redis.keys(`${queuePrefix}:*`).catch(() => []);
          if (keys.length > 0) await deps.redis.del(...keys);
          await deps.close();
        }
      } finally {
        await dropTestSchema(config.DATABASE_URL, schema);
      }
    },
  };
}

/** Starts the app on a free port of 127.0.0.1 and returns its base URL: the load comes over real HTTP. */
export async function listenLocal(app: App): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("the server has no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

/** Hands the sandbox's webhooks to the app through inject, as the telephony tests do: no second HTTP hop to measure. */
function injectWebhooks(app: App): WebhookSender {
  return async ({ url: target, method, params, headers }) => {
    const { pathname, search } = new URL(target);
    const response = await app.inject({
      method,
      url: `${pathname}${search}`,
      headers,
      ...(method === "POST" ? { payload: new URLSearchParams(params).toString() } : {}),
    });
    return { status: response.statusCode, contentType: String(response.headers["content-type"] ?? ""), body: response.body };
  };
}

export interface BenchSandbox {
  sandbox: TwilioSandbox;
  /** Its REST API's base URL: the app's TWILIO_API_BASE_URL. */
  url: string;
  /** From now on its webhooks go to `app` (before, they fail: "app not started"). */
  deliverTo(app: App): void;
}

/**
 * The Twilio sandbox on a free port of 127.0.0.1, with `config`'s account.
 * It starts before the app because the app's config needs its URL, so where
 * its webhooks go is set afterwards with `deliverTo`.
 */
export async function startTwilioSandbox(config: Config): Promise<BenchSandbox> {
  let deliver: WebhookSender = () => Promise.reject(new Error("app not started"));
  const sandbox = await createTwilioSandbox({
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN,
    clock: { now: () => new Date() },
    sender: (request) => deliver(request),
  });
  try {
    const url = await sandbox.app.listen({ port: 0, host: "127.0.0.1" });
    return {
      sandbox,
      url,
      deliverTo(app) {
        deliver = injectWebhooks(app);
      },
    };
  } catch (error) {
    await sandbox.app.close();
    throw error;
  }
}

/**
 * Stops what a benchmark started, in the order that lets work in flight end
 * cleanly: the workers, then the sandbox's pending webhooks (they need the
 * app), the app, the sandbox, and last the schema and Redis keys. A part
 * that never started or was stopped already is null.
 */
export async function closeInOrder(parts: {
  workers: RunningWorkers | null;
  sandbox: TwilioSandbox | null;
  app: App | null;
  bench: PreparedBench | null;
}): Promise<void> {
  await parts.workers?.close();
  await parts.sandbox?.idle();
  await parts.app?.close();
  await parts.sandbox?.app.close();
  await parts.bench?.close();
}

/** The seed shop every benchmark creates through the admin API, with its API key. */
export async function createBenchShop(baseUrl: string): Promise<{ id: string; key: string }> {
  const created = await postJson<{ shop: { id: string }; apiKey: { key: string } }>(baseUrl, "/v1/admin/shops", TEST_ADMIN_KEY, {
    name: "Bench Homebrew Supply",
  });
  return { id: created.shop.id, key: created.apiKey.key };
}

/**
 * Distinct valid US numbers in one area code: exchanges 300-499 minus N11
 * codes, lines from `firstLine`. Callers give each role (experts,
 * customers) its own area code or lines, so their numbers never collide.
 */
export function usPhones(areaCode: string, count: number, firstLine: number): string[] {
  const exchanges: number[] = [];
  for (let exchange = 300; exchange < 500; exchange++) if (exchange % 100 !== 11) exchanges.push(exchange);
  return Array.from({ length: count }, (_, i) => {
    const raw = `+1${areaCode}${exchanges[i % exchanges.length]}${firstLine + Math.floor(i / exchanges.length)}`;
    const e164 = toE164(raw);
    if (!e164) throw new Error(`bench phone ${raw} is not valid`);
    return e164;
  });
}
