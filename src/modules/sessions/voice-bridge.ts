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
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";
import { createCallService } from "../telephony/calls.js";
import { queueSms } from "../telephony/sms.js";
import { billableSeconds, bridgeStart, capSchedule, remainingCapSeconds } from "./bridge-time.js";
import { expertIntroduction, firstName } from "./copy.js";
import { endSession } from "./end.js";
import { BRIDGE_ENDED, CALL_CAP, RING_PARTY } from "./job-names.js";
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
/** A leg waiting alone in a conference gives up after this (ringing the other side takes at most RING_SECONDS). */
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
    offerAnswer: (offerId: string) => `${base}/twilio/voice/offers/${offerId}/answer`,
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
  await deps.prisma.call.updateMany({ where: { twilioSid: callSid }, data: { sessionId: bridge.sessionId, party, purpose: "bridge" } });
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

/** Rings `party` into the bridge from the session's number; a refused call is handled as a miss. */
export async function ringParty(deps: SessionDeps, bridgeId: string, party: Party): Promise<void> {
  let bridge = await loadBridge(deps, bridgeId);
  if (!bridge || bridge.endedAt || bridge.session.status === "ended") return;
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
    await legMissed(deps, bridgeId, party);
  }
}

/**
 * `party` was rung into the bridge and never joined (no answer, busy,
 * pressed 2, or Twilio refused the call). Once per bridge: the bridge closes
 * unbridged, whoever waits in it hears why, and the session goes on by text,
 * with one call back for a customer.
 */
export async function legMissed(deps: SessionDeps, bridgeId: string, party: Party): Promise<void> {
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
  const urls = voiceUrls(deps.config.PUBLIC_BASE_URL);
  const calls = createCallService(deps);
  const callBack = party === "customer" && session.customerCallAttempts < CUSTOMER_CALL_ATTEMPTS;
  const waiting = party === "customer" ? bridge.expertCallSid : bridge.customerCallSid;
  const reason: GoodbyeReason = party === "expert" ? "expert-unavailable" : callBack ? "customer-missed" : "customer-unreachable";
  if (waiting && bridge[party === "customer" ? "expertJoinedAt" : "customerJoinedAt"]) {
    await calls.redirectCall(waiting, urls.goodbye(bridgeId, reason)).catch((error: unknown) => {
      // The waiting side may have hung up meanwhile: nobody is left to tell.
      deps.logger.info({ bridgeId, err: error }, "could not redirect the waiting leg out of its conference");
    });
  }
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

/** A rung leg's call ended (CALL_ENDED): a miss when it never joined its bridge. */
export async function bridgeLegEnded(deps: SessionDeps, call: { dedupeKey: string | null }): Promise<void> {
  const ring = /^ring:([0-9a-f-]{36}):(expert|customer)$/.exec(call.dedupeKey ?? "");
  if (!ring?.[1] || !ring[2]) return;
  const bridgeId = ring[1];
  const party = ring[2] as Party;
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: bridgeId }, select: { expertJoinedAt: true, customerJoinedAt: true } });
  if (!bridge) return;
  if ((party === "expert" ? bridge.expertJoinedAt : bridge.customerJoinedAt) === null) await legMissed(deps, bridgeId, party);
}

// ------------------------------------------------------- conference callbacks

export interface ConferenceEvent {
  bridgeId: string;
  conferenceSid: string;
  event: string;
  callSid: string | null;
  at: Date;
  /** Twilio's retries of this callback carry the same key: the receipt commits with the event's effects. */
  dedupeKey: string;
}

/**
 * One conference callback, deduplicated by a receipt in the same transaction.
 * Joins stamp the leg's time and ring the other side; the first leave
 * after the bridge (or the conference's end) closes it with its billable
 * seconds, all in one transaction.
 */
export async function recordConferenceEvent(deps: Pick<SessionDeps, "prisma" | "logger">, input: ConferenceEvent): Promise<void> {
  await deps.prisma.$transaction(async (tx) => {
    const receipt = await tx.webhookReceipt.createMany({ data: [{ provider: "twilio", dedupeKey: input.dedupeKey }], skipDuplicates: true });
    if (receipt.count === 0) return;
    // Callbacks of one conference can arrive at once: take them one at a time.
    const [bridge] = await tx.$queryRaw<
      { id: string; sessionId: string; expertCallSid: string | null; customerCallSid: string | null; expertJoinedAt: Date | null; customerJoinedAt: Date | null; bridgedAt: Date | null; endedAt: Date | null }[]
    >`SELECT id, "sessionId", "expertCallSid", "customerCallSid", "expertJoinedAt", "customerJoinedAt", "bridgedAt", "endedAt"
      FROM "VoiceBridge" WHERE id = ${input.bridgeId}::uuid FOR UPDATE`;
    if (!bridge) return;
    if (bridge.endedAt) {
      // Closed already (a miss, or its first leave): later leaves change nothing.
      return;
    }
    const party: Party | null =
      input.callSid === null ? null : input.callSid === bridge.expertCallSid ? "expert" : input.callSid === bridge.customerCallSid ? "customer" : null;
    if (input.event === "participant-join") {
      if (!party) {
        deps.logger.warn({ bridgeId: bridge.id }, "a leg nobody rang joined a bridge; ignored");
        return;
      }
      const joinedAt = party === "expert" ? bridge.expertJoinedAt : bridge.customerJoinedAt;
      if (joinedAt) return;
      const expertJoinedAt = party === "expert" ? input.at : bridge.expertJoinedAt;
      const customerJoinedAt = party === "customer" ? input.at : bridge.customerJoinedAt;
      const bridgedAt = bridgeStart(expertJoinedAt, customerJoinedAt);
      await tx.voiceBridge.update({ where: { id: bridge.id }, data: { conferenceSid: input.conferenceSid, expertJoinedAt, customerJoinedAt, bridgedAt } });
      if (!bridgedAt) {
        await enqueueRing(tx, bridge.id, party === "expert" ? "customer" : "expert");
        return;
      }
      const session = await tx.session.update({
        where: { id: bridge.sessionId },
        data: { mode: "voice", callLiveSince: bridgedAt, lastActivityAt: bridgedAt },
        select: { bridgedSeconds: true, question: { select: { pool: { select: { callCapSeconds: true } } } } },
      });
      const remaining = remainingCapSeconds(session.question.pool?.callCapSeconds ?? DEFAULT_CALL_CAP_SECONDS, session.bridgedSeconds);
      const { warnAt, endAt } = capSchedule(bridgedAt, remaining);
      if (warnAt) await enqueue(tx, { queue: QUEUES.sessions, name: CALL_CAP, payload: { bridgeId: bridge.id, stage: "warn" }, jobId: `call-cap-warn-${bridge.id}`, runAt: warnAt });
      await enqueue(tx, { queue: QUEUES.sessions, name: CALL_CAP, payload: { bridgeId: bridge.id, stage: "end" }, jobId: `call-cap-end-${bridge.id}`, runAt: endAt });
      return;
    }
    const leaving = input.event === "participant-leave" || input.event === "conference-end";
    if (!leaving) {
      if (input.event === "conference-start") await tx.voiceBridge.update({ where: { id: bridge.id }, data: { conferenceSid: input.conferenceSid } });
      return;
    }
    if (!bridge.bridgedAt) {
      // Someone left before the other arrived: the bridge is over unbridged; a leg still ringing is cancelled.
      if (input.event === "participant-leave" && party && (party === "expert" ? bridge.expertJoinedAt : bridge.customerJoinedAt) === null) return;
      await tx.voiceBridge.update({ where: { id: bridge.id }, data: { endedAt: input.at, endedBy: party ?? "conference", billableSeconds: 0 } });
      await enqueue(tx, { queue: QUEUES.sessions, name: BRIDGE_ENDED, payload: { bridgeId: bridge.id }, jobId: `bridge-ended-${bridge.id}` });
      return;
    }
    const seconds = billableSeconds(bridge.bridgedAt, input.at);
    await tx.voiceBridge.update({ where: { id: bridge.id }, data: { endedAt: input.at, endedBy: party ?? "conference", billableSeconds: seconds } });
    await tx.session.update({ where: { id: bridge.sessionId }, data: { bridgedSeconds: { increment: seconds }, callLiveSince: null, lastActivityAt: input.at } });
    await enqueue(tx, { queue: QUEUES.sessions, name: BRIDGE_ENDED, payload: { bridgeId: bridge.id }, jobId: `bridge-ended-${bridge.id}` });
  });
}

/** The bridge is over: a bridged call ends its session; an unbridged one cancels whatever still rings. */
export async function settleBridgeEnd(deps: SessionDeps, bridgeId: string): Promise<void> {
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: bridgeId }, include: { session: { select: { bridgedSeconds: true } } } });
  if (!bridge) return;
  if (bridge.bridgedAt) {
    await endSession(deps, {
      sessionId: bridge.sessionId,
      endedBy: bridge.endedBy === "expert" || bridge.endedBy === "customer" ? bridge.endedBy : "call",
      reason: "hangup",
      durationSeconds: bridge.session.bridgedSeconds,
    });
    return;
  }
  const calls = createCallService(deps);
  const ringing = await deps.prisma.call.findMany({
    where: { twilioSid: { in: [bridge.expertCallSid, bridge.customerCallSid].filter((sid): sid is string => sid !== null) }, status: { in: ["queued", "initiated", "ringing"] } },
    select: { twilioSid: true },
  });
  for (const call of ringing) {
    if (call.twilioSid) await calls.endCall(call.twilioSid, "ringing").catch((error: unknown) => deps.logger.info({ bridgeId, err: error }, "could not cancel a ringing leg"));
  }
}

/** The cap: a warning to both a minute before, then the conference ends. */
export async function enforceCallCap(deps: SessionDeps, bridgeId: string, stage: "warn" | "end"): Promise<void> {
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { id: bridgeId } });
  if (!bridge?.conferenceSid || bridge.endedAt || !bridge.bridgedAt) return;
  const conference = deps.twilio.conferences(bridge.conferenceSid);
  if (stage === "warn") {
    const { count } = await deps.prisma.voiceBridge.updateMany({ where: { id: bridgeId, warnedAt: null }, data: { warnedAt: deps.clock.now() } });
    if (count === 0) return;
    await conference.update({ announceUrl: voiceUrls(deps.config.PUBLIC_BASE_URL).capWarning, announceMethod: "POST" });
    return;
  }
  await conference.update({ status: "completed" });
}

/** A recording is ready: kept with the bridge (the audio stays at Twilio). */
export async function recordRecording(deps: Pick<SessionDeps, "prisma">, bridgeId: string, recordingUrl: string): Promise<void> {
  await deps.prisma.voiceBridge.updateMany({ where: { id: bridgeId }, data: { recordingUrl } });
}
