/**
 * Reaching the other side during a session: calling the session's number
 * or pressing 1 on the expert line's status menu (question intake redirects
 * both here), or texting CALL. A caller is called back on the session's own
 * record of their number and bridged from that call; a CALL text rings the
 * expert first, as every voice session does.
 * Either way the session becomes a voice session: its call ending ends it.
 */
import twilio from "twilio";
import type { Prisma } from "../../generated/prisma/client.js";
import { queueSms } from "../telephony/sms.js";
import type { SessionDeps } from "./jobs.js";
import { firstName } from "./copy.js";
import { enqueueRing, openBridge, type Party } from "./voice-bridge.js";
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

/**
 * A participant calling in (the session's number, or 1 on the expert line's
 * menu) is called right back on the number the session holds, and joins the
 * bridge from that call. A caller ID can be forged; ringing the stored number
 * cannot, so a stranger showing the customer's or the expert's number never
 * reaches the conversation, and the real person needs no PIN.
 */
export async function connectCaller(deps: Pick<SessionDeps, "prisma">, input: { sessionId: string; callSid: string; from: string }): Promise<string> {
  const session = await deps.prisma.session.findUnique({
    where: { id: input.sessionId },
    select: { id: true, status: true, customerPhone: true, expertPhone: true, expert: { select: { name: true } }, question: { select: { customerName: true } } },
  });
  const party = session ? partyOf(session, input.from) : null;
  if (!session || !party || !(OPEN as readonly string[]).includes(session.status)) return hangUpWith(voiceCopy.notAvailable);
  await deps.prisma.$transaction(async (tx) => {
    const bridge = await openBridge(tx, session.id, `in-${input.callSid}`);
    // Joining alone then rings the other side (voice-bridge.ts, on the participant-join callback).
    await enqueueRing(tx, bridge.id, party);
  });
  const other = party === "customer" ? firstName(session.expert.name, "your expert") : firstName(session.question.customerName, "the customer");
  return hangUpWith(voiceCopy.callingBack(other));
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
