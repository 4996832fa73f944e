/**
 * Platform phone numbers: each shop's expert line (customers and experts
 * text or call it) and the proxy pool that masks sessions.
 */
import { isUniqueViolation } from "../../db/errors.js";
import type { Deps } from "../../deps.js";
import type { PhoneNumber } from "../../generated/prisma/client.js";
import { conflict, DomainError, unprocessable } from "../../lib/problems.js";
import type { PageQuery } from "../../lib/pagination.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";

type NumberDeps = Pick<Deps, "prisma" | "twilio" | "config" | "logger">;

export function webhookUrls(publicBaseUrl: string) {
  return {
    sms: `${publicBaseUrl}/twilio/sms`,
    voice: `${publicBaseUrl}/twilio/voice`,
    messageStatus: `${publicBaseUrl}/twilio/status/message`,
    callStatus: `${publicBaseUrl}/twilio/status/call`,
  };
}

export function autoProvisionEnabled(config: NumberDeps["config"]): boolean {
  return (config.TWILIO_AUTO_PROVISION_NUMBERS ?? (config.TWILIO_API_BASE_URL ? "true" : "false")) === "true";
}

export function createNumberService({ prisma, twilio, config, logger }: NumberDeps) {
  const urls = webhookUrls(config.PUBLIC_BASE_URL);

  /** Buys a local number with SMS and voice, pointed at our webhooks. */
  async function provision(): Promise<{ e164: string; sid: string }> {
    const [available] = await twilio.availablePhoneNumbers("US").local.list({ smsEnabled: true, voiceEnabled: true, limit: 1 });
    if (!available) throw new DomainError(503, "no-numbers-available", "No phone number could be bought right now");
    const bought = await twilio.incomingPhoneNumbers.create({
      phoneNumber: available.phoneNumber,
      smsUrl: urls.sms,
      smsMethod: "POST",
      voiceUrl: urls.voice,
      voiceMethod: "POST",
      statusCallback: urls.callStatus,
      statusCallbackMethod: "POST",
    });
    return { e164: bought.phoneNumber, sid: bought.sid };
  }

  return {
    async registerNumber(input: { e164: string; purpose: "expert_line" | "proxy"; shopId?: string | undefined }) {
      if (input.purpose === "expert_line" && !input.shopId) {
        throw unprocessable("An expert line belongs to a shop", [{ path: "body.shopId", message: "required for an expert_line" }]);
      }
      if (input.purpose === "proxy" && input.shopId) {
        throw unprocessable("Proxy numbers are shared by all shops", [{ path: "body.shopId", message: "must be absent for a proxy number" }]);
      }
      if (input.shopId && !(await prisma.shop.findUnique({ where: { id: input.shopId }, select: { id: true } }))) {
        throw unprocessable("No such shop", [{ path: "body.shopId", message: "no such shop" }]);
      }
      if (input.shopId && (await prisma.phoneNumber.findFirst({ where: { shopId: input.shopId, purpose: "expert_line" } }))) {
        throw conflict("expert-line-exists", "This shop already has an expert line");
      }
      try {
        return await prisma.phoneNumber.create({
          data: { e164: input.e164, purpose: input.purpose, ...(input.shopId ? { shopId: input.shopId } : {}) },
        });
      } catch (error) {
        if (isUniqueViolation(error, "PhoneNumber_e164_key")) {
          throw conflict("number-registered", "This number is already registered");
        }
        throw error;
      }
    },

    async listNumbers(page: PageQuery & { purpose?: "expert_line" | "proxy" | undefined }) {
      const rows = await prisma.phoneNumber.findMany({
        ...pageArgs(page),
        where: { ...afterCursor(page), ...(page.purpose ? { purpose: page.purpose } : {}) },
      });
      return toPage(rows, page.limit);
    },

    async findByE164(e164: string): Promise<PhoneNumber | null> {
      return prisma.phoneNumber.findUnique({ where: { e164 } });
    },

    /**
     * The shop's expert line; bought on first need when auto-provisioning is
     * on. A transaction-scoped advisory lock on the shop makes two concurrent
     * callers buy one number, not two.
     */
    async ensureExpertLine(shopId: string): Promise<PhoneNumber> {
      const existing = await prisma.phoneNumber.findFirst({ where: { shopId, purpose: "expert_line" } });
      if (existing) return existing;
      if (!autoProvisionEnabled(config)) {
        throw new DomainError(409, "no-expert-line", "The shop has no expert line; register one with POST /v1/admin/phone-numbers");
      }
      return prisma.$transaction(
        async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`expert-line:${shopId}`}))`;
          const raced = await tx.phoneNumber.findFirst({ where: { shopId, purpose: "expert_line" } });
          if (raced) return raced;
          const bought = await provision();
          logger.info({ shopId }, "bought an expert line for the shop");
          return tx.phoneNumber.create({ data: { e164: bought.e164, twilioSid: bought.sid, purpose: "expert_line", shopId } });
        },
        { timeout: 30_000 },
      );
    },

    /**
     * A proxy number that `fits` picks from the pool (oldest first), or one
     * bought now when none fits and auto-provisioning is on. Under one lock
     * for the whole pool: callers who find none at the same moment re-check
     * in turn, so they buy one number between them where one is enough.
     * `fits` only advises; the caller allocates under its own lock.
     */
    async ensureProxyNumber(fits: (pool: PhoneNumber[]) => Promise<PhoneNumber | null>): Promise<PhoneNumber> {
      return prisma.$transaction(
        async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('proxy-numbers'))`;
          const pool = await tx.phoneNumber.findMany({ where: { purpose: "proxy" }, orderBy: { id: "asc" } });
          const fitting = await fits(pool);
          if (fitting) return fitting;
          if (!autoProvisionEnabled(config)) {
            throw new DomainError(409, "no-proxy-number", "No proxy number is free for this pair; register one with POST /v1/admin/phone-numbers");
          }
          const bought = await provision();
          logger.info({ poolSize: pool.length + 1 }, "bought a proxy number");
          return tx.phoneNumber.create({ data: { e164: bought.e164, twilioSid: bought.sid, purpose: "proxy" } });
        },
        { timeout: 30_000 },
      );
    },
  };
}

export type NumberService = ReturnType<typeof createNumberService>;
