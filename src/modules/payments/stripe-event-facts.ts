/**
 * What of a Stripe event's `data.object` we keep. Pure.
 *
 * The webhook stores the event in an outbox row and a BullMQ job; an
 * `account.updated` object carries the account's email, phones, addresses,
 * the person's details and `external_accounts` (bank accounts), none of which
 * any handler reads. So only the fields the handlers read are kept (a
 * whitelist: a field Stripe adds tomorrow is left out until a handler needs
 * it and it is named here):
 * - the account handlers (connect-account.ts: payouts_enabled,
 *   details_submitted, requirements, metadata.expertId; capability.updated:
 *   account);
 * - the settlement handlers (payout-settlement.ts: id, amount_reversed,
 *   created, currency, failure_code, failure_message);
 * - a few plain facts useful to read a stored event by (object, status, ...).
 *
 * A field named `true` keeps a primitive or an array of primitives, never an
 * object (a field that is expanded, or changes shape, cannot smuggle
 * anything in); a nested shape keeps only its own fields, or a null.
 */

/** `true`: a primitive (or array of primitives); an object: those fields of an object; `[fields]`: an array of such objects. */
export type FactShape = true | FactFields | readonly [FactFields];
export interface FactFields {
  readonly [field: string]: FactShape;
}

/** The fields of `data.object` that are stored, and so the only ones a handler can read. */
export const STRIPE_EVENT_OBJECT_FIELDS = {
  id: true,
  object: true,
  account: true,
  created: true,
  currency: true,
  amount: true,
  amount_reversed: true,
  status: true,
  automatic: true,
  failure_code: true,
  failure_message: true,
  payouts_enabled: true,
  charges_enabled: true,
  details_submitted: true,
  type: true,
  capabilities: { transfers: true },
  requirements: {
    currently_due: true,
    past_due: true,
    eventually_due: true,
    pending_verification: true,
    disabled_reason: true,
    current_deadline: true,
    errors: [{ code: true, requirement: true }],
  },
  metadata: { expertId: true, payoutId: true, refundId: true },
} as const satisfies FactFields;

type Primitive = string | number | boolean | null;

function isPrimitive(value: unknown): value is Primitive {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value as the shape allows it, or undefined (left out). */
function pick(value: unknown, shape: FactShape): unknown {
  if (shape === true) {
    if (isPrimitive(value)) return value;
    return Array.isArray(value) && value.every(isPrimitive) ? [...value] : undefined;
  }
  if (value === null) return null;
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return undefined;
    const [fields] = shape as readonly [FactFields];
    return value.filter(isRecord).map((each) => pickFields(each, fields));
  }
  return isRecord(value) ? pickFields(value, shape as FactFields) : undefined;
}

function pickFields(value: Record<string, unknown>, shape: FactFields): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [field, fieldShape] of Object.entries(shape)) {
    if (!Object.hasOwn(value, field)) continue;
    const picked = pick(value[field], fieldShape);
    if (picked !== undefined) kept[field] = picked;
  }
  return kept;
}

/** The whitelisted fields of an event's `data.object` (a new object; the input is not changed). */
export function stripeEventFacts(object: Record<string, unknown>): Record<string, unknown> {
  return pickFields(object, STRIPE_EVENT_OBJECT_FIELDS);
}
