/**
 * One isolated world per test file: its own PostgreSQL schema (migrated from
 * the committed SQL), its own BullMQ key prefix in Redis, and the real app.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { buildApp, type App } from "../../src/app.js";
import type { Config } from "../../src/config.js";
import { createDeps, type Deps } from "../../src/deps.js";
import type { Clock } from "../../src/lib/clock.js";
import { testConfig } from "./config.js";
import { createTestSchema, dropTestSchema } from "./database.js";

export interface TestContext {
  config: Config;
  deps: Deps;
  app: App;
  schema: string;
}

export interface TestContextOptions {
  clock?: Clock;
  config?: Record<string, string>;
}

export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext & { close(): Promise<void> }> {
  const config = testConfig(options.config);
  const schema = await createTestSchema(config.DATABASE_URL);
  const queuePrefix = `test-${randomBytes(4).toString("hex")}`;
  const deps = createDeps(config, { dbSchema: schema, queuePrefix, ...(options.clock ? { clock: options.clock } : {}) });
  // The request-path connection fails fast instead of queueing: wait until it is up.
  if (deps.redis.status !== "ready") await once(deps.redis, "ready");
  const app = await buildApp(deps);
  await app.ready();
  return {
    config,
    deps,
    app,
    schema,
    async close() {
      await app.close();
      const keys = await deps.redis.keys(`${queuePrefix}:*`);
      if (keys.length > 0) await deps.redis.del(...keys);
      await deps.close();
      await dropTestSchema(config.DATABASE_URL, schema);
    },
  };
}

/** Registers before/after hooks and returns a getter for the file's context. */
export function useTestContext(options: TestContextOptions = {}): () => TestContext {
  let context: (TestContext & { close(): Promise<void> }) | undefined;
  beforeAll(async () => {
    context = await createTestContext(options);
  });
  afterAll(async () => {
    await context?.close();
  });
  return () => {
    if (!context) throw new Error("test context used outside a test");
    return context;
  };
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return response.json<T>();
}
