/**
 * Reaching the other side during a session: calling the session's number
 * or pressing 1 on the expert line's status menu (question intake redirects
 * both here), or texting CALL. A
 * caller is put into a new bridge at once and the other side is rung into
 * it; a CALL text rings the expert first, as every voice session does.
 * Either way the session becomes a voice session: its call ending ends it.
 */
import twilio from "twilio";
import type { Prisma } from "../../generated/prisma/client.js";
import { queueSms } from "../telephony/sms.js";
import type { SessionDeps } from "./jobs.js";
import { enqueueRing, joinTwiml, openBridge, type Party } from "./voice-bridge.js";
import { voiceCopy, voiceTextCopy } from "./voice-copy.js";

const OPEN = ["connecting", "active"] as const;

function hangUpWith(text: string): string {
  const twiml = new twilio.twiml.VoiceResponse();
  twiml.say(text);
  twiml.hangup();
  return twiml.toString();
}

function partyOf(session: { customerPhone: string; expertPhone: string }, phone: string): Party | null {
  if (phone === session.customerPhone) return "customer";
  if (phone === session.expertPhone) return "expert";
  return null;
}

/** A participant calling in: into a bridge of their own call, and the other side is rung. */
export async function connectCaller(deps: Pick<SessionDeps, "prisma" | "config">, input: { sessionId: string; callSid: string; from: string }): Promise<string> {
  const session = await deps.prisma.session.findUnique({ where: { id: input.sessionId }, select: { id: true, status: true, customerPhone: true, expertPhone: true } });
  const party = session ? partyOf(session, input.from) : null;
  if (!session || !party || !(OPEN as readonly string[]).includes(session.status)) return hangUpWith(voiceCopy.notAvailable);
  // A bridge already waiting for this side (the other is in it, or being rung) is joined, not doubled.
  const waiting = await deps.prisma.voiceBridge.findFirst({
    where: { sessionId: session.id, endedAt: null, ...(party === "expert" ? { expertCallSid: null } : { customerCallSid: null }) },
    orderBy: { createdAt: "desc" },
    select: { id: true },
  });
  const bridge = waiting ?? (await openBridge(deps.prisma, session.id, `in-${input.callSid}`));
  // Joining alone rings the other side (voice-bridge.ts, on the participant-join callback).
  return joinTwiml(deps, bridge.id, party, input.callSid);
}

/**
 * CALL by text from either side of an open session: the expert is rung
 * (press 1 to take it), then the customer. One call at a time: a CALL while
 * a bridge is still open is answered "already on its way".
 */
export async function requestCall(
  tx: Prisma.TransactionClient,
  input: { session: { id: string; shopId: string; questionId: string; customerPhone: string; expertPhone: string }; from: string; proxy: string; messageId: string },
): Promise<void> {
  const { session } = input;
  const live = await tx.voiceBridge.findFirst({ where: { sessionId: session.id, endedAt: null }, select: { id: true } });
  const reply = { shopId: session.shopId, from: input.proxy, to: input.from, questionId: session.questionId, sessionId: session.id, purpose: "keyword_reply", isReply: true };
  if (live) {
    await queueSms(tx, { ...reply, body: voiceTextCopy.alreadyCalling, dedupeKey: `call-request:${input.messageId}` });
    return;
  }
  // The session turns voice when the bridge forms, not before: a CALL that never connects leaves an SMS session as it was.
  const bridge = await openBridge(tx, session.id, `call-${input.messageId}`);
  await enqueueRing(tx, bridge.id, "expert");
  await queueSms(tx, { ...reply, body: voiceTextCopy.calling, dedupeKey: `call-request:${input.messageId}` });
}
