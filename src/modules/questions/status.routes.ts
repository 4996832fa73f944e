/**
 * The public status page of a question: GET /q/:token. No API key: the
 * unguessable token in the link is the only credential, so an unknown and a
 * malformed token get the same 404, and the page shows no phone number.
 * HTML for people, JSON with `Accept: application/json`, a compact framable
 * version with `?embed=1`.
 *
 * Framing: only the embed may be framed, and only by the shop's own origins
 * (Shop.frameAncestors, set through PATCH /v1/shop); the full page is what
 * the customer opens from their text, nobody needs to frame it, so it sends
 * frame-ancestors 'none' and cannot be clickjacked.
 */
import type pg from "pg";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";
import { sendProblem } from "../../plugins/errors.js";
import { problem, problemSchema } from "../../plugins/problem.js";
import {
  contentSecurityPolicy,
  frameAncestorsSources,
  prefersJson,
  renderNotFoundPage,
  renderStatusEmbed,
  renderStatusPage,
} from "./status-page.js";
import { buildStatusView, EVENTS_SHOWN, QUESTION_STATUSES, STEP_KEYS, STEP_STATES, toStatusJson } from "./status-view.js";

/**
 * Status tokens are URL-safe base64 of 18+ random bytes (24 characters);
 * anything outside this shape cannot be one and is answered without a query.
 */
export const STATUS_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

const statusParams = z.object({
  token: z.string().describe("The question's status token, from the link in the customer's first text (URL-safe base64)"),
});

const statusQuery = z.object({
  embed: z
    .enum(["0", "1"])
    .optional()
    .describe("1: the compact page for an <iframe> on the shop's order page (framable by the shop's frameAncestors only)"),
});

const isoDate = z.iso.datetime({ offset: true });

export const statusJsonSchema = z
  .object({
    status: z.enum(QUESTION_STATUSES),
    open: z.boolean().describe("Still moving; false once answered, expired or cancelled"),
    headline: z.string().describe('For people: "Looking for a Grainfather G30 expert", "Dan accepted and will text you"'),
    productName: z.string().nullable(),
    shopName: z.string(),
    steps: z.array(
      z.object({
        key: z.enum(STEP_KEYS),
        label: z.string(),
        at: isoDate.nullable().describe("When the question reached this step, if it did and it is known"),
        state: z.enum(STEP_STATES).describe("skipped: a closed question never reached this step"),
      }),
    ),
    elapsed: z.object({
      seconds: z.number().int().nonnegative().describe("From the question to now, or to its closing"),
      text: z.string().describe('"12 min", "1 h 5 min"'),
    }),
    next: z.string().describe("What happens next, for people"),
    expert: z.object({ firstName: z.string() }).nullable(),
    closed: z.object({ reason: z.enum(["expired", "cancelled"]), at: isoDate.nullable() }).nullable(),
    askedAt: isoDate,
    asOf: isoDate,
  })
  .meta({ id: "QuestionStatusView" });

const htmlPage = z.string().describe("text/html");

/** Everything the page needs, in one round trip; only the events the page reads. */
const STATUS_QUERY = `
  SELECT q."status", q."createdAt", q."closedAt", q."preferredMode",
         p."name" AS "productName", s."name" AS "shopName", s."frameAncestors",
         COALESCE((
           SELECT json_agg(json_build_object('kind', e."kind", 'data', e."data", 'createdAt', e."createdAt") ORDER BY e."id")
           FROM "QuestionEvent" e
           WHERE e."questionId" = q."id" AND e."kind" = ANY($2::text[])
         ), '[]'::json) AS "events"
  FROM "Question" q
  JOIN "Shop" s ON s."id" = q."shopId"
  LEFT JOIN "Product" p ON p."id" = q."productId"
  WHERE q."statusToken" = $1`;

const statusRow = z.object({
  status: z.enum(QUESTION_STATUSES),
  createdAt: z.date(),
  closedAt: z.date().nullable(),
  preferredMode: z.enum(["sms", "voice"]),
  productName: z.string().nullable(),
  shopName: z.string(),
  frameAncestors: z.array(z.string()),
  events: z.array(z.object({ kind: z.string(), data: z.unknown(), createdAt: z.coerce.date() })),
});
type StatusRow = z.infer<typeof statusRow>;

async function loadStatus(sql: Pick<pg.Pool, "query">, token: string): Promise<StatusRow | null> {
  if (!STATUS_TOKEN_PATTERN.test(token)) return null;
  const { rows } = await sql.query(STATUS_QUERY, [token, EVENTS_SHOWN]);
  return rows.length === 0 ? null : statusRow.parse(rows[0]);
}

export const statusPageRoutes: RoutesPlugin<{ deps: Pick<Deps, "sql" | "clock"> }> = async (app, { deps }) => {
  app.get(
    "/q/:token",
    {
      schema: {
        tags: ["status page"],
        summary: "A question's public status page (no key: the token in the link is the credential)",
        description:
          "Public. HTML for people; JSON (QuestionStatusView) with Accept: application/json; ?embed=1 a compact page for an " +
          "<iframe>, framable only by the shop's frameAncestors (PATCH /v1/shop). Shows no phone number. An unknown or " +
          "malformed token is the same 404. Sent with Cache-Control: no-store and a Content-Security-Policy.",
        security: [],
        params: statusParams,
        querystring: statusQuery,
        response: {
          200: {
            description: "The question's status",
            content: { "application/json": { schema: statusJsonSchema }, "text/html": { schema: htmlPage } },
          },
          400: problemSchema,
          404: {
            description: "No question has this token (or it is not a token)",
            content: { "application/problem+json": { schema: problemSchema }, "text/html": { schema: htmlPage } },
          },
        },
      },
    },
    async (request, reply) => {
      const wantsJson = prefersJson(request.headers.accept);
      reply
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("vary", "Accept");

      const found = await loadStatus(deps.sql, request.params.token);
      const embed = found !== null && !wantsJson && request.query.embed === "1";
      const frameAncestors = embed ? frameAncestorsSources(found.frameAncestors) : "'none'";
      reply.header("content-security-policy", contentSecurityPolicy(frameAncestors));
      // Older browsers know only X-Frame-Options, which cannot list origins: say DENY where nobody may frame.
      if (frameAncestors === "'none'") reply.header("x-frame-options", "DENY");

      if (!found) {
        if (wantsJson) return sendProblem(request, reply, problem(404, "not-found", "No question has this link"));
        return reply.code(404).type("text/html; charset=utf-8").send(renderNotFoundPage());
      }
      const view = buildStatusView({
        question: found,
        productName: found.productName,
        shopName: found.shopName,
        events: found.events,
        now: deps.clock.now(),
      });
      if (wantsJson) return reply.type("application/json; charset=utf-8").send(toStatusJson(view));
      const html = embed ? renderStatusEmbed(view, `/q/${request.params.token}`) : renderStatusPage(view);
      return reply.type("text/html; charset=utf-8").send(html);
    },
  );
};
