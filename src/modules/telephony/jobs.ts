/**
 * Telephony work done by the worker: sending SMS, inviting experts, and
 * acting on inbound texts. Every handler is idempotent: it re-reads the rows
 * it acts on and does nothing when the work is already done.
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { reserveSendSlot } from "../../lib/send-slots.js";
import { sha256Hex } from "../../lib/tokens.js";
import { isRetryableTwilioError, isTwilioRestError, UNSUBSCRIBED_RECIPIENT } from "../../lib/twilio-errors.js";
import { enqueue } from "../outbox/outbox.js";
import { inviteText } from "./copy.js";
import { handleInboundSms } from "./inbound.js";
import { createNumberService, webhookUrls } from "./numbers.js";
import { quietHoursEnd } from "./quiet-hours.js";
import { OPT_OUT_CONFIRMATION, queueSms, SEND_SMS } from "./sms.js";

export const EXPERT_INVITE = "expert-invite";
export const HANDLE_INBOUND_SMS = "handle-inbound-sms";

type TelephonyDeps = Pick<Deps, "prisma" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;

/** Called in the transaction that creates an expert or changes their phone. */
export async function enqueueExpertInvite(tx: Prisma.TransactionClient, expert: { id: string; phone: string }) {
  await enqueue(tx, {
    queue: QUEUES.telephony,
    name: EXPERT_INVITE,
    payload: { expertId: expert.id, phone: expert.phone },
    // A hash, not the number: job ids end up in logs and Redis keys.
    jobId: `invite-${expert.id}-${sha256Hex(expert.phone).slice(0, 16)}`,
  });
}

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
      // Anything but "queued" means sent, failed, or claimed by an attempt that
      // crashed mid-send: never risk sending twice.
      if (!message || message.direction !== "outbound" || message.status !== "queued") return;

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
        const wait = await reserveSendSlot(redis, {
          sender: message.from,
          messagesPerSecond: config.SMS_MESSAGES_PER_SECOND,
          nowMs: now.getTime(),
          prefix: queuePrefix,
        });
        if (wait > 0) {
          const sendAfter = new Date(now.getTime() + wait);
          await prisma.message.update({ where: { id: messageId }, data: { sendAfter } });
          await context.delayUntil(sendAfter);
        }
      } else if (message.sendAfter > now) {
        await context.delayUntil(message.sendAfter);
      }

      const claimed = await prisma.message.updateMany({ where: { id: messageId, status: "queued" }, data: { status: "sending" } });
      if (claimed.count === 0) return;
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
          await prisma.message.update({ where: { id: messageId }, data: { status: "failed", errorCode: error.code ?? null } });
          if (error.code === UNSUBSCRIBED_RECIPIENT) {
            await prisma.optOut.createMany({ data: [{ phone: message.to, platformNumber: message.from }], skipDuplicates: true });
          }
          return;
        }
        // 429/5xx/network: Twilio did not accept it (a 5xx or a dropped connection can, rarely, hide an
        // accepted message; its status callback then finds the row by our id). Put it back, only if
        // nothing has moved it since, and let BullMQ retry with backoff.
        await prisma.message.updateMany({
          where: { id: messageId, status: "sending", twilioSid: null },
          data: { status: "queued", sendAfter: null },
        });
        throw error;
      }
      // Sent: from here on, never send again. Recording the SID is retried on its own.
      await withRetries(() => prisma.message.updateMany({ where: { id: messageId, twilioSid: null }, data: { twilioSid: sid } }));
    },
    /** Out of attempts (a long Twilio outage): say so on the row instead of leaving it queued forever. */
    async onGiveUp({ messageId }) {
      await prisma.message.updateMany({ where: { id: messageId, status: "queued" }, data: { status: "failed" } });
      logger.error({ messageId }, "gave up sending a message after every retry");
    },
  });
}

export function expertInviteJob(deps: TelephonyDeps) {
  const numbers = createNumberService(deps);
  return defineJob({
    name: EXPERT_INVITE,
    payload: z.object({ expertId: z.uuid(), phone: z.string() }),
    async handle({ expertId, phone }) {
      const expert = await deps.prisma.expert.findUnique({
        where: { id: expertId },
        include: { shop: { select: { name: true } }, skills: { orderBy: { level: "desc" } } },
      });
      // Changed number since (a newer invite covers it), joined already, or gone.
      if (!expert || expert.phone !== phone || expert.status !== "invited") return;
      const line = await numbers.ensureExpertLine(expert.shopId);
      await deps.prisma.$transaction(async (tx) => {
        await queueSms(tx, {
          shopId: expert.shopId,
          from: line.e164,
          to: phone,
          body: inviteText({ shopName: expert.shop.name, expertName: expert.name, tags: expert.skills.map((skill) => skill.tag) }),
          purpose: "invite",
          dedupeKey: `invite:${expertId}:${phone}`,
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
