import { z } from "zod";
import { shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf, pageQuery } from "../../lib/pagination.js";
import { tagSchema } from "../../lib/tags.js";
import { text } from "../../lib/text.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import type { TagService } from "./service.js";

const skillTagSchema = z
  .object({ id: z.uuid(), slug: z.string(), label: z.string(), description: z.string(), createdAt: z.date() })
  .meta({ id: "SkillTag" });

export const tagRoutes: RoutesPlugin<{ tags: TagService }> = async (app, { tags: service }) => {
  const tags = ["skill-tags"];
  app.get(
    "/tags",
    {
      schema: {
        tags,
        security: shopAuth,
        summary: "The shop's skill tags (added automatically when products, pools or experts use them)",
        querystring: pageQuery,
        response: { 200: pageOf(skillTagSchema), ...commonErrors },
      },
    },
    async (request) => service.listTags(shopIdOf(request), request.query),
  );

  app.put(
    "/tags/:slug",
    {
      schema: {
        tags,
        security: shopAuth,
        summary: "Create a skill tag or change its label and description",
        params: z.object({ slug: tagSchema }),
        body: z.object({
          label: text({ min: 1, max: 80 }),
          description: text({ max: 500 }).default(""),
        }),
        response: { 200: skillTagSchema, ...commonErrors },
      },
    },
    async (request) => service.putTag(shopIdOf(request), request.params.slug, request.body),
  );
};
