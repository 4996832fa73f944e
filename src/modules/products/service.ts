import type { z } from "zod";
import type { Deps } from "../../deps.js";
import { isUniqueViolation } from "../../db/errors.js";
import { definedOnly } from "../../lib/objects.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";
import { conflict, notFound } from "../../lib/problems.js";
import { registerTags } from "../tags/service.js";
import type { createProductBody, listProductsQuery, updateProductBody } from "./schemas.js";

/** The API always sends aliases and expertNoun (defaults applied); other callers (the seed) may leave them out. */
type CreateProductInput = Omit<z.output<typeof createProductBody>, "aliases" | "expertNoun"> &
  Partial<Pick<z.output<typeof createProductBody>, "aliases" | "expertNoun">>;

const SKU_INDEX = "Product_shopId_sku_key";
const skuTaken = () => conflict("sku-taken", "Another product of this shop has this sku");

export function createProductService({ prisma }: Pick<Deps, "prisma">) {
  async function getProduct(shopId: string, id: string) {
    // Scoped by shop: another shop's product is "not found", exactly like a missing one.
    const product = await prisma.product.findFirst({ where: { id, shopId } });
    if (!product) throw notFound("Product");
    return product;
  }

  return {
    getProduct,

    async createProduct(shopId: string, input: CreateProductInput) {
      try {
        return await prisma.$transaction(async (tx) => {
          await registerTags(tx, shopId, input.tags);
          return tx.product.create({ data: { shopId, ...input } });
        });
      } catch (error) {
        if (isUniqueViolation(error, SKU_INDEX)) throw skuTaken();
        throw error;
      }
    },

    async listProducts(shopId: string, query: z.output<typeof listProductsQuery>) {
      const rows = await prisma.product.findMany({
        ...pageArgs(query),
        where: {
          shopId,
          ...afterCursor(query),
          ...(query.tag ? { tags: { has: query.tag } } : {}),
          ...(query.sku ? { sku: query.sku } : {}),
        },
      });
      return toPage(rows, query.limit);
    },

    async updateProduct(shopId: string, id: string, input: z.output<typeof updateProductBody>) {
      try {
        return await prisma.$transaction(async (tx) => {
          const { count } = await tx.product.updateMany({ where: { id, shopId }, data: definedOnly(input) });
          if (count === 0) throw notFound("Product");
          if (input.tags) await registerTags(tx, shopId, input.tags);
          return tx.product.findUniqueOrThrow({ where: { id } });
        });
      } catch (error) {
        if (isUniqueViolation(error, SKU_INDEX)) throw skuTaken();
        throw error;
      }
    },

    /** Questions about the product keep their history (productId becomes null). */
    async deleteProduct(shopId: string, id: string) {
      const { count } = await prisma.product.deleteMany({ where: { id, shopId } });
      if (count === 0) throw notFound("Product");
    },
  };
}

export type ProductService = ReturnType<typeof createProductService>;
