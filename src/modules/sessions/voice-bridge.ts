/**
 * Voice sessions: an expert and a customer talk through a Twilio conference,
 * each seeing only the session's number. A bridge is one conference; a
 * session may have several (a call back, a CALL text, someone calling the
 * session's number).
 *
 * The flow is driven by Twilio's callbacks, one rule at a time:
 * - a leg that joins a bridge alone rings the other side into it (the expert
 *   first with a "press 1" whisper, the customer with a greeting);
 * - a leg rung into a bridge that ends without joining is a miss: a customer
 *   is called back once after two minutes, then texted; an expert is texted;
 *   whoever waits in the conference hears why and is let go;
 * - the first leave after both joined ends the bridge, its billable seconds
 *   taken from Twilio's timestamps, and ends a voice session;
 * - a call-time cap per session (the pool's) warns a minute before and ends
 *   the call; Twilio's own <Dial timeLimit> backs it up.
 * Bridges are named by their cause (`vb-<session>-offer`, `-callback`,
 * `-in-<CallSid>`, `-call-<messageId>`), so a replayed webhook or job finds
 * the same bridge instead of opening another.
 */
import twilio from "twilio";
import type { Prisma } from "../../generated/prisma/client.js";
import { QUEUES, type JobContext } from "../../jobs/define.js";
import { isTwilioRestError } from "../../lib/twilio-errors.js";
import { enqueue } from "../outbox/outbox.js";
import { createCallService } from "../telephony/calls.js";
import { queueSms } from "../telephony/sms.js";
import { bridgeComplete, bridgeStart, capSchedule, remainingCapSeconds, settleBridge } from "./bridge-time.js";
import { expertIntroduction, firstName } from "./copy.js";
import { postSessionLedger } from "../payments/ledger.js";
import { endSession } from "./end.js";
import { BRIDGE_ALONE, BRIDGE_SETTLE, CALL_CAP, RING_PARTY } from "./job-names.js";
import type { SessionDeps } from "./jobs.js";
import { startSession } from "./start.js";
import { customerGreeting, sessionRingWhisper, voiceCopy, voiceTextCopy } from "./voice-copy.js";

type Tx = Prisma.TransactionClient;
export type Party = "expert" | "customer";
export const PARTIES: readonly Party[] = ["expert", "customer"];

/** How long a rung phone rings before it counts as not answered. */
const RING_SECONDS = 30;
/** A customer who did not pick up is called once more, this long after. */
export const CALL_BACK_AFTER_MS = 2 * 60_000;
/** Customer calls per session before we stop ringing and text instead. */
const CUSTOMER_CALL_ATTEMPTS = 2;
/** Twilio's own backstop for a leg waiting alone in a conference (BRIDGE_ALONE lets it go much sooner). */
const WAIT_ALONE_SECONDS = 300;

export function voiceUrls(base: string) {
  const bridge = (bridgeId: string) => `${base}/twilio/voice/bridges/${bridgeId}`;
  return {
    join: (bridgeId: string, party: Party) => `${bridge(bridgeId)}/join?party=${party}`,
    ring: (bridgeId: string) => `${bridge(bridgeId)}/ring`,
    ringAnswer: (bridgeId: string) => `${bridge(bridgeId)}/ring/answer`,
    goodbye: (bridgeId: string, reason: GoodbyeReason) => `${bridge(bridgeId)}/goodbye?reason=${reason}`,
    conferenceStatus: (bridgeId: string) => `${base}/twilio/status/conference?bridgeId=${bridgeId}`,
    recordingStatus: (bridgeId: string) => `${base}/twilio/status/recording?bridgeId=${bridgeId}`,
    capWarning: `${base}/twilio/voice/announcements/cap-warning`,
    offerWhisper: (offerId: string) => `${base}/twilio/voice/offers/${offerId}/whisper`,
    offerAnswer: (offerId: string, again = false) => `${base}/twilio/voice/offers/${offerId}/answer${again ? "?again=1" : ""}`,
  };
}

export type GoodbyeReason = "customer-missed" | "customer-unreachable" | "expert-unavailable";
export const GOODBYE_REASONS: readonly GoodbyeReason[] = ["customer-missed", "customer-unreachable", "expert-unavailable"];

/** What the TwiML and the ringing need to know about a bridge's session. */
function loadBridge(deps: Pick<SessionDeps, "prisma">, bridgeId: string) {
  return deps.prisma.voiceBridge.findUnique({
    where: { id: bridgeId },
    include: {
      session: {
        include: {
          expert: { select: { name: true } },
          proxyNumber: { select: { e164: true } },
          question: {
            select: {
              customerName: true,
              shop: { select: { name: true, recordCalls: true } },
              product: { select: { name: true, expertNoun: true } },
              pool: { select: { callCapSeconds: true } },
            },
          },
        },
      },
    },
  });
}
type LoadedBridge = NonNullable<Awaited<ReturnType<typeof loadBridge>>>;

const DEFAULT_CALL_CAP_SECONDS = 3600;

function names(bridge: LoadedBridge) {
  const { session } = bridge;
  return {
    expert: firstName(session.expert.name, "your expert"),
    customer: firstName(session.question.customerName, "the customer"),
  };
}

/** The bridge for `cause`, created once. */
export async function openBridge(db: Pick<Tx, "voiceBridge">, sessionId: string, cause: string): Promise<{ id: string; name: string }> {
  const name = `vb-${sessionId}-${cause}`;
  return db.voiceBridge.upsert({ where: { name }, create: { sessionId, name }, update: {}, select: { id: true, name: true } });
}

/** Links a leg to its bridge and session as it joins: participant callbacks name legs by CallSid only. */
async function noteLeg(deps: Pick<SessionDeps, "prisma">, bridge: { id: string; sessionId: string }, party: Party, callSid: string): Promise<void> {
  await deps.prisma.voiceBridge.update({ where: { id: bridge.id }, data: party === "expert" ? { expertCallSid: callSid } : { customerCallSid: callSid } });
  // An offer's call keeps its purpose: its end is judged as an offer's (voice-offers.ts).
  await deps.prisma.$executeRaw`
    UPDATE "Call" SET "sessionId" = ${bridge.sessionId}::uuid, "party" = ${party}, "purpose" = COALESCE("purpose", 'bridge'), "updatedAt" = now()
    WHERE "twilioSid" = ${callSid}`;
}

function hangUpWith(text: string): string {
  const twiml = new twilio.twiml.VoiceResponse();
  twiml.say(text);
  twiml.hangup();
  return twiml.toString();
}

/**
 * The TwiML that puts a leg into the bridge's conference. The customer's leg
 * starts the conference and the expert's waits for it, so recording (when
 * the shop wants it) starts only once both have heard the notice.
 */
export async function joinTwiml(deps: Pick<SessionDeps, "prisma" | "config">, bridgeId: string, party: Party, callSid: string): Promise<string> {
  const bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.endedAt || bridge.session.status === "ended") return hangUpWith(voiceCopy.notAvailable);
  await noteLeg(deps, bridge, party, callSid);
  const { session } = bridge;
  const question = session.question;
  const who = names(bridge);
  const otherJoined = party === "expert" ? bridge.customerJoinedAt !== null : bridge.expertJoinedAt !== null;
  const twiml = new twilio.twiml.VoiceResponse();
  if (party === "customer") {
    twiml.say(
      customerGreeting({
        customerName: question.customerName,
        shopName: question.shop.name,
        expertIntroduction: expertIntroduction({
          expertFirstName: who.expert,
          expertNoun: question.product?.expertNoun ?? null,
          productName: question.product?.name ?? null,
          shopName: question.shop.name,
        }),
      }),
    );
  } else {
    twiml.say(otherJoined ? voiceCopy.connecting(who.customer) : voiceCopy.hold(who.customer));
  }
  const recording = question.shop.recordCalls;
  if (recording) twiml.say(voiceCopy.consentNotice);
  const remaining = remainingCapSeconds(question.pool?.callCapSeconds ?? DEFAULT_CALL_CAP_SECONDS, session.bridgedSeconds);
  const urls = voiceUrls(deps.config.PUBLIC_BASE_URL);
  // The second leg in starts the bridge: its limit is the cap itself. The first also waits for
  // the other to be rung, so its own backstop is longer; the cap job ends both on time.
  const dial = twiml.dial({ timeLimit: Math.max(1, otherJoined ? remaining : remaining + WAIT_ALONE_SECONDS) });
  dial.conference(
    {
      startConferenceOnEnter: party === "customer",
      endConferenceOnExit: true,
      beep: "false",
      waitUrl: "",
      statusCallback: urls.conferenceStatus(bridge.id),
      statusCallbackMethod: "POST",
      statusCallbackEvent: ["start", "end", "join", "leave"],
      ...(recording ? { record: "record-from-start", recordingStatusCallback: urls.recordingStatus(bridge.id), recordingStatusCallbackMethod: "POST" } : {}),
    },
    bridge.name,
  );
  twiml.hangup();
  return twiml.toString();
}

/** The expert's whisper when rung into a session that is already theirs. */
export async function ringTwiml(deps: Pick<SessionDeps, "prisma" | "config">, bridgeId: string): Promise<string> {
  const bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.endedAt || bridge.session.status === "ended") return hangUpWith(voiceCopy.notAvailable);
  const urls = voiceUrls(deps.config.PUBLIC_BASE_URL);
  const twiml = new twilio.twiml.VoiceResponse();
  const gather = twiml.gather({ input: ["dtmf"], numDigits: 1, timeout: 8, action: urls.ringAnswer(bridgeId), method: "POST" });
  const { question } = bridge.session;
  gather.say(sessionRingWhisper({ customerName: question.customerName, productName: question.product?.name ?? null, shopName: question.shop.name }));
  twiml.say(voiceCopy.keepTexting);
  twiml.hangup();
  return twiml.toString();
}

export async function ringAnswerTwiml(deps: Pick<SessionDeps, "prisma" | "config">, bridgeId: string, digits: string, callSid: string): Promise<string> {
  if (digits === "1") return joinTwiml(deps, bridgeId, "expert", callSid);
  // Not joining: the call's end (CALL_ENDED) tells the customer waiting in the conference.
  return hangUpWith(voiceCopy.keepTexting);
}

export async function goodbyeTwiml(deps: Pick<SessionDeps, "prisma">, bridgeId: string, reason: GoodbyeReason): Promise<string> {
  const bridge = await loadBridge(deps, bridgeId);
  if (!bridge) return hangUpWith(voiceCopy.notAvailable);
  const who = names(bridge);
  const text =
    reason === "customer-missed"
      ? voiceCopy.customerMissed(who.customer)
      : reason === "customer-unreachable"
        ? voiceCopy.customerUnreachable(who.customer)
        : voiceCopy.expertUnavailable(who.expert);
  return hangUpWith(text);
}

export function capWarningTwiml(): string {
  const twiml = new twilio.twiml.VoiceResponse();
  twiml.say(voiceCopy.capWarning);
  return twiml.toString();
}

// ------------------------------------------------------------- ringing a side

function ringJob(bridgeId: string, party: Party, runAt?: Date) {
  return { queue: QUEUES.sessions, name: RING_PARTY, payload: { bridgeId, party }, jobId: `ring-${bridgeId}-${party}`, ...(runAt ? { runAt } : {}) };
}

export async function enqueueRing(tx: Tx, bridgeId: string, party: Party, runAt?: Date): Promise<void> {
  await enqueue(tx, ringJob(bridgeId, party, runAt));
}

/** The session's other bridges with someone in them right now: ringing into this one would ring a person on a call. */
async function otherLiveBridge(deps: Pick<SessionDeps, "prisma">, bridge: { id: string; sessionId: string }): Promise<boolean> {
  const live = await deps.prisma.voiceBridge.count({
    where: {
      sessionId: bridge.sessionId,
      id: { not: bridge.id },
      endedAt: null,
      OR: [{ expertJoinedAt: { not: null } }, { customerJoinedAt: { not: null } }],
    },
  });
  return live > 0;
}

/** Rings `party` into the bridge from the session's number; a refused call is handled as a miss. */
export async function ringParty(deps: SessionDeps, bridgeId: string, party: Party): Promise<void> {
  let bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.endedAt || bridge.session.status === "ended") return;
  // Already on a leg of this bridge (its join callback came late, or they called in).
  if ((party === "expert" ? bridge.expertCallSid : bridge.customerCallSid) !== null) return;
  if (bridge.session.callLiveSince || (await otherLiveBridge(deps, bridge))) {
    // They are talking already (a call back that the customer beat by calling in): this bridge is not needed.
    await deps.prisma.voiceBridge.updateMany({ where: { id: bridgeId, endedAt: null }, data: { endedAt: deps.clock.now(), endedBy: "superseded", billableSeconds: 0 } });
    return;
  }
  if (!bridge.session.proxyNumber) {
    // The bridge can be asked for before the session's start job ran (the expert pressed 1 a moment ago).
    await startSession(deps, bridge.sessionId);
    bridge = await loadBridge(deps, bridgeId);
    if (!bridge?.session.proxyNumber) throw new Error("the session has no number to call from yet");
  }
  const { session } = bridge;
  const proxy = bridge.session.proxyNumber;
  if (!proxy) return;
  const urls = voiceUrls(deps.config.PUBLIC_BASE_URL);
  const outcome = await createCallService(deps).placeCall({
    from: proxy.e164,
    to: party === "expert" ? session.expertPhone : session.customerPhone,
    twimlUrl: party === "expert" ? urls.ring(bridgeId) : urls.join(bridgeId, "customer"),
    ringSeconds: RING_SECONDS,
    dedupeKey: `ring:${bridgeId}:${party}`,
    purpose: "bridge",
    party,
    sessionId: session.id,
    questionId: session.questionId,
  });
  if (outcome.placed || outcome.reason === "refused") {
    if (party === "customer") await deps.prisma.session.update({ where: { id: session.id }, data: { customerCallAttempts: { increment: 1 } } });
  }
  if (outcome.placed) {
    await deps.prisma.voiceBridge.update({ where: { id: bridgeId }, data: party === "expert" ? { expertCallSid: outcome.callSid } : { customerCallSid: outcome.callSid } });
  } else if (outcome.reason === "refused") {
    await legMissed(deps, bridgeId, party, "unanswered");
  }
}

/**
 * `party` was rung into the bridge and never joined. Once per bridge: the
 * bridge closes unbridged, whoever waits in it hears why and is let go, and
 * the session goes on by text. A customer who never answered is called back
 * once; one who answered and hung up before joining (at the greeting, or the
 * recording notice) is not rung again but texted.
 */
export async function legMissed(deps: SessionDeps, bridgeId: string, party: Party, how: "unanswered" | "left"): Promise<void> {
  const now = deps.clock.now();
  const closed = await deps.prisma.voiceBridge.updateMany({
    where: { id: bridgeId, endedAt: null, bridgedAt: null },
    data: { endedAt: now, endedBy: `${party}-missed`, billableSeconds: 0 },
  });
  if (closed.count === 0) return;
  const bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.session.status === "ended") return;
  const { session } = bridge;
  const who = names(bridge);
  const callBack = party === "customer" && how === "unanswered" && session.customerCallAttempts < CUSTOMER_CALL_ATTEMPTS;
  const reason: GoodbyeReason = party === "expert" ? "expert-unavailable" : callBack ? "customer-missed" : "customer-unreachable";
  await letWaitingLegsGo(deps, bridge, reason);
  const proxy = session.proxyNumber?.e164;
  await deps.prisma.$transaction(async (tx) => {
    if (callBack) {
      const next = await openBridge(tx, session.id, "callback");
      await enqueueRing(tx, next.id, "customer", new Date(now.getTime() + CALL_BACK_AFTER_MS));
      return;
    }
    if (!proxy) return;
    const common = { shopId: session.shopId, from: proxy, questionId: session.questionId, sessionId: session.id, purpose: "session_voice", isReply: true };
    if (party === "customer") {
      await queueSms(tx, {
        ...common,
        to: session.customerPhone,
        body: voiceTextCopy.customerUnreachable({ shopName: session.question.shop.name, expertFirstName: who.expert }),
        dedupeKey: `voice-customer-unreachable:${bridgeId}`,
      });
      await queueSms(tx, { ...common, to: session.expertPhone, body: voiceTextCopy.expertCustomerUnreachable(who.customer), dedupeKey: `voice-expert-told-unreachable:${bridgeId}` });
    } else {
      await queueSms(tx, { ...common, to: session.expertPhone, body: voiceTextCopy.expertMissedCall(who.customer), dedupeKey: `voice-expert-missed:${bridgeId}` });
      await queueSms(tx, { ...common, to: session.customerPhone, body: voiceTextCopy.customerExpertUnavailable(who.expert), dedupeKey: `voice-customer-told-unavailable:${bridgeId}` });
    }
  });
}

/**
 * The bridge closed without a conversation: legs still ringing are
 * cancelled, and legs that answered (waiting in the conference, or still
 * hearing their greeting) hear why and hang up. Nobody is left in silence.
 */
async function letWaitingLegsGo(deps: SessionDeps, bridge: LoadedBridge, reason: GoodbyeReason): Promise<void> {
  const sids = [bridge.expertCallSid, bridge.customerCallSid].filter((sid): sid is string => sid !== null);
  if (sids.length === 0) return;
  const legs = await deps.prisma.call.findMany({ where: { twilioSid: { in: sids } }, select: { twilioSid: true, status: true } });
  const calls = createCallService(deps);
  const goodbye = voiceUrls(deps.config.PUBLIC_BASE_URL).goodbye(bridge.id, reason);
  for (const leg of legs) {
    if (!leg.twilioSid) continue;
    const sid = leg.twilioSid;
    const work =
      leg.status === "in_progress"
        ? calls.redirectCall(sid, goodbye)
        : ["queued", "initiated", "ringing"].includes(leg.status)
          ? calls.endCall(sid, "ringing")
          : undefined;
    // The leg may have ended meanwhile: nobody is left to tell.
    await work?.catch((error: unknown) => deps.logger.info({ bridgeId: bridge.id, err: error }, "could not let a waiting leg go"));
  }
}

/**
 * A rung leg's call ended (CALL_ENDED): a miss when it never joined its
 * bridge. A leg that answered may have joined with its join callback still
 * on its way, so it is judged a few seconds after its end.
 */
export async function bridgeLegEnded(
  deps: SessionDeps,
  call: { dedupeKey: string | null; startedAt: Date | null; endedAt: Date | null },
  context: Pick<JobContext, "delayUntil">,
): Promise<void> {
  const ring = /^ring:([0-9a-f-]{36}):(expert|customer)$/.exec(call.dedupeKey ?? "");
  if (!ring?.[1] || !ring[2]) return;
  const bridgeId = ring[1];
  const party = ring[2] as Party;
  await judgeLeg(deps, { bridgeId, party, answered: call.startedAt !== null, endedAt: call.endedAt }, context);
}

/** Shared by rung legs and offer calls: did `party` reach the bridge before its call ended? */
export async function judgeLeg(
  deps: SessionDeps,
  leg: { bridgeId: string; party: Party; answered: boolean; endedAt: Date | null },
  context: Pick<JobContext, "delayUntil">,
): Promise<void> {
  const decideAt = new Date((leg.endedAt ?? deps.clock.now()).getTime() + LATE_CALLBACK_MS);
  if (leg.answered && decideAt > deps.clock.now()) await context.delayUntil(decideAt);
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: leg.bridgeId }, select: { expertJoinedAt: true, customerJoinedAt: true } });
  if (!bridge) return;
  if ((leg.party === "expert" ? bridge.expertJoinedAt : bridge.customerJoinedAt) === null) {
    await legMissed(deps, leg.bridgeId, leg.party, leg.answered ? "left" : "unanswered");
  }
}

/** Twilio's callbacks for one call can arrive this far apart; a judgement that depends on them waits this long. */
const LATE_CALLBACK_MS = 2_000;
/** A leg alone in a conference: if the other side has not joined by then, it is a miss (a lost ring, a crashed job). */
const ALONE_LIMIT_MS = (RING_SECONDS + 45) * 1000;

// ------------------------------------------------------- conference callbacks

export interface ConferenceEvent {
  bridgeId: string;
  conferenceSid: string;
  event: string;
  callSid: string | null;
  /** conference-end: the participant whose leaving ended it. */
  callSidEndingConference: string | null;
  at: Date;
  /** Twilio's retries of this callback carry the same key: the receipt commits with the event's effects. */
  dedupeKey: string;
}

type BridgeRow = {
  id: string;
  sessionId: string;
  expertCallSid: string | null;
  customerCallSid: string | null;
  expertJoinedAt: Date | null;
  customerJoinedAt: Date | null;
  expertLeftAt: Date | null;
  customerLeftAt: Date | null;
  conferenceEndedAt: Date | null;
  bridgedAt: Date | null;
  endedAt: Date | null;
  endedBy: string | null;
};

function partyOfLeg(bridge: Pick<BridgeRow, "expertCallSid" | "customerCallSid">, callSid: string | null): Party | null {
  if (callSid === null) return null;
  return callSid === bridge.expertCallSid ? "expert" : callSid === bridge.customerCallSid ? "customer" : null;
}

/**
 * One conference callback, deduplicated by a receipt in the same
 * transaction. Callbacks come in any order, so each only records its time;
 * what follows is derived from all that arrived: the bridge forms when both
 * joins are known (the cap is scheduled from it), a join with the other side
 * absent rings it, and any leave asks for the bridge to be settled.
 */
export async function recordConferenceEvent(deps: Pick<SessionDeps, "prisma" | "logger" | "clock">, input: ConferenceEvent): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    const receipt = await tx.webhookReceipt.createMany({ data: [{ provider: "twilio", dedupeKey: input.dedupeKey }], skipDuplicates: true });
    if (receipt.count === 0) return;
    // Callbacks of one conference can arrive at once: take them one at a time.
    const [bridge] = await tx.$queryRaw<BridgeRow[]>`
      SELECT id, "sessionId", "expertCallSid", "customerCallSid", "expertJoinedAt", "customerJoinedAt", "expertLeftAt", "customerLeftAt",
             "conferenceEndedAt", "bridgedAt", "endedAt", "endedBy"
      FROM "VoiceBridge" WHERE id = ${input.bridgeId}::uuid FOR UPDATE`;
    if (!bridge || bridge.endedAt) return;
    const party = partyOfLeg(bridge, input.callSid);
    const settleSoon = () => enqueue(tx, { queue: QUEUES.sessions, name: BRIDGE_SETTLE, payload: { bridgeId: bridge.id }, jobId: `bridge-settle-${bridge.id}` });

    if (input.event === "conference-end") {
      const endingParty = partyOfLeg(bridge, input.callSidEndingConference);
      await tx.voiceBridge.update({
        where: { id: bridge.id },
        data: { conferenceSid: input.conferenceSid, conferenceEndedAt: bridge.conferenceEndedAt ?? input.at, ...(endingParty ? { endedBy: endingParty } : {}) },
      });
      await settleSoon();
      return;
    }
    if (input.event !== "participant-join" && input.event !== "participant-leave") {
      await tx.voiceBridge.update({ where: { id: bridge.id }, data: { conferenceSid: input.conferenceSid } });
      return;
    }
    if (!party) {
      deps.logger.warn({ bridgeId: bridge.id, event: input.event }, "a conference callback for a leg nobody rang into this bridge; ignored");
      return;
    }
    if (input.event === "participant-leave") {
      const left = party === "expert" ? bridge.expertLeftAt : bridge.customerLeftAt;
      if (!left) await tx.voiceBridge.update({ where: { id: bridge.id }, data: party === "expert" ? { expertLeftAt: input.at } : { customerLeftAt: input.at } });
      await settleSoon();
      return;
    }
    if ((party === "expert" ? bridge.expertJoinedAt : bridge.customerJoinedAt) !== null) return;
    const expertJoinedAt = party === "expert" ? input.at : bridge.expertJoinedAt;
    const customerJoinedAt = party === "customer" ? input.at : bridge.customerJoinedAt;
    const bridgedAt = bridgeStart(expertJoinedAt, customerJoinedAt);
    await tx.voiceBridge.update({ where: { id: bridge.id }, data: { conferenceSid: input.conferenceSid, expertJoinedAt, customerJoinedAt, bridgedAt } });
    if (!bridgedAt) {
      const other: Party = party === "expert" ? "customer" : "expert";
      // The other side is rung (unless already on its way), and not waited for forever.
      if ((other === "expert" ? bridge.expertCallSid : bridge.customerCallSid) === null) await enqueueRing(tx, bridge.id, other);
      await enqueue(tx, {
        queue: QUEUES.sessions,
        name: BRIDGE_ALONE,
        payload: { bridgeId: bridge.id, party: other },
        jobId: `bridge-alone-${bridge.id}`,
        runAt: new Date(deps.clock.now().getTime() + ALONE_LIMIT_MS),
      });
      return;
    }
    // Both are in, whichever callback came last: the call is live, and the cap counts from here.
    const session = await tx.session.update({
      where: { id: bridge.sessionId },
      data: { mode: "voice", callLiveSince: bridgedAt, lastActivityAt: bridgedAt },
      select: { bridgedSeconds: true, question: { select: { pool: { select: { callCapSeconds: true } } } } },
    });
    const remaining = remainingCapSeconds(session.question.pool?.callCapSeconds ?? DEFAULT_CALL_CAP_SECONDS, session.bridgedSeconds);
    const { warnAt, endAt } = capSchedule(bridgedAt, remaining);
    if (warnAt) await enqueue(tx, { queue: QUEUES.sessions, name: CALL_CAP, payload: { bridgeId: bridge.id, stage: "warn" }, jobId: `call-cap-warn-${bridge.id}`, runAt: warnAt });
    await enqueue(tx, { queue: QUEUES.sessions, name: CALL_CAP, payload: { bridgeId: bridge.id, stage: "end" }, jobId: `call-cap-end-${bridge.id}`, runAt: endAt });
  });
}

/** BRIDGE_ALONE: a side waited alone past the limit; the other is counted as not answering. */
export async function checkAlone(deps: SessionDeps, bridgeId: string, party: Party): Promise<void> {
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: bridgeId }, select: { bridgedAt: true, endedAt: true } });
  if (!bridge || bridge.bridgedAt || bridge.endedAt) return;
  await legMissed(deps, bridgeId, party, "unanswered");
}

/**
 * BRIDGE_SETTLE: the bridge's outcome once its callbacks are in (or have had
 * a few seconds to arrive). A bridged call adds its seconds to the session
 * and ends it (a voice session ends when its call does; one already ended by
 * DONE gets its duration corrected); an unbridged one lets everyone go.
 */
export async function settleBridgeEnd(deps: SessionDeps, bridgeId: string, context: Pick<JobContext, "delayUntil">): Promise<void> {
  const bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.endedAt) return;
  const now = deps.clock.now();
  // Waiting for a late callback: as long as callbacks keep coming (each one touches the row), up to
  // SETTLE_PATIENCE_MS of quiet, measured on our clock (Twilio's stamps say when, not when they were sent).
  if (!bridgeComplete(bridge) && now.getTime() - bridge.updatedAt.getTime() < SETTLE_PATIENCE_MS) {
    await context.delayUntil(new Date(now.getTime() + LATE_CALLBACK_MS));
  }
  const endingParty = bridge.endedBy === "expert" || bridge.endedBy === "customer" ? bridge.endedBy : null;
  const outcome = settleBridge(bridge, now, endingParty);
  const settled = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.voiceBridge.updateMany({
      where: { id: bridgeId, endedAt: null },
      data: { bridgedAt: outcome.bridgedAt, endedAt: outcome.endedAt, endedBy: outcome.endedBy, billableSeconds: outcome.billableSeconds },
    });
    if (count === 0) return null;
    if (!outcome.bridgedAt) return { bridged: false as const };
    const session = await tx.session.update({
      where: { id: bridge.sessionId },
      data: { bridgedSeconds: { increment: outcome.billableSeconds }, callLiveSince: null, lastActivityAt: outcome.endedAt },
      select: { bridgedSeconds: true, status: true },
    });
    // Ended already (DONE by text while the call went on): its billable length is the calls', and it is priced now.
    if (session.status === "ended") {
      await tx.session.update({ where: { id: bridge.sessionId }, data: { durationSeconds: session.bridgedSeconds } });
      await postSessionLedger(tx, bridge.sessionId, now);
    }
    return { bridged: true as const, bridgedSeconds: session.bridgedSeconds };
  });
  if (!settled) return;
  if (!settled.bridged) {
    await letWaitingLegsGo(deps, bridge, "expert-unavailable");
    return;
  }
  await endSession(deps, {
    sessionId: bridge.sessionId,
    endedBy: outcome.endedBy === "conference" ? "call" : outcome.endedBy,
    reason: "hangup",
    durationSeconds: settled.bridgedSeconds,
  });
}

/** How long a settlement waits for late callbacks before deciding with what it has. */
const SETTLE_PATIENCE_MS = 10_000;

/** Ends a live call of the session now (DONE by text during the call); its bridge then settles the session. */
export async function hangUpLiveCall(deps: Pick<SessionDeps, "prisma" | "twilio" | "logger">, sessionId: string): Promise<boolean> {
  const live = await deps.prisma.voiceBridge.findFirst({ where: { sessionId, endedAt: null, bridgedAt: { not: null }, conferenceSid: { not: null } }, select: { conferenceSid: true } });
  if (!live?.conferenceSid) return false;
  try {
    await deps.twilio.conferences(live.conferenceSid).update({ status: "completed" });
    return true;
  } catch (error) {
    deps.logger.info({ sessionId, err: error }, "could not end the session's live call (it may have just ended)");
    return false;
  }
}

/** The cap: a warning to both a minute before, then the conference ends. */
export async function enforceCallCap(deps: SessionDeps, bridgeId: string, stage: "warn" | "end"): Promise<void> {
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: bridgeId } });
  if (!bridge?.conferenceSid || bridge.endedAt || !bridge.bridgedAt) return;
  const conference = deps.twilio.conferences(bridge.conferenceSid);
  try {
    if (stage === "warn") {
      if (bridge.warnedAt) return;
      await conference.update({ announceUrl: voiceUrls(deps.config.PUBLIC_BASE_URL).capWarning, announceMethod: "POST" });
      await deps.prisma.voiceBridge.updateMany({ where: { id: bridgeId, warnedAt: null }, data: { warnedAt: deps.clock.now() } });
      return;
    }
    await conference.update({ status: "completed" });
  } catch (error) {
    // Twilio ended the call first (its own time limit, or a hang-up whose callback is on its way): nothing to do.
    if (isTwilioRestError(error) && (error.status === 404 || error.status === 400)) {
      deps.logger.info({ bridgeId, stage, code: error.code }, "the call had ended before its cap");
      return;
    }
    throw error;
  }
}

/** A recording is ready: kept with the bridge (the audio stays at Twilio). */
export async function recordRecording(deps: Pick<SessionDeps, "prisma">, bridgeId: string, recordingUrl: string): Promise<void> {
  await deps.prisma.voiceBridge.updateMany({ where: { id: bridgeId }, data: { recordingUrl } });
}
