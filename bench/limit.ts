/**
 * The `limit` scenario: what this machine can do for an inbound webhook with
 * nothing of the app in the way. A bare Fastify app, @fastify/formbody, one
 * route that parses the same urlencoded form as POST /twilio/sms and does one
 * PostgreSQL INSERT through a plain `pg` pool of the app's size, and answers
 * the same empty TwiML. Both benchmarks run it before and after their own
 * scenarios and print every scenario's ratio to it (issue 6, section 5).
 */
import formbody from "@fastify/formbody";
import Fastify from "fastify";
import pg from "pg";
import type { Config } from "../src/config.js";
import { runLoad, type LoadSettings } from "./common.js";
import type { Scenario, ScenarioResult } from "./load.js";
import { FICTIONAL_LINE, newSidBodies } from "./twilio-form.js";

export const LIMIT_PATH = "/limit";
const TABLE = "bench_limit_sms";
/** What POST /twilio/sms answers: an empty MessagingResponse. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
export interface LimitServer {
  baseUrl: string;
  /** Rows the route has inserted, as a check that every 2xx did its INSERT. */
  rows(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the bare route on 127.0.0.1, its table in `schema` (the bench's own test schema). */
export async function startLimitServer(options: { connectionString: string; schema: string; poolSize: number }): Promise<LimitServer> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    options: `-c search_path="${options.schema.replaceAll('"', "")}"`,
  });
  const app = Fastify({ logger: false });
  try {
    // The same receipt the webhook needs at the least: the MessageSid, unique, and what was said.
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (
         message_sid text PRIMARY KEY,
         "from" text NOT NULL,
         "to" text NOT NULL,
         body text NOT NULL,
         received_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await app.register(formbody);
    app.post(LIMIT_PATH, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, unknown>;
      const { MessageSid: sid, From: from, To: to, Body: body = "" } = form;
      if (typeof sid !== "string" || typeof from !== "string" || typeof to !== "string" || typeof body !== "string") {
        return reply.code(400).send({ error: "MessageSid, From and To are required" });
      }
      await pool.query(`INSERT INTO ${TABLE} (message_sid, "from", "to", body) VALUES ($1, $2, $3, $4)`, [sid, from, to, body]);
      return reply.type("text/xml; charset=utf-8").send(EMPTY_TWIML);
    });
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    return {
      baseUrl: address,
      async rows() {
        const { rows } = await pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${TABLE}`);
        return Number(rows[0]?.count ?? 0);
      },
      async close() {
        await app.close();
        await pool.end();
      },
    };
  } catch (error) {
    await app.close();
    await pool.end();
    throw error;
  }
}

/** The limit scenario: signed inbound-SMS forms, a new MessageSid per request, as the webhook scenario sends. */
export function limitScenario(
  config: Config,
  name: string,
  load: LoadSettings,
): Scenario {
  return {
    ...load,
    name,
    method: "POST",
    path: LIMIT_PATH,
    headers: {},
    body: newSidBodies(config, FICTIONAL_LINE, load.warmup + load.requests),
  };
}

export interface LimitRun {
  result: ScenarioResult | null;
  /** Set when the load generator broke. */
  error: string | null;
  /** Rows this run inserted: every 2xx is one. */
  inserted: number;
}

/** Starts the bare route, runs the limit scenario against it from the load worker, and stops the route. */
export async function measureLimit(options: {
  config: Config;
  schema: string;
  poolSize: number;
  name: string;
  settings: LoadSettings;
  deadline: number;
  killAt: number;
}): Promise<LimitRun> {
  const server = await startLimitServer({ connectionString: options.config.DATABASE_URL, schema: options.schema, poolSize: options.poolSize });
  try {
    const before = await server.rows();
    const scenario = limitScenario(options.config, options.name, options.settings);
    const { results, error } = await runLoad({ baseUrl: server.baseUrl, scenarios: [scenario], deadline: options.deadline }, options.killAt);
    return { result: results[0] ?? null, error, inserted: (await server.rows()) - before };
  } finally {
    await server.close();
  }
}
