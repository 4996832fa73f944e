/**
 * The routing sweep: PostgreSQL is the truth, Redis only carries the timers.
 * When Redis lost a job (a restart without persistence, a flush), the rows
 * still say what is due: offers past their deadline close, questions past
 * their time to live expire, a search whose next step went missing takes
 * it, an accepted question whose session never started starts, and a quiet
 * conversation ends. Each action is the same idempotent function the jobs call.
 */
import { z } from "zod";
import { defineJob } from "../../jobs/define.js";
import { sweepIdleSessions } from "../sessions/idle.js";
import { startSession } from "../sessions/start.js";
import { closeQuestion, routeQuestion, timeOutOffer, type RoutingDeps } from "./offers.js";

export const SWEEP_ROUTING = "sweep-routing";
/** The sweep runs this often (see maintenance SCHEDULES). */
export const SWEEP_ROUTING_EVERY_MS = 15_000;
/** A timer's own job normally fires on time; the sweep steps in only after this grace. */
const GRACE_MS = 5_000;
/** A search with no open offer and no step for this long lost its step. */
const STALLED_SEARCH_MS = 2 * 60_000;
const BATCH = 200;

export interface SweepFindings {
  offersClosed: number;
  questionsExpired: number;
  searchesResumed: number;
  sessionsStarted: number;
  idleSessionsEnded: number;
}

export async function sweepRouting(deps: RoutingDeps): Promise<SweepFindings> {
  const { prisma, clock, logger } = deps;
  const now = clock.now();
  const overdue = new Date(now.getTime() - GRACE_MS);

  const offers = await prisma.offer.findMany({ where: { status: "pending", expiresAt: { lt: overdue } }, select: { id: true }, take: BATCH });
  let offersClosed = 0;
  for (const offer of offers) if (await timeOutOffer(deps, offer.id)) offersClosed++;

  const expiring = await prisma.question.findMany({
    where: { status: { in: ["received", "routing", "offered"] }, expiresAt: { lt: overdue } },
    select: { id: true },
    take: BATCH,
  });
  let questionsExpired = 0;
  for (const question of expiring) if (await closeQuestion(deps, { questionId: question.id, outcome: "expired" })) questionsExpired++;

  const stalled = await prisma.question.findMany({
    where: {
      status: { in: ["routing", "offered"] },
      expiresAt: { gt: now },
      updatedAt: { lt: new Date(now.getTime() - STALLED_SEARCH_MS) },
      productChoices: { isEmpty: true },
      offers: { none: { status: "pending" } },
    },
    select: { id: true },
    take: BATCH,
  });
  for (const question of stalled) await routeQuestion(deps, question.id);

  const unstarted = await prisma.session.findMany({
    where: { status: "connecting", createdAt: { lt: new Date(now.getTime() - STALLED_SEARCH_MS) } },
    select: { id: true },
    take: BATCH,
  });
  for (const session of unstarted) await startSession(deps, session.id);

  const idleSessionsEnded = await sweepIdleSessions(deps, { limit: BATCH });
  const found = { offersClosed, questionsExpired, searchesResumed: stalled.length, sessionsStarted: unstarted.length, idleSessionsEnded };
  if (offersClosed + questionsExpired + stalled.length + unstarted.length > 0) logger.warn(found, "routing sweep did work whose timers were lost");
  return found;
}

export function sweepRoutingJob(deps: RoutingDeps) {
  return defineJob({
    name: SWEEP_ROUTING,
    payload: z.object({}).loose(),
    async handle() {
      await sweepRouting(deps);
    },
  });
}
