/**
 * The sessions worker: open an accepted question's masked conversation, end
 * idle ones, and ask for the rating.
 */
import type { Deps } from "../../deps.js";
import type { JobDefinition } from "../../jobs/define.js";

export type SessionDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

/** Enqueued (through the outbox) by the acceptance that creates the Session row, job id `start-session-<sessionId>`. */
export const START_SESSION = "start-session";

export function sessionJobs(_deps: SessionDeps): JobDefinition[] {
  return [];
}
