/**
 * The only reader of process.env. Parsed once at start-up; a missing or
 * malformed variable stops the process with one line that names it.
 */
import { existsSync } from "node:fs";
import { z } from "zod";

/** Defaults of the SMS pumping guard's rate limits (see the SMS_GUARD_* variables). */
export const SMS_GUARD_DEFAULTS = { shopPerMinute: 120, destinationPerHour: 5, destinationPerDay: 20 } as const;

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const configSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgresql:// URL" }),
  /**
   * PostgreSQL connections this process may hold (Prisma and raw SQL share
   * them). A few per core of the database server: past that, more connections
   * only queue inside PostgreSQL instead of in the pool. Size the database's
   * max_connections for every api and worker process.
   */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// URL" }),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }).transform((url) => url.replace(/\/+$/, "")),
  ADMIN_API_KEY: z.string().min(24, "must be at least 24 characters"),
  /**
   * Named admin keys, so every payout decision records who made it:
   * `name:key,name:key` (names are letters, digits, . _ @ -; keys 24+ characters).
   * ADMIN_API_KEY is the admin called "admin".
   */
  ADMIN_API_KEYS: z
    .string()
    .regex(/^[\w.@-]{1,64}:\S{24,}(,[\w.@-]{1,64}:\S{24,})*$/, "must be name:key pairs (keys of 24+ characters), comma-separated")
    .transform((value) => value.split(",").map((pair) => ({ name: pair.slice(0, pair.indexOf(":")), key: pair.slice(pair.indexOf(":") + 1) })))
    .optional(),
  LOG_LEVEL: z.enum(logLevels).default("info"),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-f]{32}$/, "must look like AC followed by 32 hex digits"),
  TWILIO_AUTH_TOKEN: z.string().min(16, "must be at least 16 characters"),
  /** Unset in production (the SDK talks to Twilio); the sandbox's URL otherwise. */
  TWILIO_API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, "must start with sk_test_, sk_live_, rk_test_ or rk_live_"),
  /**
   * The signing secret of the Stripe webhook endpoint. While a secret is
   * being rolled on our side, list both, comma-separated: an event signed
   * by either is accepted (Stripe itself signs with both during its roll).
   */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+(,whsec_\w+)*$/, "must start with whsec_ (two secrets, comma-separated, while rolling)")
    .transform((value) => value.split(",")),
  /** Unset in production (the SDK talks to Stripe); the sandbox's URL otherwise. */
  STRIPE_API_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Where the development process's Stripe sandbox keeps its accounts, transfers and balance across restarts. */
  STRIPE_SANDBOX_STATE_FILE: z.string().min(1).default(".expertline/sandbox/stripe-state.json"),
  /**
   * Where a browser reaches the Stripe sandbox, when that is not
   * STRIPE_API_BASE_URL (in docker compose the api calls http://sandbox:3002,
   * while the expert's browser opens http://localhost:3002). Account links point here.
   */
  STRIPE_SANDBOX_PUBLIC_URL: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, "")).optional(),
  /** The Stripe sandbox's rate limit in requests per second (Stripe's own sandbox mode allows 25). */
  STRIPE_SANDBOX_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(25),
  /**
   * Earnings wait this long after their session ends before a payout run
   * gathers them, so ratings and refunds can land first. 0 is allowed.
   */
  PAYOUT_REVIEW_WINDOW_HOURS: z.coerce.number().min(0).max(24 * 365).default(72),
  /**
   * Transfers created per second at most (a BullMQ limiter on the transfers
   * queue, shared by every worker): Stripe's per-endpoint limit, 25/s by
   * default. Other endpoints have limits of their own; a 429 that still
   * comes back pauses the queue for a second and the transfer runs again.
   * Lower it if Stripe gave your account a lower limit.
   */
  STRIPE_TRANSFERS_PER_SECOND: z.coerce.number().int().min(1).max(100).default(25),
  /** Messages per second each sending number may send (a US long code does 1). */
  SMS_MESSAGES_PER_SECOND: z.coerce.number().positive().max(1000).default(1),
  /**
   * Buy a number for a shop's expert line when it has none. Defaults to on
   * only against a sandbox (TWILIO_API_BASE_URL set): real numbers cost money.
   */
  TWILIO_AUTO_PROVISION_NUMBERS: z.enum(["true", "false"]).optional(),
  /** Run the built-in Twilio sandbox in the development process (on TWILIO_API_BASE_URL's port). */
  SANDBOX_ENABLED: z.enum(["true", "false"]).default("false"),
  /** Where the standalone sandbox (dist/sandbox.js, e.g. in docker compose) delivers webhooks: the api's address. */
  SANDBOX_APP_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
  /** The interface the standalone sandbox binds: loopback unless a container needs it reachable (then publish it on 127.0.0.1 only). */
  SANDBOX_HOST: z.string().min(1).default("127.0.0.1"),
  /** The sandbox's own memory (numbers bought, messages, opt-outs), kept across restarts as Twilio keeps them. */
  SANDBOX_STATE_FILE: z.string().min(1).default(".expertline/sandbox/twilio-state.json"),
  /**
   * SMS pumping guard (OWASP API4): every question texts a number someone
   * else supplied, and the platform pays for each text. New questions a shop
   * may start per minute: a burst ceiling far above a real shop's traffic (a
   * busy store sees a few a minute) that stops a scripted form within a
   * minute; the per-number limits and the daily cap on new numbers bound
   * the total.
   */
  SMS_GUARD_SHOP_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(SMS_GUARD_DEFAULTS.shopPerMinute),
  /** Questions one phone number may be sent per hour, across shops: a customer rarely asks more than two or three. */
  SMS_GUARD_DESTINATION_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(SMS_GUARD_DEFAULTS.destinationPerHour),
  /** ...and per rolling day, so a slow drip to one number stays bounded. */
  SMS_GUARD_DESTINATION_PER_DAY: z.coerce.number().int().min(1).max(100_000).default(SMS_GUARD_DEFAULTS.destinationPerDay),
  /** Who experts can reach for help; sent in HELP replies. */
  SUPPORT_CONTACT: z.string().min(3).default("support@expertline.example"),
  /** Body size limit for REST requests, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(64 * 1024),
  /**
   * How long a worker holds a job's lock in Redis without renewing it
   * (BullMQ's lockDuration; renewed at half that while the job runs). A worker
   * that dies mid-job is noticed only after its lock ran out, so this bounds how
   * long a crashed worker's running jobs wait before another worker runs them
   * again; too short, and a busy event loop (a long GC pause) loses locks of
   * jobs that are still running, which then run twice.
   */
  JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** How often a worker looks for jobs whose lock ran out (BullMQ's stalledInterval). Unset: JOB_LOCK_MS. */
  JOB_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).optional(),
  /** How long graceful shutdown waits for in-flight work before giving up. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Shop webhooks: the key every endpoint's signing secret is derived from
   * (src/modules/webhooks/signature.ts), so the database never holds a secret.
   * Required in production; development and tests use a fixed, public default.
   * Changing it changes every endpoint's secret.
   */
  WEBHOOK_SIGNING_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  /** How long a shop's endpoint has to answer a delivery, in ms. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(10_000),
  /**
   * Allow endpoints on http:// and on loopback addresses (a receiver on this
   * machine). Default: true except in production, where an endpoint must be
   * https on a public address. Private, link-local and metadata addresses are
   * refused either way (SSRF; src/modules/webhooks/address-policy.ts).
   */
  WEBHOOK_ALLOW_LOOPBACK_URLS: z.enum(["true", "false"]).optional(),
  /** The old name of WEBHOOK_ALLOW_LOOPBACK_URLS, read when that is unset; it allows loopback only now. */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(["true", "false"]).optional(),
}).refine((config) => config.NODE_ENV !== "production" || config.WEBHOOK_SIGNING_KEY !== undefined, {
  path: ["WEBHOOK_SIGNING_KEY"],
  message: "is required when NODE_ENV=production (32 or more random characters)",
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses `env` (process.env by default); throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings are "unset": .env files often carry `NAME=` lines.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? "environment");
  const problem = issue?.code === "invalid_type" && cleaned[name] === undefined ? "is not set" : issue?.message;
  throw new ConfigError(`config: ${name} ${problem} (see .env.example)`);
}

/** For tools that only touch the database (migrate, seed). */
export function loadDatabaseUrl(env: Record<string, string | undefined> = process.env): string {
  const result = configSchema.shape.DATABASE_URL.safeParse(env.DATABASE_URL);
  if (!result.success) {
    throw new ConfigError(`config: DATABASE_URL ${env.DATABASE_URL ? "must be a postgresql:// URL" : "is not set"} (see .env.example)`);
  }
  return result.data;
}

/** Loads ./.env into process.env when present (variables already set win). */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/** For entry points: parse or print the one-line reason and exit. */
export function loadConfigOrExit(): Config;
export function loadConfigOrExit<T>(load: () => T): T;
export function loadConfigOrExit(load: () => unknown = loadConfig): unknown {
  loadDotEnv();
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
