import { z } from "zod";
import { tagListSchema, tagSchema } from "../../lib/tags.js";
import { pageQuery } from "../../lib/pagination.js";
import { text } from "../../lib/text.js";

export const productSchema = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Product" });

const skuSchema = text({ min: 1, max: 64 }).regex(/^[\x21-\x7e]+$/, "must be visible ASCII without spaces");

const productFields = {
  sku: skuSchema,
  name: text({ min: 1, max: 200 }),
  description: text({ max: 5000 }),
  tags: tagListSchema,
};

export const createProductBody = z.object({
  ...productFields,
  description: productFields.description.default(""),
  tags: productFields.tags.default([]),
});

export const updateProductBody = z
  .object(productFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

export const listProductsQuery = pageQuery.extend({
  tag: tagSchema.optional().describe("Only products carrying this tag"),
  sku: text({ max: 64 }).optional().describe("Only the product with this sku"),
});
