import type { z } from "zod";
import type { Deps } from "../../deps.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Prisma, Shop } from "../../generated/prisma/client.js";
import { definedOnly } from "../../lib/objects.js";
import type { PageQuery } from "../../lib/pagination.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";
import { conflict, notFound } from "../../lib/problems.js";
import { issueApiKey } from "../../lib/tokens.js";
import { smsCountriesOf } from "../questions/sms-guards.js";
import type { adminUpdateShopBody, updateShopBody } from "./schemas.js";

type Db = Pick<Deps, "prisma" | "clock">;

const apiKeyFields = { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true } as const;

/** A shop as the API shows it: the countries it may text as they apply, not as stored ([] = its own). */
export function toShopView(shop: Shop) {
  return { ...shop, smsCountries: smsCountriesOf(shop) };
}

function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return slug || "shop";
}

export function createShopService({ prisma, clock }: Db) {
  async function updateShopFields(shopId: string, fields: Prisma.ShopUpdateManyMutationInput) {
    const { count } = await prisma.shop.updateMany({ where: { id: shopId }, data: fields });
    if (count === 0) throw notFound("Shop");
    return toShopView(await prisma.shop.findUniqueOrThrow({ where: { id: shopId } }));
  }

  return {
    /** Creates a shop with its first API key; the key is returned once and only its hash is kept. */
    /** `country` defaults to the database's (US) for callers that do not say, such as the seed. */
    async createShop(input: { name: string; slug?: string | undefined; currency: string; country?: string | undefined }) {
      const issued = issueApiKey();
      try {
        return await prisma.$transaction(async (tx) => {
          const shop = await tx.shop.create({
            data: {
              name: input.name,
              slug: input.slug ?? slugify(input.name),
              currency: input.currency,
              ...(input.country ? { country: input.country } : {}),
            },
          });
          const apiKey = await tx.apiKey.create({
            data: { shopId: shop.id, name: "Initial key", prefix: issued.prefix, hash: issued.hash },
            select: apiKeyFields,
          });
          return { shop: toShopView(shop), apiKey: { ...apiKey, key: issued.key } };
        });
      } catch (error) {
        if (isUniqueViolation(error, "Shop_slug_key")) {
          throw conflict("slug-taken", "A shop with this slug exists; choose another slug");
        }
        throw error;
      }
    },

    async listShops(page: PageQuery) {
      const rows = await prisma.shop.findMany({ ...pageArgs(page), where: afterCursor(page) });
      return toPage(rows.map(toShopView), page.limit);
    },

    async getShop(shopId: string) {
      const shop = await prisma.shop.findUnique({ where: { id: shopId } });
      if (!shop) throw notFound("Shop");
      return toShopView(shop);
    },

    /** The shop's own settings: its name and the origins that may frame its status pages. */
    updateShop: (shopId: string, input: z.output<typeof updateShopBody>) => updateShopFields(shopId, definedOnly(input)),

    /** The platform admin's settings of a shop: the SMS pumping guard and suspension. */
    adminUpdateShop: (shopId: string, input: z.output<typeof adminUpdateShopBody>) =>
      updateShopFields(shopId, definedOnly(input)),

    async createApiKey(shopId: string, name: string) {
      const issued = issueApiKey();
      const apiKey = await prisma.apiKey.create({
        data: { shopId, name, prefix: issued.prefix, hash: issued.hash },
        select: apiKeyFields,
      });
      return { ...apiKey, key: issued.key };
    },

    async listApiKeys(shopId: string, page: PageQuery) {
      const rows = await prisma.apiKey.findMany({
        ...pageArgs(page),
        where: { shopId, ...afterCursor(page) },
        select: apiKeyFields,
      });
      return toPage(rows, page.limit);
    },

    /**
     * Revoking is permanent and idempotent. The key used for this request may
     * revoke itself; revoking the shop's last live key is refused so a shop
     * cannot lock itself out by mistake.
     */
    async revokeApiKey(shopId: string, apiKeyId: string) {
      return prisma.$transaction(async (tx) => {
        // Lock the shop's keys so two concurrent revocations cannot both pass the last-key check.
        await tx.$queryRaw`SELECT id FROM "ApiKey" WHERE "shopId" = ${shopId}::uuid FOR UPDATE`;
        const apiKey = await tx.apiKey.findFirst({ where: { id: apiKeyId, shopId }, select: apiKeyFields });
        if (!apiKey) throw notFound("API key");
        if (apiKey.revokedAt) return apiKey;
        const live = await tx.apiKey.count({ where: { shopId, revokedAt: null } });
        if (live <= 1) throw conflict("last-api-key", "This is the shop's last active key; create another before revoking it");
        return tx.apiKey.update({ where: { id: apiKeyId }, data: { revokedAt: clock.now() }, select: apiKeyFields });
      });
    },
  };
}

export type ShopService = ReturnType<typeof createShopService>;
