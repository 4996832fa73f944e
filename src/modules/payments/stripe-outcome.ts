/**
 * What a failed Stripe call means for a money-moving job. Pure: it reads
 * the fields stripe-node puts on its errors (`type`, `statusCode`, `code`,
 * `headers`), so tests need no SDK.
 *
 * - `rate_limited`: a 429 (`rate_limit`, or `lock_timeout` on a contended
 *   object). Nothing happened; wait and run again without using an attempt.
 * - `in_use`: the same Idempotency-Key is still running elsewhere (409).
 *   Nothing new will happen under this key; run again shortly.
 * - `refused`: Stripe answered a 4xx after looking at the request
 *   (`balance_insufficient`, an account that cannot receive transfers, a
 *   bad parameter). Nothing was created, and Stripe saved this answer under
 *   the key, so a retry with the same key gets it again: a new attempt needs
 *   a new key, and a person should look first.
 * - `unknown`: a 5xx, a timeout or a dropped connection. The object may or
 *   may not exist (a 500 is saved and replayed under its key too), so look
 *   it up before trying again under a new key.
 * - `broken`: our side is wrong (a bad API key, a permission). Retrying
 *   cannot help; an operator must fix the configuration.
 */
export type StripeOutcome = "rate_limited" | "in_use" | "refused" | "unknown" | "broken";

export interface StripeErrorLike {
  type?: unknown;
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

export function classifyStripeError(error: unknown): StripeOutcome {
  const { type, statusCode, code } = (typeof error === "object" && error !== null ? error : {}) as StripeErrorLike;
  if (type === "StripeRateLimitError" || statusCode === 429 || code === "rate_limit" || code === "lock_timeout") return "rate_limited";
  if (type === "StripeAuthenticationError" || type === "StripePermissionError" || statusCode === 401 || statusCode === 403) return "broken";
  if (statusCode === 409 || code === "idempotency_key_in_use") return "in_use";
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) return "refused";
  return "unknown";
}

/** A short reason for people (the admin's payout view): the code and Stripe's message, no request details. */
export function stripeFailureReason(error: unknown): string {
  const { code, message, statusCode } = (typeof error === "object" && error !== null ? error : {}) as StripeErrorLike;
  const label = typeof code === "string" && code !== "" ? code : typeof statusCode === "number" ? `http_${statusCode}` : "stripe_error";
  const text = typeof message === "string" ? message.replace(/\s+/g, " ").trim().slice(0, 300) : "";
  return text ? `${label}: ${text}` : label;
}
