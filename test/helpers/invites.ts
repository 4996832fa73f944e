/** What the experts module queued for the telephony worker, read back from the outbox. */
import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { EXPERT_INVITE } from "../../src/modules/telephony/invites.js";

/** The invitations queued (in the outbox) for an expert, by number, oldest first. */
export async function invitesEnqueued(prisma: PrismaClient, expertId: string): Promise<number[]> {
  const events = await prisma.outboxEvent.findMany({ where: { topic: `telephony/${EXPERT_INVITE}` }, orderBy: { id: "asc" } });
  return events
    .map((event) => event.payload as { expertId?: string; invite?: number })
    .filter((payload) => payload.expertId === expertId)
    .map((payload) => payload.invite ?? 0);
}
