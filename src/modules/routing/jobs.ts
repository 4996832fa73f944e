/**
 * The routing worker: find candidates, rank them, send offers, close them on
 * timeout, widen the search and expire questions nobody took. Every handler
 * re-reads the rows and acts only when the work is still to do.
 */
import { z } from "zod";
import { defineJob, type JobDefinition } from "../../jobs/define.js";
import { OFFER_TIMEOUT, PLACE_OFFER_CALL, ROUTE_QUESTION, routeQuestion, SETTLE_ACCEPTANCE, settleAcceptance, timeOutOffer, type RoutingDeps } from "./offers.js";
import { placeOfferCall } from "./voice-offers.js";

export type { RoutingDeps } from "./offers.js";

export function routingJobs(deps: RoutingDeps): JobDefinition[] {
  return [
    defineJob({
      name: ROUTE_QUESTION,
      payload: z.object({ questionId: z.uuid() }),
      async handle({ questionId }) {
        await routeQuestion(deps, questionId);
      },
    }),
    defineJob({
      name: OFFER_TIMEOUT,
      payload: z.object({ offerId: z.uuid() }),
      async handle({ offerId }, context) {
        const offer = await deps.prisma.offer.findUnique({ where: { id: offerId }, select: { status: true, expiresAt: true } });
        if (offer?.status !== "pending") return;
        // Early (clocks differ between machines by a little): come back at the deadline.
        if (offer.expiresAt > deps.clock.now()) await context.delayUntil(offer.expiresAt);
        await timeOutOffer(deps, offerId);
      },
    }),
    defineJob({
      name: PLACE_OFFER_CALL,
      payload: z.object({ offerId: z.uuid() }),
      // One attempt: a call is never placed twice (its claim sees to that), and a failure is a missed offer.
      options: { attempts: 1 },
      async handle({ offerId }) {
        await placeOfferCall(deps, offerId);
      },
    }),
    defineJob({
      name: SETTLE_ACCEPTANCE,
      payload: z.object({ questionId: z.uuid() }),
      async handle({ questionId }) {
        await settleAcceptance(deps, questionId);
      },
    }),
  ];
}
