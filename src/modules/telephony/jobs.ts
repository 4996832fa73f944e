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
import { isRetryableTwilioError, isTwilioRestError, UNSUBSCRIBED_RECIPIENT } from "../../lib/twilio-errors.js";
import { enqueue } from "../outbox/outbox.js";
import { inviteText } from "./copy.js";
import { handleInboundSms } from "./inbound.js";
import { createNumberService, webhookUrls } from "./numbers.js";
import { quietHoursEnd } from "./quiet-hours.js";
import { OPT_OUT_CONFIRMATION, queueSms, SEND_SMS } from "./sms.js";

export const EXPERT_INVITE = "expert-invite";
export const HANDLE_INBOUND_SMS = "handle-inbound-sms";

type TelephonyDeps = Pick<Deps, "prisma" | "redis" | "twilio" | "config" | "clock" | "logger">;

/** Called in the transaction that creates an expert or changes their phone. */
export async function enqueueExpertInvite(tx: Prisma.TransactionClient, expert: { id: string; phone: string }) {
  await enqueue(tx, {
    queue: QUEUES.telephony,
    name: EXPERT_INVITE,
    payload: { expertId: expert.id, phone: expert.phone },
    jobId: `invite-${expert.id}-${expert.phone.replace("+", "")}`,
  });
}

export function sendSmsJob({ prisma, redis, twilio, config, clock, logger }: TelephonyDeps) {
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
        const wait = await reserveSendSlot(redis, message.from, config.SMS_MESSAGES_PER_SECOND, now.getTime());
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
      try {
        const sent = await twilio.messages.create({
          to: message.to,
          from: message.from,
          body: message.body,
          // Our id rides along, so a callback can be matched even if we crashed before storing the SID.
          statusCallback: `${statusCallback}?messageId=${message.id}`,
        });
        await prisma.message.update({ where: { id: messageId }, data: { twilioSid: sent.sid } });
      } catch (error) {
        if (isTwilioRestError(error) && !isRetryableTwilioError(error)) {
          logger.warn({ messageId, code: error.code, status: error.status }, "twilio refused the message; not retrying");
          await prisma.message.update({ where: { id: messageId }, data: { status: "failed", errorCode: error.code ?? null } });
          if (error.code === UNSUBSCRIBED_RECIPIENT) {
            await prisma.optOut.createMany({ data: [{ phone: message.to, platformNumber: message.from }], skipDuplicates: true });
          }
          return;
        }
        // Never processed by Twilio (429, 5xx, network): put it back and let BullMQ retry with backoff.
        await prisma.message.update({ where: { id: messageId }, data: { status: "queued", sendAfter: null } });
        throw error;
      }
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
