import { z } from "zod";

/**
 * PostgreSQL text cannot hold U+0000 (it answers 22021, or 22P05 inside
 * jsonb), so a NUL that reaches the database is a 500 instead of a 400.
 * Every free-text field of the API, body or query string, is built here so
 * it is refused at the edge with a message that names the field.
 */
export const NUL_MESSAGE = "must not contain NUL characters (\\u0000)";

export interface TextOptions {
  /** Longest accepted value, after trimming. */
  max: number;
  /** Shortest accepted value, after trimming (default 0). */
  min?: number;
  /** Trim surrounding whitespace first (default true): names typed by people carry stray spaces. */
  trim?: boolean;
}

export function text({ max, min = 0, trim = true }: TextOptions) {
  const base = trim ? z.string().trim() : z.string();
  const sized = min > 0 ? base.min(min) : base;
  return sized.max(max).refine((value) => !value.includes("\u0000"), NUL_MESSAGE);
}
