/**
 * What both benchmarks do around their own scenarios: a fresh migrated
 * schema, the `limit` run before anything of the app starts, the app's
 * connections on that schema under a Redis key prefix of the run's own, the
 * `limit` run again at the end, and the clean-up of all of it.
 *
 * Its own module rather than common.ts: it needs limit.ts, which needs
 * common.ts, and the app's dependencies, which the bare limit route must not.
 */
import { once } from "node:events";
import type { Config } from "../src/config.js";
import { ensureDatabase } from "../src/db/migrate.js";
import { createDeps, type Deps } from "../src/deps.js";
import { createTestSchema, dropTestSchema } from "../test/helpers/database.js";
import { withTimeout, type LoadSettings } from "./common.js";
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
 * Creates the bench's schema and runs "limit (before)" in it. `config` is
 * what the limit signs its forms with and connects to.
 */
export async function prepareBench(options: {
  config: Config;
  settings: LoadSettings;
  queuePrefix: string;
  deadline: number;
  killAt: number;
}): Promise<PreparedBench> {
  const { config, settings, queuePrefix } = options;
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
