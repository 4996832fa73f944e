import { z } from "zod";

export const MAX_PAGE_SIZE = 100;

/** Query string for every list: `?limit=&cursor=`. Cursors are opaque ids. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(25),
  cursor: z.uuid({ error: "must be a cursor from a previous page" }).optional(),
});

export type PageQuery = z.infer<typeof pageQuery>;

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable().describe("Pass as ?cursor= for the next page; null on the last page."),
  });
}

/**
 * Prisma arguments for one page, newest first. Ids are UUIDv7, so id order is
 * creation order; fetching one extra row tells whether there is a next page.
 */
export function pageArgs({ limit }: PageQuery) {
  return { take: limit + 1, orderBy: { id: "desc" as const } };
}

/** Merge into a list's `where`: rows after the cursor. */
export function afterCursor({ cursor }: PageQuery): { id?: { lt: string } } {
  return cursor ? { id: { lt: cursor } } : {};
}

export function toPage<T extends { id: string }>(rows: T[], limit: number): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, nextCursor: rows.length > limit ? (data.at(-1)?.id ?? null) : null };
}
