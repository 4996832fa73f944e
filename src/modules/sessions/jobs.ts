/**
 * The sessions worker: open an accepted question's masked conversation and
 * end idle ones. Texts to proxy numbers arrive through telephony's inbound
 * job (relay.ts); ending and rating are called from there.
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob, type JobDefinition } from "../../jobs/define.js";
import { checkIdleSession, SESSION_IDLE } from "./idle.js";
import { startSession } from "./start.js";
import { voiceJobs } from "./voice-jobs.js";

export type SessionDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

import { START_SESSION } from "./job-names.js";

export { START_SESSION } from "./job-names.js";
export { SESSION_IDLE, sweepIdleSessions } from "./idle.js";
/** For other modules (voice ends its sessions on hang-up). */
export { endSession, type EndSessionInput } from "./end.js";

const sessionPayload = z.object({ sessionId: z.uuid() });

export function startSessionJob(deps: SessionDeps) {
  return defineJob({
    name: START_SESSION,
    payload: sessionPayload,
    async handle({ sessionId }) {
      await startSession(deps, sessionId);
    },
    /** Out of attempts (no proxy number could be had): both sides are still waiting, so say it loudly. */
    async onGiveUp({ sessionId }, error) {
      deps.logger.error({ sessionId, err: error }, "could not start a session: no proxy number; the customer and the expert are waiting");
    },
  });
}

export function sessionIdleJob(deps: SessionDeps) {
  return defineJob({
    name: SESSION_IDLE,
    payload: sessionPayload,
    async handle({ sessionId }, context) {
      await checkIdleSession(deps, sessionId, context);
    },
  });
}

export function sessionJobs(deps: SessionDeps): JobDefinition[] {
  return [startSessionJob(deps), sessionIdleJob(deps), ...voiceJobs(deps)];
}
