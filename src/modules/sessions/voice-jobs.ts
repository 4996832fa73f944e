/**
 * The voice flow's jobs, on the sessions queue. Each re-reads its rows and
 * acts only when the work is still to do: a replay rings nobody twice (calls
 * are claimed by key), ends nothing twice (sessions end once), and a cap
 * that fires after the call ended does nothing.
 */
import { z } from "zod";
import { defineJob, type JobDefinition } from "../../jobs/define.js";
import { offerCallEnded } from "../routing/voice-offers.js";
import { CALL_ENDED } from "../telephony/calls.js";
import { BRIDGE_ENDED, CALL_CAP, RING_PARTY } from "./job-names.js";
import type { SessionDeps } from "./jobs.js";
import { bridgeLegEnded, enforceCallCap, legMissed, PARTIES, ringParty, settleBridgeEnd } from "./voice-bridge.js";

export function voiceJobs(deps: SessionDeps): JobDefinition[] {
  return [
    defineJob({
      name: CALL_ENDED,
      payload: z.object({ callSid: z.string().min(1) }),
      async handle({ callSid }) {
        const call = await deps.prisma.call.findUnique({ where: { twilioSid: callSid }, select: { purpose: true, offerId: true, dedupeKey: true } });
        if (call?.purpose === "offer") {
          const { bridgeMissed } = await offerCallEnded(deps, call);
          if (bridgeMissed) await legMissed(deps, bridgeMissed, "expert");
        } else if (call?.purpose === "bridge") {
          await bridgeLegEnded(deps, call);
        }
      },
    }),
    defineJob({
      name: RING_PARTY,
      payload: z.object({ bridgeId: z.uuid(), party: z.enum(PARTIES as [string, ...string[]]).transform((party) => party as (typeof PARTIES)[number]) }),
      async handle({ bridgeId, party }) {
        await ringParty(deps, bridgeId, party);
      },
    }),
    defineJob({
      name: BRIDGE_ENDED,
      payload: z.object({ bridgeId: z.uuid() }),
      async handle({ bridgeId }) {
        await settleBridgeEnd(deps, bridgeId);
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
