/**
 * Telephony work done by the worker: sending SMS, inviting experts, and
 * acting on inbound texts. Every handler is idempotent: it re-reads the rows
 * it acts on and does nothing when the work is already done.
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob } from "../../jobs/define.js";
import { reserveSendSlot } from "../../lib/send-slots.js";
import { withoutTextedCredentials } from "../../lib/tokens.js";
import { isRetryableTwilioError, isTwilioRestError, UNSUBSCRIBED_RECIPIENT } from "../../lib/twilio-errors.js";
import { inviteText } from "./copy.js";
import { handleInboundSms } from "./inbound.js";
import { EXPERT_INVITE, inviteDedupeKey } from "./invites.js";
import { createNumberService, webhookUrls } from "./numbers.js";
import { quietHoursEnd } from "./quiet-hours.js";
import { FAILURE_REASONS, leaseEnds, MAX_INTERRUPTED_SENDS, STUCK_SMS_LOG } from "./send-claims.js";
import { OPT_OUT_CONFIRMATION, queueSms, SEND_SMS } from "./sms.js";

export { EXPERT_INVITE } from "./invites.js";
export const HANDLE_INBOUND_SMS = "handle-inbound-sms";

type TelephonyDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

async function withRetries<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

export function sendSmsJob({ prisma, redis, twilio, config, clock, logger, queuePrefix }: TelephonyDeps) {
  const statusCallback = webhookUrls(config.PUBLIC_BASE_URL).messageStatus;
  return defineJob({
    name: SEND_SMS,
    payload: z.object({ messageId: z.uuid() }),
    async handle({ messageId }, context) {
      const message = await prisma.message.findUnique({ where: { id: messageId } });
      if (!message || message.direction !== "outbound") return;
      // "sending" is claimed by an attempt (maybe this job's own, before a crash); see send-claims.ts.
      const interrupted = message.status === "sending";
      if (interrupted) {
        // Twilio has it: its status callbacks take it from here.
        if (message.twilioSid) return;
        // The claim may still be live; come back when it cannot be, and look again.
        const deadline = leaseEnds(message.sendingClaimedAt);
        if (deadline > clock.now()) await context.delayUntil(deadline);
        if (message.interruptedSends >= MAX_INTERRUPTED_SENDS) {
          const { count } = await prisma.message.updateMany({
            where: { id: messageId, status: "sending", twilioSid: null, sendingClaimedAt: message.sendingClaimedAt },
            data: { status: "failed", failureReason: FAILURE_REASONS.sendInterrupted },
          });
          if (count === 1) logger.warn({ messageId, outcome: "failed", by: "send-job", interruptedSends: message.interruptedSends }, STUCK_SMS_LOG);
          return;
        }
      } else if (message.status !== "queued") {
        return; // sent, delivered or failed: never send twice
      }

      const optedOut = await prisma.optOut.findUnique({
        where: { phone_platformNumber: { phone: message.to, platformNumber: message.from } },
      });
      if (optedOut && message.purpose !== OPT_OUT_CONFIRMATION) {
        await prisma.message.update({ where: { id: messageId }, data: { status: "failed", errorCode: UNSUBSCRIBED_RECIPIENT } });
        return;
      }

      const now = clock.now();
      if (!message.isReply && message.shopId) {
        const expert = await prisma.expert.findFirst({ where: { shopId: message.shopId, phone: message.to } });
        const quiet = expert?.quietHoursStart && expert.quietHoursEnd ? { start: expert.quietHoursStart, end: expert.quietHoursEnd } : null;
        const wakeUp = expert ? quietHoursEnd(quiet, expert.timeZone, now) : null;
        if (wakeUp) {
          logger.info({ messageId, until: wakeUp }, "recipient is in quiet hours; holding the message");
          await context.delayUntil(wakeUp);
        }
      }

      // Throughput: reserve this sender's next slot once, remember it on the row.
      if (!message.sendAfter) {
        // A fresh clock: the reads above may have waited for a pooled connection, and a stale
        // "now" would turn that wait into a reserved delay.
        const slotNow = clock.now();
        const wait = await reserveSendSlot(redis, {
          sender: message.from,
          messagesPerSecond: config.SMS_MESSAGES_PER_SECOND,
          nowMs: slotNow.getTime(),
          prefix: queuePrefix,
        });
        if (wait > 0) {
          const sendAfter = new Date(slotNow.getTime() + wait);
          await prisma.message.update({ where: { id: messageId }, data: { sendAfter } });
          await context.delayUntil(sendAfter);
        }
      } else if (message.sendAfter > now) {
        await context.delayUntil(message.sendAfter);
      }

      // Compare-and-set on the claim we saw: of two attempts (or an attempt and the sweep), one wins.
      const claimedAt = clock.now();
      const claimed = await prisma.message.updateMany({
        where: { id: messageId, status: message.status, twilioSid: null, sendingClaimedAt: message.sendingClaimedAt },
        data: { status: "sending", sendingClaimedAt: claimedAt, ...(interrupted ? { interruptedSends: { increment: 1 } } : {}) },
      });
      if (claimed.count === 0) return;
      if (interrupted) logger.warn({ messageId, outcome: "resending", by: "send-job", interruptedSends: message.interruptedSends + 1 }, STUCK_SMS_LOG);
      const ourClaim = { id: messageId, status: "sending" as const, sendingClaimedAt: claimedAt };
      let sid: string;
      try {
        const sent = await twilio.messages.create({
          to: message.to,
          from: message.from,
          body: message.body,
          // Our id rides along, so a callback can be matched even if we crashed before storing the SID.
          statusCallback: `${statusCallback}?messageId=${message.id}`,
        });
        sid = sent.sid;
      } catch (error) {
        if (isTwilioRestError(error) && !isRetryableTwilioError(error)) {
          logger.warn({ messageId, code: error.code, status: error.status }, "twilio refused the message; not retrying");
          await prisma.message.updateMany({ where: ourClaim, data: { status: "failed", errorCode: error.code ?? null } });
          if (error.code === UNSUBSCRIBED_RECIPIENT) {
            await prisma.optOut.createMany({ data: [{ phone: message.to, platformNumber: message.from }], skipDuplicates: true });
          }
          return;
        }
        // 429/5xx/network: Twilio did not accept it (a 5xx or a dropped connection can, rarely, hide an
        // accepted message; its status callback then finds the row by our id). Put it back, only if
        // nothing has moved it since, and let BullMQ retry with backoff.
        await prisma.message.updateMany({
          where: { ...ourClaim, twilioSid: null },
          data: { status: "queued", sendAfter: null, sendingClaimedAt: null },
        });
        throw error;
      }
      // Sent: from here on, never send again. Recording the SID is retried on its own. A credential the
      // text carried (an onboarding link) rests here only until Twilio has it.
      const kept = withoutTextedCredentials(message.body);
      await withRetries(() =>
        prisma.message.updateMany({ where: { id: messageId, twilioSid: null }, data: { twilioSid: sid, ...(kept === message.body ? {} : { body: kept }) } }),
      );
    },
    /** Out of attempts (a long Twilio outage): say so on the row instead of leaving it queued (or claimed) forever. */
    async onGiveUp({ messageId }) {
      await prisma.message.updateMany({
        where: { id: messageId, status: { in: ["queued", "sending"] }, twilioSid: null },
        data: { status: "failed", failureReason: FAILURE_REASONS.retriesExhausted },
      });
      logger.error({ messageId }, "gave up sending a message after every retry");
    },
  });
}

export function expertInviteJob(deps: TelephonyDeps) {
  const numbers = createNumberService(deps);
  return defineJob({
    name: EXPERT_INVITE,
    payload: z.object({ expertId: z.uuid(), invite: z.number().int().positive() }),
    async handle({ expertId, invite }) {
      const expert = await deps.prisma.expert.findUnique({
        where: { id: expertId },
        include: { shop: { select: { name: true } }, skills: { orderBy: { level: "desc" } } },
      });
      // A newer invitation covers it (new phone, or suspended and back), joined already, or gone.
      const current = (row: { inviteCount: number; status: string } | null | undefined) => row?.inviteCount === invite && row.status === "invited";
      if (!expert || !current(expert)) return;
      const line = await numbers.ensureExpertLine(expert.shopId); // may buy a number: outside the transaction
      await deps.prisma.$transaction(async (tx) => {
        // Looked at again under a share lock: a phone change now waits for this message, or this sees it.
        const [locked] = await tx.$queryRaw<{ phone: string; inviteCount: number; status: string }[]>`
          SELECT phone, "inviteCount", status::text AS status FROM "Expert" WHERE id = ${expertId}::uuid FOR SHARE`;
        if (!locked || !current(locked)) return;
        await queueSms(tx, {
          shopId: expert.shopId,
          from: line.e164,
          to: locked.phone,
          body: inviteText({ shopName: expert.shop.name, expertName: expert.name, tags: expert.skills.map((skill) => skill.tag) }),
          purpose: "invite",
          dedupeKey: inviteDedupeKey(expertId, invite),
        });
      });
    },
  });
}

export function handleInboundSmsJob(deps: TelephonyDeps) {
  return defineJob({
    name: HANDLE_INBOUND_SMS,
    payload: z.object({ messageId: z.uuid() }),
    async handle({ messageId }) {
      await handleInboundSms(deps, messageId);
    },
  });
}

export function telephonyJobs(deps: TelephonyDeps) {
  return [sendSmsJob(deps), expertInviteJob(deps), handleInboundSmsJob(deps)];
}
