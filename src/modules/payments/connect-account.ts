/**
 * A Stripe connected account, as our Expert row keeps it. Pure: an Account
 * object (retrieved, or the data.object of an `account.updated`) in, our
 * columns out, and the one time scale states are compared on (the rule
 * itself is a conditional UPDATE in onboarding.ts: syncConnectedAccount).
 *
 * Time. Stripe stamps events in whole seconds (`event.created`). A state we
 * retrieved ourselves is stamped with our clock, floored to the second, so
 * the two compare on one scale: a retrieve at 10:00:00.700 and an event of
 * the same second are "the same time", and the later-arriving one is applied.
 * A state from an earlier second never overwrites a later one: an old
 * `account.updated` delivered late (no ordering guarantee) is dropped.
 */

/** The fields of a Stripe Account we read (fact sheet §1); everything else is ignored. */
export interface AccountLike {
  id: string;
  payouts_enabled?: boolean | null;
  details_submitted?: boolean | null;
  requirements?: {
    currently_due?: readonly string[] | null;
    past_due?: readonly string[] | null;
    disabled_reason?: string | null;
  } | null;
  metadata?: Record<string, string> | null;
}

export interface ConnectedAccountState {
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  /** requirements.disabled_reason: why payouts (or the account) are off, or null. */
  disabledReason: string | null;
  /** What Stripe still needs now: currently_due and past_due, each once, in Stripe's order. */
  requirementsDue: string[];
}

/** Our columns for an account's state. A missing field is the safe value (not enabled, nothing known). */
export function accountState(account: AccountLike): ConnectedAccountState {
  const requirements = account.requirements ?? {};
  const due = [...(requirements.currently_due ?? []), ...(requirements.past_due ?? [])];
  return {
    payoutsEnabled: account.payouts_enabled === true,
    detailsSubmitted: account.details_submitted === true,
    disabledReason: requirements.disabled_reason ?? null,
    requirementsDue: [...new Set(due)],
  };
}

/** A Date floored to Stripe's whole seconds. */
export function stateTime(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

/** `event.created` (unix seconds) as a Date. */
export function fromUnixSeconds(seconds: number): Date {
  return new Date(seconds * 1000);
}

/** The expert id we put in the account's metadata when we created it, if any. */
export function expertIdOf(account: AccountLike): string | null {
  const id = account.metadata?.expertId;
  return typeof id === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : null;
}

