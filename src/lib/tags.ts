import { z } from "zod";

/** A skill tag: lowercase slug, e.g. "all-grain" or "mash-ph". */
export const tagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be a lowercase slug like all-grain")
  .max(48);

/** De-duplicated, sorted tags, so equal sets compare and store equal. */
export const tagListSchema = z
  .array(tagSchema)
  .max(32)
  .transform((tags) => [...new Set(tags)].sort());
