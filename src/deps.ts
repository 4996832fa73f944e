/**
 * Builds every piece of infrastructure once, from config. Modules receive
 * what they need from here; nothing constructs its own client.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import pg from "pg";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { systemClock, type Clock } from "./lib/clock.js";
import { createLogger } from "./lib/logger.js";
import { createStripeClient, type StripeClient } from "./providers/stripe/client.js";
import { createTwilioClient, type TwilioClient } from "./providers/twilio/client.js";

export interface Deps {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  /**
   * The pool under Prisma, for the hot paths' single-statement raw SQL
   * (webhooks): one round trip, without Prisma's query compiler in the way.
   */
  sql: pg.Pool;
  /** Request-path Redis connection: fails fast instead of queueing while Redis is down. */
  redis: Redis;
  clock: Clock;
  twilio: TwilioClient;
  stripe: StripeClient;
  /** BullMQ key prefix; tests give each file its own. */
  queuePrefix: string;
  close(): Promise<void>;
}

export interface DepsOverrides {
  logger?: Logger;
  clock?: Clock;
  /** PostgreSQL schema (tests isolate each file in its own). */
  dbSchema?: string;
  queuePrefix?: string;
}

/**
 * One pg pool per process, shared by Prisma and the hot paths' raw SQL, so
 * its size (DATABASE_POOL_SIZE) bounds this process's connections.
 */
export function createDatabase(
  connectionString: string,
  {
    schema = "public",
    poolSize = 10,
    onIdleError = () => {},
  }: { schema?: string; poolSize?: number; onIdleError?: (error: Error) => void } = {},
): { prisma: PrismaClient; sql: pg.Pool } {
  // The adapter's `schema` qualifies Prisma's own queries; raw SQL (row locks,
  // hot paths) is unqualified, so the connection's search_path must point there too.
  const sql = new pg.Pool({ connectionString, max: poolSize, options: `-c search_path="${schema.replaceAll('"', "")}"` });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  sql.on("error", onIdleError);
  const prisma = new PrismaClient({ adapter: new PrismaPg(sql, { schema, disposeExternalPool: true }) });
  return { prisma, sql };
}

export function createPrisma(connectionString: string, schema = "public"): PrismaClient {
  return createDatabase(connectionString, { schema, poolSize: 2 }).prisma;
}

/** `name` shows in Redis's CLIENT LIST, so operators (and tests) can tell connections apart. */
export function createRedis(url: string, role: "producer" | "worker", name?: string): Redis {
  return new Redis(url, {
    ...(name ? { connectionName: name } : {}),
    // BullMQ workers block on Redis and must never give up a command;
    // producers on the request path must fail fast so a request can answer.
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role === "worker",
    lazyConnect: false,
  });
}

export function createDeps(config: Config, overrides: DepsOverrides = {}): Deps {
  const logger =
    overrides.logger ?? createLogger({ level: config.LOG_LEVEL, pretty: config.NODE_ENV === "development" });
  const { prisma, sql } = createDatabase(config.DATABASE_URL, {
    ...(overrides.dbSchema ? { schema: overrides.dbSchema } : {}),
    poolSize: config.DATABASE_POOL_SIZE,
    onIdleError: (error) => logger.warn({ err: error }, "idle PostgreSQL connection failed"),
  });
  const redis = createRedis(config.REDIS_URL, "producer");
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  return {
    config,
    logger,
    prisma,
    sql,
    redis,
    clock: overrides.clock ?? systemClock,
    twilio: createTwilioClient(config),
    stripe: createStripeClient(config),
    queuePrefix: overrides.queuePrefix ?? "expertline",
    async close() {
      await Promise.allSettled([prisma.$disconnect().then(() => (sql.ended ? undefined : sql.end())), redis.quit()]);
    },
  };
}
