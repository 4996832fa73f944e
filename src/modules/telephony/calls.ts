/**
 * Outbound calls through the Twilio port: the sessions module bridges
 * experts and customers with these. A Call row is written with the SID, and
 * the status callbacks (/twilio/status/call) move it along.
 */
import type { Deps } from "../../deps.js";
import { webhookUrls } from "./numbers.js";

type CallDeps = Pick<Deps, "prisma" | "twilio" | "config">;

/** Every progress event, so a session knows when the expert's phone rings and answers. */
const PROGRESS_EVENTS = ["initiated", "ringing", "answered", "completed"];

export interface PlaceCall {
  from: string;
  to: string;
  /** Absolute URL of the TwiML the call runs once answered. */
  twimlUrl: string;
  /** Seconds to ring before giving up (Twilio's default is 60). */
  ringSeconds?: number;
  sessionId?: string;
  questionId?: string;
}

export function createCallService({ prisma, twilio, config }: CallDeps) {
  const statusCallback = webhookUrls(config.PUBLIC_BASE_URL).callStatus;
  return {
    async placeCall(input: PlaceCall) {
      const call = await twilio.calls.create({
        to: input.to,
        from: input.from,
        url: input.twimlUrl,
        method: "POST",
        statusCallback,
        statusCallbackMethod: "POST",
        statusCallbackEvent: PROGRESS_EVENTS,
        timeout: input.ringSeconds ?? 30,
      });
      const links = {
        ...(input.sessionId ? { sessionId: input.sessionId } : {}),
        ...(input.questionId ? { questionId: input.questionId } : {}),
      };
      // A webhook for this call (its TwiML fetch or a status callback) can beat us here and create
      // the row first, guessing its direction from what it saw; we placed it, so it is outbound.
      const [created] = await prisma.call.createManyAndReturn({
        data: [{ twilioSid: call.sid, direction: "outbound", from: input.from, to: input.to, status: "queued", ...links }],
        skipDuplicates: true,
      });
      return created ?? prisma.call.update({ where: { twilioSid: call.sid }, data: { ...links, direction: "outbound" } });
    },

    /** Hangs up a live call (or cancels one still ringing). */
    async endCall(twilioSid: string, state: "live" | "ringing" = "live") {
      await twilio.calls(twilioSid).update({ status: state === "live" ? "completed" : "canceled" });
    },

    /** Sends a live call to other TwiML (e.g. from a whisper to the bridge). */
    async redirectCall(twilioSid: string, twimlUrl: string) {
      await twilio.calls(twilioSid).update({ url: twimlUrl, method: "POST" });
    },
  };
}

export type CallService = ReturnType<typeof createCallService>;
