import { z } from "zod";
import { tagListSchema, tagSchema } from "../../lib/tags.js";
import { pageQuery } from "../../lib/pagination.js";
import { text } from "../../lib/text.js";
import { wordsOf } from "../questions/product-match.js";

export const productSchema = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    aliases: z.array(z.string()).describe("Other names customers use for it; a text naming one picks this product"),
    expertNoun: z
      .string()
      .nullable()
      .describe('Who answers about it, as the customer hears it: "Dan, a fellow {expertNoun}, will answer you here"'),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .meta({ id: "Product" });

const skuSchema = text({ min: 1, max: 64 }).regex(/^[\x21-\x7e]+$/, "must be visible ASCII without spaces");

// An empty alias already fails min(1); one message per problem.
const aliasSchema = text({ min: 1, max: 60 }).refine((alias) => alias === "" || wordsOf(alias).length > 0, {
  message: "must contain a letter or digit (texts are matched on words)",
});

/** Kept in the order given, without repeats the matcher reads as the same words ("G-30", "g 30"). */
const aliasListSchema = z
  .array(aliasSchema)
  .max(20)
  .transform((aliases) => {
    const seen = new Set<string>();
    return aliases.filter((alias) => {
      const words = wordsOf(alias).join(" ");
      if (seen.has(words)) return false;
      seen.add(words);
      return true;
    });
  })
  .describe('Other names customers use for the product in texts ("G30", "the Grainfather"), matched as whole words');

const productFields = {
  sku: skuSchema,
  name: text({ min: 1, max: 200 }),
  description: text({ max: 5000 }),
  tags: tagListSchema,
  aliases: aliasListSchema,
  expertNoun: text({ min: 1, max: 60 })
    .nullable()
    .describe('How the customer hears who answers: "Dan, a fellow {expertNoun}" (e.g. "Grainfather brewer"); null for none'),
};

export const createProductBody = z.object({
  ...productFields,
  description: productFields.description.default(""),
  tags: productFields.tags.default([]),
  aliases: productFields.aliases.default([]),
  expertNoun: productFields.expertNoun.default(null),
});

export const updateProductBody = z
  .object(productFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: "send at least one field to change" });

export const listProductsQuery = pageQuery.extend({
  tag: tagSchema.optional().describe("Only products carrying this tag"),
  sku: text({ max: 64 }).optional().describe("Only the product with this sku"),
});
