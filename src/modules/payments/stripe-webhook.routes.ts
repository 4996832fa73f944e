/**
 * POST /stripe/webhook (issue 9 §4): verify, record, enqueue, answer.
 *
 * - The signature is checked by the SDK's `constructEvent` over the RAW body
 *   (this scope keeps application/json as the string that was signed), with
 *   300 s tolerance, against each configured secret in turn: while a secret
 *   is rolled, Stripe signs with both and either is accepted. A missing or
 *   bad signature is a 400 problem before anything is written.
 * - The event id is the dedupe key: one statement inserts the receipt and,
 *   only for a first delivery, the outbox row of its `stripe-event` job (job
 *   id from the event id). A duplicate is acknowledged and ignored.
 * - Every verified event is answered 200 at once, types we do not handle
 *   included; the work (and its ordering rules) is the job's.
 * - Of `data.object` only the whitelisted facts are stored
 *   (stripe-event-facts.ts): an account.updated carries the expert's email,
 *   phones and bank accounts, which no outbox row or job may hold.
 */
import type pg from "pg";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";
import { QUEUES } from "../../jobs/define.js";
import { uuidv7 } from "../../lib/ids.js";
import { sendProblem } from "../../plugins/errors.js";
import { problem, problemSchema } from "../../plugins/problem.js";
import { stripeEventFacts } from "./stripe-event-facts.js";
import { STRIPE_EVENT, stripeEventJobId } from "./stripe-events.js";

/** Stripe's default and the issue's: events signed more than 5 minutes ago are refused (replays). */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

/** What we need of an event; bounded, since the id lands in a unique index. */
const eventShape = z
  .object({
    id: z.string().regex(/^evt_\w{1,200}$/, "must be a Stripe event id (evt_...)"),
    type: z.string().min(1).max(200),
    created: z.number().int().nonnegative(),
    account: z.string().max(255).nullish(),
    data: z.object({ object: z.record(z.string(), z.unknown()) }).loose(),
  })
  .loose();

/** Receipt, then the job's outbox row only if the receipt is new: one round trip, both or neither. */
const RECORD_STRIPE_EVENT = `
  WITH receipt AS (
    INSERT INTO "WebhookReceipt" ("id", "provider", "dedupeKey")
    VALUES ($1, 'stripe', $2)
    ON CONFLICT ("provider", "dedupeKey") DO NOTHING
    RETURNING 1
  )
  INSERT INTO "OutboxEvent" ("id", "topic", "payload", "jobId")
  SELECT $3, $4, $5::jsonb, $6 FROM receipt
  ON CONFLICT ("jobId") DO NOTHING
  RETURNING 1`;

async function recordStripeEvent(sql: Pick<pg.Pool, "query">, event: z.output<typeof eventShape>): Promise<boolean> {
  const payload = { eventId: event.id, type: event.type, account: event.account ?? null, created: event.created, object: stripeEventFacts(event.data.object) };
  const { rowCount } = await sql.query({
    name: "record-stripe-event",
    text: RECORD_STRIPE_EVENT,
    values: [uuidv7(), event.id, uuidv7(), `${QUEUES.payments}/${STRIPE_EVENT}`, JSON.stringify(payload), stripeEventJobId(event.id)],
  });
  return (rowCount ?? 0) > 0;
}

const received = z.object({ received: z.literal(true), duplicate: z.boolean() });

export const stripeWebhookRoutes: RoutesPlugin<{ deps: Pick<Deps, "config" | "logger" | "stripe" | "sql"> }> = async (app, { deps }) => {
  // Only here: the exact bytes Stripe signed, as a string (parsing and re-serializing would break the signature).
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.post(
    "/stripe/webhook",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Stripe's events (account and Connect), verified by Stripe-Signature",
        description:
          "Verified with the endpoint's signing secret(s) over the raw body (300 s tolerance). Each event id is handled once; " +
          "duplicates and types we do not handle are acknowledged with 200. The work is queued.",
        security: [],
        response: { 200: received, 400: problemSchema },
      },
    },
    async (request, reply) => {
      const header = request.headers["stripe-signature"];
      const raw = typeof request.body === "string" ? request.body : null;
      let verified: unknown = null;
      if (typeof header === "string" && raw !== null) {
        for (const secret of deps.config.STRIPE_WEBHOOK_SECRET) {
          try {
            verified = deps.stripe.webhooks.constructEvent(raw, header, secret, STRIPE_SIGNATURE_TOLERANCE_SECONDS);
            break;
          } catch {
            // not signed with this secret (or too old, or malformed): try the next one
          }
        }
      }
      if (verified === null) {
        deps.logger.warn("rejected a Stripe webhook with a missing or wrong signature");
        return sendProblem(request, reply, problem(400, "invalid-signature", "Stripe-Signature is missing, too old or does not match"));
      }
      const parsed = eventShape.safeParse(verified);
      if (!parsed.success) {
        const errors = parsed.error.issues.map((issue) => ({ path: `body.${issue.path.join(".")}`, message: issue.message }));
        return sendProblem(request, reply, problem(400, "invalid-event", "The body is not a Stripe event", errors));
      }
      const fresh = await recordStripeEvent(deps.sql, parsed.data);
      if (!fresh) request.log.debug({ eventId: parsed.data.id }, "duplicate Stripe event acknowledged");
      return reply.code(200).send({ received: true, duplicate: !fresh });
    },
  );
};
