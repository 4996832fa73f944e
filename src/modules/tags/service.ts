import type { Deps } from "../../deps.js";
import type { Prisma } from "../../generated/prisma/client.js";
import type { PageQuery } from "../../lib/pagination.js";
import { afterCursor, pageArgs, toPage } from "../../lib/pagination.js";

/** Adds tags the shop has not seen before to its vocabulary (label = slug until named). */
export async function registerTags(tx: Prisma.TransactionClient, shopId: string, tags: readonly string[]): Promise<void> {
  if (tags.length === 0) return;
  await tx.skillTag.createMany({
    data: tags.map((slug) => ({ shopId, slug, label: slug })),
    skipDuplicates: true,
  });
}

export function createTagService({ prisma }: Pick<Deps, "prisma">) {
  return {
    async listTags(shopId: string, page: PageQuery) {
      return toPage(await prisma.skillTag.findMany({ ...pageArgs(page), where: { shopId, ...afterCursor(page) } }), page.limit);
    },

    /** Creates or renames a tag; the slug, which products and experts refer to, never changes. */
    async putTag(shopId: string, slug: string, input: { label: string; description: string }) {
      return prisma.skillTag.upsert({
        where: { shopId_slug: { shopId, slug } },
        create: { shopId, slug, ...input },
        update: input,
      });
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;
