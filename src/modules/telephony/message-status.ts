/**
 * Message status only moves forward. Twilio does not promise callback order
 * ("sent" may arrive after "delivered"), so each status has a rank and an
 * update applies only when it ranks higher than what is stored.
 */
import type { MessageStatus } from "../../generated/prisma/enums.js";

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  received: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
};

/** Twilio's MessageStatus values mapped to ours (accepted/scheduled are Twilio-side queueing). */
export function fromTwilioMessageStatus(status: string): MessageStatus | null {
  switch (status) {
    case "accepted":
    case "scheduled":
    case "queued":
    case "sending":
      return "sending";
    case "sent":
      return "sent";
    case "delivered":
    case "read":
      return "delivered";
    case "undelivered":
      return "undelivered";
    case "failed":
    case "canceled":
      return "failed";
    default:
      return null;
  }
}

/** The stored statuses that `next` may replace. */
export function statusesBefore(next: MessageStatus): MessageStatus[] {
  return (Object.keys(RANK) as MessageStatus[]).filter((status) => RANK[status] < RANK[next]);
}
