/**
 * The voice flow's jobs, on the sessions queue. Each re-reads its rows and
 * acts only when the work is still to do: a replay rings nobody twice (calls
 * are claimed by key), ends nothing twice (bridges and sessions end once),
 * and a cap that fires after the call ended does nothing.
 */
import { z } from "zod";
import { defineJob, type JobDefinition } from "../../jobs/define.js";
import { offerCallEnded } from "../routing/voice-offers.js";
import { CALL_ENDED } from "../telephony/calls.js";
import { BRIDGE_ALONE, BRIDGE_SETTLE, CALL_CAP, RING_PARTY } from "./job-names.js";
import type { SessionDeps } from "./jobs.js";
import { bridgeLegEnded, checkAlone, enforceCallCap, judgeLeg, PARTIES, ringParty, settleBridgeEnd, type Party } from "./voice-bridge.js";

const party = z.enum(PARTIES as [Party, ...Party[]]);

export function voiceJobs(deps: SessionDeps): JobDefinition[] {
  return [
    defineJob({
      name: CALL_ENDED,
      payload: z.object({ callSid: z.string().min(1) }),
      async handle({ callSid }, context) {
        const call = await deps.prisma.call.findUnique({
          where: { twilioSid: callSid },
          select: { purpose: true, offerId: true, dedupeKey: true, startedAt: true, endedAt: true },
        });
        if (call?.purpose === "offer") {
          const { acceptedBridgeId } = await offerCallEnded(deps, call);
          // Pressed 1, then the call ended: did the expert reach the conference?
          if (acceptedBridgeId) await judgeLeg(deps, { bridgeId: acceptedBridgeId, party: "expert", answered: true, endedAt: call.endedAt }, context);
        } else if (call?.purpose === "bridge") {
          await bridgeLegEnded(deps, call, context);
        }
      },
    }),
    defineJob({
      name: RING_PARTY,
      payload: z.object({ bridgeId: z.uuid(), party }),
      async handle(payload) {
        await ringParty(deps, payload.bridgeId, payload.party);
      },
    }),
    defineJob({
      name: BRIDGE_SETTLE,
      payload: z.object({ bridgeId: z.uuid() }),
      async handle({ bridgeId }, context) {
        await settleBridgeEnd(deps, bridgeId, context);
      },
    }),
    defineJob({
      name: BRIDGE_ALONE,
      payload: z.object({ bridgeId: z.uuid(), party }),
      async handle(payload) {
        await checkAlone(deps, payload.bridgeId, payload.party);
      },
    }),
    defineJob({
      name: CALL_CAP,
      payload: z.object({ bridgeId: z.uuid(), stage: z.enum(["warn", "end"]) }),
      async handle({ bridgeId, stage }) {
        await enforceCallCap(deps, bridgeId, stage);
      },
    }),
  ];
}
