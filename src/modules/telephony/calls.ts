/**
 * Outbound calls through the Twilio port: voice offers and voice sessions
 * ring experts and customers with these. A call is placed at most once: a
 * Call row claims its dedupe key before Twilio is asked, so a retried job
 * (or one whose worker died after Twilio answered) never rings anyone twice.
 * A lost call is recovered by what waits for it (the offer's timeout, the
 * session's sweep), never by ringing again blindly. The status callbacks
 * (/twilio/status/call) move the row along; a final one enqueues CALL_ENDED
 * in the same statement (webhook-writes.ts).
 */
import type { Deps } from "../../deps.js";
import { isUniqueViolation } from "../../db/errors.js";
import { QUEUES } from "../../jobs/define.js";
import { isTwilioRestError } from "../../lib/twilio-errors.js";
import { webhookUrls } from "./numbers.js";

type CallDeps = Pick<Deps, "prisma" | "twilio" | "config" | "logger">;

/** Sessions' job, enqueued by the final status callback of any call: `{ callSid }`. */
export const CALL_ENDED = "call-ended";

/** Every progress event, so a flow knows when a phone rings and is answered. */
const PROGRESS_EVENTS = ["initiated", "ringing", "answered", "completed"];

export interface PlaceCall {
  from: string;
  to: string;
  /** Absolute URL of the TwiML the call runs once answered. */
  twimlUrl: string;
  /** Seconds to ring before giving up (Twilio's default is 60). */
  ringSeconds?: number;
  /** Claimed before Twilio is asked: the same key never places a second call. */
  dedupeKey: string;
  purpose: "offer" | "bridge";
  party: "expert" | "customer";
  sessionId?: string;
  questionId?: string;
  offerId?: string;
}

export type PlaceCallOutcome =
  | { placed: true; callId: string; callSid: string }
  /** The key was claimed before: by an earlier run of this job, which placed it or died trying. */
  | { placed: false; reason: "already-claimed" }
  /** Twilio refused (a bad number, a blocked region, an outage): the row is marked failed. */
  | { placed: false; reason: "refused"; code: number | null };

export function createCallService({ prisma, twilio, config, logger }: CallDeps) {
  const statusCallback = webhookUrls(config.PUBLIC_BASE_URL).callStatus;
  return {
    async placeCall(input: PlaceCall): Promise<PlaceCallOutcome> {
      const links = {
        ...(input.sessionId ? { sessionId: input.sessionId } : {}),
        ...(input.questionId ? { questionId: input.questionId } : {}),
        ...(input.offerId ? { offerId: input.offerId } : {}),
      };
      const [claim] = await prisma.call.createManyAndReturn({
        data: [{ direction: "outbound", from: input.from, to: input.to, status: "queued", dedupeKey: input.dedupeKey, purpose: input.purpose, party: input.party, ...links }],
        skipDuplicates: true,
        select: { id: true },
      });
      if (!claim) return { placed: false, reason: "already-claimed" };
      let sid: string;
      try {
        ({ sid } = await twilio.calls.create({
          to: input.to,
          from: input.from,
          url: input.twimlUrl,
          method: "POST",
          statusCallback: `${statusCallback}?callId=${claim.id}`,
          statusCallbackMethod: "POST",
          statusCallbackEvent: PROGRESS_EVENTS,
          timeout: input.ringSeconds ?? 30,
        }));
      } catch (error) {
        // Twilio may or may not have placed it on a 5xx; ringing again could ring twice, so the
        // flow treats this like an unanswered call and moves on.
        const code = isTwilioRestError(error) ? (error.code ?? null) : null;
        logger.warn({ callId: claim.id, purpose: input.purpose, code, err: isTwilioRestError(error) ? undefined : error }, "Twilio did not place a call");
        await prisma.call.update({ where: { id: claim.id }, data: { status: "failed", endedAt: new Date() } });
        return { placed: false, reason: "refused", code };
      }
      try {
        // A callback may have written it already (it names the claim): then this changes nothing.
        await prisma.call.update({ where: { id: claim.id }, data: { twilioSid: sid } });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // A status callback for this call beat us here and created its row: move our claim onto it.
        await prisma.$transaction([
          prisma.call.delete({ where: { id: claim.id } }),
          prisma.call.update({
            where: { twilioSid: sid },
            data: { direction: "outbound", dedupeKey: input.dedupeKey, purpose: input.purpose, party: input.party, ...links },
          }),
        ]);
        const merged = await prisma.call.findUniqueOrThrow({ where: { twilioSid: sid }, select: { id: true, endedAt: true } });
        if (merged.endedAt) {
          // It also ended before we got here (busy, refused at once): its CALL_ENDED may have run
          // on the purposeless row and done nothing, so the flow hears of the end once more.
          await prisma.outboxEvent.createMany({
            data: [{ topic: `${QUEUES.sessions}/${CALL_ENDED}`, payload: { callSid: sid }, jobId: `call-ended-${sid}-claimed` }],
            skipDuplicates: true,
          });
        }
        return { placed: true, callId: merged.id, callSid: sid };
      }
      return { placed: true, callId: claim.id, callSid: sid };
    },

    /** Hangs up a live call (or cancels one still ringing). */
    async endCall(twilioSid: string, state: "live" | "ringing" = "live") {
      await twilio.calls(twilioSid).update({ status: state === "live" ? "completed" : "canceled" });
    },

    /** Sends a live call to other TwiML (e.g. out of a conference to a goodbye). */
    async redirectCall(twilioSid: string, twimlUrl: string) {
      await twilio.calls(twilioSid).update({ url: twimlUrl, method: "POST" });
    },
  };
}

export type CallService = ReturnType<typeof createCallService>;
