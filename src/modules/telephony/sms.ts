/**
 * Outbound SMS, written through the outbox: the Message row and its send
 * job are created in the caller's transaction, so a message exists once
 * whatever crashes, and the job (id derived from the row) sends it once.
 */
import type { Prisma } from "../../generated/prisma/client.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";

export const SEND_SMS = "send-sms";
/** The one message allowed past an opt-out: the confirmation of that opt-out. */
export const OPT_OUT_CONFIRMATION = "opt_out_confirmation";

export interface OutboundSms {
  shopId: string | null;
  from: string;
  to: string;
  body: string;
  /** invite, keyword_reply, offer, relay, ... */
  purpose: string;
  /** A reply to the recipient's own message: allowed inside their quiet hours. */
  isReply?: boolean;
  /** Makes the message exist at most once (replays, retries). */
  dedupeKey?: string;
  questionId?: string;
  sessionId?: string;
}

/** Returns the message id, or null when a message with this dedupeKey already exists. */
export async function queueSms(tx: Prisma.TransactionClient, sms: OutboundSms): Promise<string | null> {
  const [message] = await tx.message.createManyAndReturn({
    data: [
      {
        shopId: sms.shopId,
        direction: "outbound",
        purpose: sms.purpose,
        from: sms.from,
        to: sms.to,
        body: sms.body,
        status: "queued",
        isReply: sms.isReply ?? false,
        ...(sms.dedupeKey ? { dedupeKey: sms.dedupeKey } : {}),
        ...(sms.questionId ? { questionId: sms.questionId } : {}),
        ...(sms.sessionId ? { sessionId: sms.sessionId } : {}),
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
  if (!message) return null;
  await enqueue(tx, { queue: QUEUES.telephony, name: SEND_SMS, payload: { messageId: message.id }, jobId: `sms-${message.id}` });
  return message.id;
}
