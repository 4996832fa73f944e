/**
 * The `stripe-event` job: what a recorded Stripe event does, dispatched by
 * type through a handler table. Events come in any order and may repeat, so
 * every handler must be idempotent and must never move a status back (the
 * account handlers below compare the event's `created` with what is applied).
 *
 * The table is plain data: `stripeEventJobs(deps, extraHandlers)` merges the
 * built-in account handlers with the ones other modules pass in
 * (transfer.reversed, payout.paid, payout.failed, ...). A type handled twice
 * is a start-up error, not a silent override. A type nobody handles is
 * acknowledged and ignored (logged at debug).
 */
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { defineJob, type JobContext } from "../../jobs/define.js";
import type { AccountLike } from "./connect-account.js";
import { fromUnixSeconds } from "./connect-account.js";
import { onboardingJobs, syncConnectedAccount } from "./onboarding.js";

export const STRIPE_EVENT = "stripe-event";

export function stripeEventJobId(eventId: string): string {
  return `stripe-event-${eventId}`;
}

/**
 * The job's payload: what the webhook recorded of the event. `object` is not
 * the event's whole data.object but its whitelisted facts
 * (STRIPE_EVENT_OBJECT_FIELDS in stripe-event-facts.ts): a handler that needs
 * another field must add it there.
 */
export const recordedStripeEvent = z.object({
  eventId: z.string().min(1),
  type: z.string().min(1),
  /** The connected account a Connect event is about (top-level `account`), or null for the platform's own. */
  account: z.string().nullable(),
  /** Unix seconds: when Stripe created the event, i.e. the time of the state it carries. */
  created: z.number().int().nonnegative(),
  object: z.record(z.string(), z.unknown()),
});
export type RecordedStripeEvent = z.output<typeof recordedStripeEvent>;

/** Handles one event type. Must be idempotent and order-safe; throwing retries the job with backoff. */
export type StripeEventHandler = (event: RecordedStripeEvent, context: JobContext) => Promise<void>;
/** Event type (e.g. "payout.paid") to its handler. */
export type StripeEventHandlers = Readonly<Record<string, StripeEventHandler>>;

type StripeEventDeps = Pick<Deps, "prisma" | "logger" | "stripe" | "clock" | "config" | "twilio">;

/** The built-in handlers: the connected account's state. */
export function accountEventHandlers(deps: Pick<Deps, "prisma" | "logger" | "stripe" | "clock">): StripeEventHandlers {
  return {
    /** The event's object is the account at `created`: applied unless a later state is. */
    "account.updated": async (event) => {
      const account = event.object as unknown as AccountLike;
      if (typeof account.id !== "string") throw new Error(`account.updated ${event.eventId} carries no account id`);
      const { outcome, expertId } = await syncConnectedAccount(deps, account, fromUnixSeconds(event.created));
      if (outcome === "unknown-account") deps.logger.debug({ eventId: event.eventId, accountId: account.id }, "account.updated for an account no expert holds; ignored");
      else if (outcome === "stale") deps.logger.debug({ eventId: event.eventId, expertId }, "account.updated older than the state applied; ignored");
    },
    /** A capability's object says little of payouts; the account itself is retrieved and applied as of now. */
    "capability.updated": async (event) => {
      const accountId = event.account ?? (typeof event.object.account === "string" ? event.object.account : null);
      if (!accountId) {
        deps.logger.debug({ eventId: event.eventId }, "capability.updated without an account; ignored");
        return;
      }
      const known = await deps.prisma.expert.count({ where: { stripeAccountId: accountId } });
      if (known === 0) {
        deps.logger.debug({ eventId: event.eventId, accountId }, "capability.updated for an account no expert holds; ignored");
        return;
      }
      const account = await deps.stripe.accounts.retrieve(accountId);
      await syncConnectedAccount(deps, account, deps.clock.now());
    },
  };
}

/** The table the job dispatches on: the built-in handlers plus `extra`, each type once. */
export function stripeEventHandlers(deps: Pick<Deps, "prisma" | "logger" | "stripe" | "clock">, extra: StripeEventHandlers = {}): Map<string, StripeEventHandler> {
  const table = new Map<string, StripeEventHandler>(Object.entries(accountEventHandlers(deps)));
  for (const [type, handler] of Object.entries(extra)) {
    if (table.has(type)) throw new Error(`Stripe event ${type} has two handlers`);
    table.set(type, handler);
  }
  return table;
}

export function stripeEventJob(deps: StripeEventDeps, extra: StripeEventHandlers = {}) {
  const table = stripeEventHandlers(deps, extra);
  return defineJob({
    name: STRIPE_EVENT,
    payload: recordedStripeEvent,
    async handle(event, context) {
      const handler = table.get(event.type);
      if (!handler) {
        deps.logger.debug({ eventId: event.eventId, type: event.type }, "Stripe event type not handled; acknowledged");
        return;
      }
      await handler(event, context);
    },
  });
}

/**
 * Every job of the payments queue that this side owns: the `stripe-event`
 * dispatcher (with the extra handlers) and the onboarding text.
 */
export function stripeEventJobs(deps: StripeEventDeps, extraHandlers: StripeEventHandlers = {}) {
  return [stripeEventJob(deps, extraHandlers), ...onboardingJobs(deps)];
}
