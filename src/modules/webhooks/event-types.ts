/**
 * The events a shop can subscribe an endpoint to. Each is emitted once per
 * cause, in the transaction of the change that causes it (see emit.ts).
 */
export const WEBHOOK_EVENT_TYPES = [
  "question.created",
  "question.assigned",
  "question.expired",
  "question.cancelled",
  "session.started",
  "session.ended",
  "rating.created",
  /** A payout of one of the shop's experts: gathered for review, decided, transferred, paid out or failed. */
  "payout.created",
  "payout.approved",
  "payout.held",
  "payout.rejected",
  "payout.transferred",
  "payout.paid",
  "payout.failed",
  /** One of the shop's endpoints was disabled after 3 days of failed deliveries (told to its other endpoints). */
  "webhook_endpoint.disabled",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Subscribes an endpoint to every event type, including ones added later. */
export const ALL_EVENTS = "*";

/** What a shop sees as the event's id: stable across retries and redeliveries, for deduplication. */
export function publicEventId(eventId: string): string {
  return `evt_${eventId.replaceAll("-", "")}`;
}
