import type { z } from "zod";
import { isUniqueViolation } from "../../db/errors.js";
import type { Deps } from "../../deps.js";
import type { Prisma, Pool } from "../../generated/prisma/client.js";
import { afterCursor, pageArgs, toPage, type PageQuery } from "../../lib/pagination.js";
import { conflict, notFound, unprocessable } from "../../lib/problems.js";
import { registerTags } from "../tags/service.js";
import type { createPoolBody, updatePoolBody } from "./schemas.js";

type CreatePool = z.output<typeof createPoolBody>;
type UpdatePool = z.output<typeof updatePoolBody>;

const withRelations = {
  products: { select: { productId: true }, orderBy: { productId: "asc" } },
  _count: { select: { members: true } },
} as const satisfies Prisma.PoolInclude;

type PoolRow = Pool & { products: { productId: string }[]; _count: { members: number } };

/** The API shape: pricing and offer policy as objects, products as ids. */
function toPoolView(pool: PoolRow) {
  return {
    id: pool.id,
    name: pool.name,
    tags: pool.tags,
    productIds: pool.products.map((product) => product.productId),
    pricing: {
      mode: pool.pricingMode,
      amountMinor: pool.amountMinor,
      minimumMinor: pool.minimumMinor,
      currency: pool.currency,
      platformFeeBps: pool.platformFeeBps,
    },
    offerPolicy: { mode: pool.offerMode, timeoutSeconds: pool.offerTimeoutSeconds, fanout: pool.offerFanout },
    callCapMinutes: Math.round(pool.callCapSeconds / 60),
    memberCount: pool._count.members,
    createdAt: pool.createdAt,
    updatedAt: pool.updatedAt,
  };
}

function pricingColumns(pricing: CreatePool["pricing"], currency: string) {
  return {
    pricingMode: pricing.mode,
    amountMinor: pricing.amountMinor,
    minimumMinor: pricing.minimumMinor,
    currency: pricing.currency ?? currency,
    platformFeeBps: pricing.platformFeeBps,
  };
}

function offerPolicyColumns(policy: CreatePool["offerPolicy"]) {
  return { offerMode: policy.mode, offerTimeoutSeconds: policy.timeoutSeconds, offerFanout: policy.fanout };
}

async function shopCurrency(tx: Prisma.TransactionClient, shopId: string): Promise<string> {
  return (await tx.shop.findUniqueOrThrow({ where: { id: shopId }, select: { currency: true } })).currency;
}

const nameTaken = () => conflict("pool-name-taken", "Another pool of this shop has this name");

function rethrowUnique(error: unknown): never {
  if (isUniqueViolation(error, "Pool_shopId_name_key")) throw nameTaken();
  throw error;
}

export function createPoolService({ prisma }: Pick<Deps, "prisma">) {
  /** Products must be this shop's; another shop's id is reported exactly like a missing one. */
  async function checkProducts(tx: Prisma.TransactionClient, shopId: string, productIds: string[]) {
    if (productIds.length === 0) return;
    const found = await tx.product.findMany({ where: { shopId, id: { in: productIds } }, select: { id: true } });
    const known = new Set(found.map((product) => product.id));
    const errors = productIds.flatMap((id, index) =>
      known.has(id) ? [] : [{ path: `body.productIds.${index}`, message: "no such product in this shop" }],
    );
    if (errors.length > 0) throw unprocessable("Some products do not exist", errors);
  }

  async function findPool(shopId: string, id: string) {
    const pool = await prisma.pool.findFirst({ where: { id, shopId }, include: withRelations });
    if (!pool) throw notFound("Pool");
    return pool;
  }

  return {
    async getPool(shopId: string, id: string) {
      return toPoolView(await findPool(shopId, id));
    },

    async createPool(shopId: string, input: CreatePool) {
      try {
        return await prisma.$transaction(async (tx) => {
          await checkProducts(tx, shopId, input.productIds);
          await registerTags(tx, shopId, input.tags);
          const pool = await tx.pool.create({
            data: {
              shopId,
              name: input.name,
              tags: input.tags,
              ...pricingColumns(input.pricing, await shopCurrency(tx, shopId)),
              ...offerPolicyColumns(input.offerPolicy),
              callCapSeconds: input.callCapMinutes * 60,
              products: { create: input.productIds.map((productId) => ({ productId })) },
            },
            include: withRelations,
          });
          return toPoolView(pool);
        });
      } catch (error) {
        return rethrowUnique(error);
      }
    },

    async listPools(shopId: string, query: PageQuery & { tag?: string | undefined; productId?: string | undefined }) {
      const rows = await prisma.pool.findMany({
        ...pageArgs(query),
        where: {
          shopId,
          ...afterCursor(query),
          ...(query.tag ? { tags: { has: query.tag } } : {}),
          ...(query.productId ? { products: { some: { productId: query.productId } } } : {}),
        },
        include: withRelations,
      });
      const page = toPage(rows, query.limit);
      return { data: page.data.map(toPoolView), nextCursor: page.nextCursor };
    },

    async updatePool(shopId: string, id: string, input: UpdatePool) {
      try {
        return await prisma.$transaction(async (tx) => {
          const existing = await tx.pool.findFirst({ where: { id, shopId }, select: { id: true } });
          if (!existing) throw notFound("Pool");
          if (input.productIds) await checkProducts(tx, shopId, input.productIds);
          if (input.tags) await registerTags(tx, shopId, input.tags);
          const pool = await tx.pool.update({
            where: { id },
            data: {
              ...(input.name !== undefined ? { name: input.name } : {}),
              ...(input.tags !== undefined ? { tags: input.tags } : {}),
              ...(input.pricing ? pricingColumns(input.pricing, await shopCurrency(tx, shopId)) : {}),
              ...(input.offerPolicy ? offerPolicyColumns(input.offerPolicy) : {}),
              ...(input.callCapMinutes !== undefined ? { callCapSeconds: input.callCapMinutes * 60 } : {}),
              ...(input.productIds
                ? {
                    products: {
                      deleteMany: {},
                      create: input.productIds.map((productId) => ({ productId })),
                    },
                  }
                : {}),
            },
            include: withRelations,
          });
          return toPoolView(pool);
        });
      } catch (error) {
        return rethrowUnique(error);
      }
    },

    async deletePool(shopId: string, id: string) {
      const { count } = await prisma.pool.deleteMany({ where: { id, shopId } });
      if (count === 0) throw notFound("Pool");
    },

    async listMembers(shopId: string, poolId: string, page: PageQuery) {
      await findPool(shopId, poolId);
      const rows = await prisma.poolMember.findMany({
        where: { poolId, ...(page.cursor ? { expertId: { lt: page.cursor } } : {}) },
        orderBy: { expertId: "desc" },
        take: page.limit + 1,
        include: { expert: { select: { name: true } } },
      });
      const members = rows.map((row) => ({
        id: row.expertId,
        poolId: row.poolId,
        expertId: row.expertId,
        expertName: row.expert.name,
        createdAt: row.createdAt,
      }));
      const result = toPage(members, page.limit);
      return { data: result.data.map(({ id: _id, ...member }) => member), nextCursor: result.nextCursor };
    },

    /** Adding an existing member is not an error: it answers with the membership (created: false). */
    async addMember(shopId: string, poolId: string, expertId: string) {
      await findPool(shopId, poolId);
      const expert = await prisma.expert.findFirst({ where: { id: expertId, shopId }, select: { id: true, name: true } });
      if (!expert) throw unprocessable("No such expert", [{ path: "body.expertId", message: "no such expert in this shop" }]);
      const existing = await prisma.poolMember.findUnique({ where: { poolId_expertId: { poolId, expertId } } });
      const member =
        existing ??
        (await prisma.poolMember.upsert({
          where: { poolId_expertId: { poolId, expertId } },
          create: { poolId, expertId },
          update: {},
        }));
      return { created: !existing, member: { ...member, expertName: expert.name } };
    },

    async removeMember(shopId: string, poolId: string, expertId: string) {
      await findPool(shopId, poolId);
      const { count } = await prisma.poolMember.deleteMany({ where: { poolId, expertId } });
      if (count === 0) throw notFound("Pool member");
    },
  };
}

export type PoolService = ReturnType<typeof createPoolService>;
