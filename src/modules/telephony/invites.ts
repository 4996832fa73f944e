/**
 * The expert invite as the outbox sees it. Each invitation is numbered by
 * the expert's `inviteCount` (bumped by the experts service in the same
 * transaction), and the number is in the job id and the message's dedupe
 * key: a new invitation is always a new job and a new message, while a
 * replay of the same one is still a no-op. Kept apart from jobs.ts so the
 * experts service can enqueue invites without importing the worker's jobs.
 */
import type { Prisma } from "../../generated/prisma/client.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue } from "../outbox/outbox.js";

export const EXPERT_INVITE = "expert-invite";

/** The dedupe key of invitation number `invite` of an expert. */
export function inviteDedupeKey(expertId: string, invite: number): string {
  return `invite:${expertId}:${invite}`;
}

/** Called in the transaction that set the expert's `inviteCount` to `invite`. */
export async function enqueueExpertInvite(tx: Prisma.TransactionClient, expert: { id: string; inviteCount: number }) {
  await enqueue(tx, {
    queue: QUEUES.telephony,
    name: EXPERT_INVITE,
    // No phone number: job data and ids end up in Redis and logs. The job reads the current one.
    payload: { expertId: expert.id, invite: expert.inviteCount },
    jobId: `invite-${expert.id}-${expert.inviteCount}`,
  });
}
