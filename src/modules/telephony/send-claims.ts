/**
 * A send attempt claims its Message row (queued -> sending, with the claim
 * time) before it calls Twilio, so two attempts never both send. An attempt
 * that dies between the claim and Twilio's answer leaves the row in
 * `sending` with no SID; these rules decide when that claim is dead and
 * what happens to the row then.
 *
 * What we cannot know: whether Twilio accepted the message just before the
 * crash. Twilio has no lookup by our id, so the evidence is the status
 * callback, whose URL carries our id: Twilio sends it within seconds of
 * accepting, and it stores the SID and moves the row on. A claim that is
 * still SID-less long after that is taken as never sent, and sent again. A
 * duplicate remains possible only when the crash and the loss of that
 * callback coincide, the same rare window as any 5xx that hid an accepted
 * message.
 */

/**
 * Longer than one attempt can hold a claim: the SDK's request timeout
 * (30 s) plus recording the SID. An older claim belongs to a dead attempt.
 */
export const SENDING_LEASE_MS = 2 * 60_000;

/**
 * A message whose sends keep dying (a crash loop) is failed after this many
 * take-overs, rather than retried forever.
 */
export const MAX_INTERRUPTED_SENDS = 3;

/** Stable text operators alert on; details ride in the fields (never phone numbers). */
export const STUCK_SMS_LOG = "sms stuck in sending; settled";

/** Its sibling for a `queued` message whose send job was lost (lost-send-jobs.ts). */
export const LOST_SEND_JOB_LOG = "sms queued with no send job; settled";

/** Our own reasons for failing an outbound message (Twilio's go in errorCode). */
export const FAILURE_REASONS = {
  retriesExhausted: "retries_exhausted",
  sendInterrupted: "send_interrupted",
  unknownAtTwilio: "unknown_at_twilio",
  sendJobLost: "send_job_lost",
} as const;

export function leaseEnds(claimedAt: Date | null): Date {
  return new Date((claimedAt?.getTime() ?? 0) + SENDING_LEASE_MS);
}
