/**
 * The routing worker: find candidates, rank them, send offers, close them on
 * timeout, widen the search and expire questions nobody took.
 */
import type { Deps } from "../../deps.js";
import type { JobDefinition } from "../../jobs/define.js";

export type RoutingDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

export function routingJobs(_deps: RoutingDeps): JobDefinition[] {
  return [];
}
