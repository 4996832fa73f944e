import type { z } from "zod";
import { isUniqueViolation } from "../../db/errors.js";
import type { Deps } from "../../deps.js";
import { Prisma, type Expert, type ExpertSkill } from "../../generated/prisma/client.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";
import { conflict, notFound } from "../../lib/problems.js";
import type { AvailabilityWindow, QuietHours } from "../../lib/schedule.js";
import { enqueueOnboardingLinkOnActivation } from "../payments/onboarding.js";
import { registerTags } from "../tags/service.js";
import { enqueueExpertInvite } from "../telephony/invites.js";
import { decideVetting, nextExpertStatus, type ExpertEvent, type VettingDecision } from "./expert-state.js";
import type { createExpertBody, listExpertsQuery, updateExpertBody } from "./schemas.js";

type CreateExpert = z.output<typeof createExpertBody>;
type UpdateExpert = z.output<typeof updateExpertBody>;
type ExpertRow = Expert & { skills: ExpertSkill[] };

const withSkills = { skills: { orderBy: { tag: "asc" } } } as const satisfies Prisma.ExpertInclude;

export function toExpertView(expert: ExpertRow) {
  const quietHours: QuietHours | null =
    expert.quietHoursStart && expert.quietHoursEnd ? { start: expert.quietHoursStart, end: expert.quietHoursEnd } : null;
  return {
    id: expert.id,
    shopId: expert.shopId,
    phone: expert.phone,
    name: expert.name,
    timeZone: expert.timeZone,
    skills: expert.skills.map(({ tag, level }) => ({ tag, level })),
    weeklyAvailability: (expert.weeklyAvailability as AvailabilityWindow[] | null) ?? null,
    quietHours,
    maxConcurrentSessions: expert.maxConcurrentSessions,
    status: expert.status,
    vettingStatus: expert.vettingStatus,
    vettingNote: expert.vettingNote,
    paused: expert.paused,
    phoneVerifiedAt: expert.phoneVerifiedAt,
    payoutsEnabled: expert.payoutsEnabled,
    rating: {
      average: expert.ratingCount > 0 ? Math.round((expert.ratingSum / expert.ratingCount) * 100) / 100 : null,
      count: expert.ratingCount,
    },
    createdAt: expert.createdAt,
    updatedAt: expert.updatedAt,
  };
}

/** Column values for the fields present in `input` (absent = unchanged). */
function expertColumns(input: UpdateExpert) {
  return {
    ...(input.phone !== undefined ? { phone: input.phone } : {}),
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.timeZone !== undefined ? { timeZone: input.timeZone } : {}),
    ...(input.weeklyAvailability !== undefined
      ? { weeklyAvailability: input.weeklyAvailability ?? Prisma.DbNull }
      : {}),
    ...(input.quietHours !== undefined
      ? { quietHoursStart: input.quietHours?.start ?? null, quietHoursEnd: input.quietHours?.end ?? null }
      : {}),
    ...(input.maxConcurrentSessions !== undefined ? { maxConcurrentSessions: input.maxConcurrentSessions } : {}),
  };
}

/**
 * The one writer of an expert's life-cycle status, for every caller (REST,
 * admin, SMS keywords): the pure `nextExpertStatus` decides, this applies it
 * with the timestamps that go with it. An expert who is (again) invited
 * gets a new invite in the same transaction: on returning to `invited`
 * (reinstated, never verified), and on a new phone number while invited.
 * A suspended expert gets none; reinstatement invites the unverified number.
 * The caller holds the expert's row lock in `tx`, so moves cannot interleave.
 */
export async function applyExpertEvent(
  tx: Prisma.TransactionClient,
  { expert, event, now }: { expert: Expert; event: ExpertEvent; now: Date },
): Promise<ExpertRow> {
  const status = nextExpertStatus({ status: expert.status, phoneVerified: expert.phoneVerifiedAt !== null }, event);
  const invite = status === "invited" && (expert.status !== "invited" || event === "phone_changed");
  const updated = await tx.expert.update({
    where: { id: expert.id },
    data: {
      status,
      ...(event === "suspend" ? { suspendedAt: now } : {}),
      ...(event === "reinstate" ? { suspendedAt: null } : {}),
      ...(event === "phone_verified" && !expert.phoneVerifiedAt ? { phoneVerifiedAt: now } : {}),
      ...(event === "phone_changed" ? { phoneVerifiedAt: null } : {}),
      ...(invite ? { inviteCount: { increment: 1 } } : {}),
    },
    include: withSkills,
  });
  if (invite) await enqueueExpertInvite(tx, updated);
  await enqueueOnboardingLinkOnActivation(tx, { before: expert, after: updated, now });
  return updated;
}

/**
 * Takes the expert's row lock in `tx` and reads the row as it is once
 * locked: what was read before the lock may already be stale (an admin
 * suspended them, they replied YES).
 */
async function lockExpert(tx: Prisma.TransactionClient, where: { id: string; shopId?: string }): Promise<Expert> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Expert" WHERE id = ${where.id}::uuid FOR UPDATE`;
  const expert = locked.length > 0 ? await tx.expert.findFirst({ where }) : null;
  if (!expert) throw notFound("Expert");
  return expert;
}

/**
 * OFF/ON by SMS. Texts are handled in parallel, so an older text may arrive
 * after a newer one: a change older than the last one applied is dropped.
 * Returns false when it was. The caller holds the expert's row lock in `tx`.
 */
export async function setExpertPaused(
  tx: Prisma.TransactionClient,
  { expert, paused, at }: { expert: Expert; paused: boolean; at: Date },
): Promise<boolean> {
  if (expert.pausedChangedAt && expert.pausedChangedAt > at) return false;
  await tx.expert.update({ where: { id: expert.id }, data: { paused, pausedChangedAt: at } });
  return true;
}

const phoneTaken = () => conflict("phone-taken", "Another expert of this shop has this phone number");

function rethrowUnique(error: unknown): never {
  if (isUniqueViolation(error, "Expert_shopId_phone_key")) throw phoneTaken();
  throw error;
}

export function createExpertService({ prisma, clock }: Pick<Deps, "prisma" | "clock">) {
  async function findExpert(shopId: string, id: string) {
    const expert = await prisma.expert.findFirst({ where: { id, shopId }, include: withSkills });
    if (!expert) throw notFound("Expert");
    return expert;
  }

  /** Applies a life-cycle event under a row lock, so concurrent moves cannot interleave. */
  async function transition(where: { id: string; shopId?: string }, event: ExpertEvent) {
    return prisma.$transaction(async (tx) => {
      const expert = await lockExpert(tx, where);
      return applyExpertEvent(tx, { expert, event, now: clock.now() });
    });
  }

  return {
    async getExpert(shopId: string, id: string) {
      return toExpertView(await findExpert(shopId, id));
    },

    /** New experts start invited and pending vetting; the SMS invite goes out through the outbox. */
    async createExpert(shopId: string, input: CreateExpert) {
      try {
        const expert = await prisma.$transaction(async (tx) => {
          await registerTags(tx, shopId, input.skills.map((skill) => skill.tag));
          const created = await tx.expert.create({
            data: {
              shopId,
              ...expertColumns(input),
              phone: input.phone,
              name: input.name,
              timeZone: input.timeZone,
              skills: { create: input.skills },
              inviteCount: 1,
            },
            include: withSkills,
          });
          await enqueueExpertInvite(tx, created);
          return created;
        });
        return toExpertView(expert);
      } catch (error) {
        return rethrowUnique(error);
      }
    },

    /** A shop's experts; the admin lists across shops (shopId undefined) or narrows to one. */
    async listExperts(shopId: string | undefined, query: z.output<typeof listExpertsQuery>) {
      const rows = await prisma.expert.findMany({
        ...pageArgs(query),
        where: {
          ...(shopId ? { shopId } : {}),
          ...afterCursor(query),
          ...(query.status ? { status: query.status } : {}),
          ...(query.vettingStatus ? { vettingStatus: query.vettingStatus } : {}),
          ...(query.tag ? { skills: { some: { tag: query.tag } } } : {}),
          ...(query.poolId ? { memberships: { some: { poolId: query.poolId } } } : {}),
        },
        include: withSkills,
      });
      const page = toPage(rows, query.limit);
      return { data: page.data.map(toExpertView), nextCursor: page.nextCursor };
    },

    /**
     * A new phone number must be verified again: the expert goes back to
     * invited and the new number is invited (a suspended expert stays
     * suspended, and is invited when reinstated). Under the row lock, so a
     * suspension or a YES committed meanwhile is seen, not overwritten.
     */
    async updateExpert(shopId: string, id: string, input: UpdateExpert) {
      try {
        const expert = await prisma.$transaction(async (tx) => {
          const existing = await lockExpert(tx, { id, shopId });
          if (input.skills) {
            await registerTags(tx, shopId, input.skills.map((skill) => skill.tag));
          }
          const updated = await tx.expert.update({
            where: { id },
            data: {
              ...expertColumns(input),
              ...(input.skills ? { skills: { deleteMany: {}, create: input.skills } } : {}),
            },
            include: withSkills,
          });
          const phoneChanged = updated.phone !== existing.phone;
          return phoneChanged ? applyExpertEvent(tx, { expert: updated, event: "phone_changed", now: clock.now() }) : updated;
        });
        return toExpertView(expert);
      } catch (error) {
        return rethrowUnique(error);
      }
    },

    /** Experts with offers or sessions keep their history: suspend them instead. */
    async deleteExpert(shopId: string, id: string) {
      await findExpert(shopId, id);
      const history = await prisma.offer.count({ where: { expertId: id } });
      if (history > 0) {
        throw conflict("expert-has-history", "This expert has offers or sessions on record; suspend them instead");
      }
      await prisma.expert.deleteMany({ where: { id, shopId } });
    },

    async suspendExpert(shopId: string, id: string) {
      return toExpertView(await transition({ id, shopId }, "suspend"));
    },

    async reinstateExpert(shopId: string, id: string) {
      return toExpertView(await transition({ id, shopId }, "reinstate"));
    },

    /** Called by telephony when the expert answers the invite with YES. */
    async verifyPhone(expertId: string) {
      return toExpertView(await transition({ id: expertId }, "phone_verified"));
    },

    /** Admin: decided once, under a row lock so two admins cannot both decide. */
    async decideVetting(expertId: string, decision: VettingDecision, note: string) {
      const expert = await prisma.$transaction(async (tx) => {
        const [locked] = await tx.$queryRaw<{ vettingStatus: Expert["vettingStatus"] }[]>`
          SELECT "vettingStatus" FROM "Expert" WHERE id = ${expertId}::uuid FOR UPDATE`;
        if (!locked) throw notFound("Expert");
        const vettingStatus = decideVetting(locked.vettingStatus, decision);
        const now = clock.now();
        const updated = await tx.expert.update({
          where: { id: expertId },
          data: { vettingStatus, vettingNote: note || null, vettedAt: now },
          include: withSkills,
        });
        await enqueueOnboardingLinkOnActivation(tx, { before: { status: updated.status, vettingStatus: locked.vettingStatus }, after: updated, now });
        return updated;
      });
      return toExpertView(expert);
    },
  };
}

export type ExpertService = ReturnType<typeof createExpertService>;
