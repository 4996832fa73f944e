/**
 * Stripe's error body (fact sheet §4): `{ error: { type, code?, message,
 * param?, doc_url? } }`. Messages quoted from Stripe's docs are marked in
 * the fact sheet; the others here are recalled from Stripe's API and marked
 * UNCONFIRMED where they are raised.
 */
export type StripeErrorType = "api_error" | "card_error" | "idempotency_error" | "invalid_request_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Extra response headers (Stripe-Should-Retry ...). */
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }

  toJSON() {
    return { error: this.body };
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

export function invalidRequest(message: string, extra: { code?: string; param?: string; status?: number } = {}): StripeApiError {
  const body: StripeErrorBody = { type: "invalid_request_error", message };
  if (extra.code) {
    body.code = extra.code;
    body.doc_url = docUrl(extra.code);
  }
  if (extra.param) body.param = extra.param;
  return new StripeApiError(extra.status ?? 400, body);
}

export function resourceMissing(kind: string, id: string, param: string): StripeApiError {
  // "No such transfer: 'tr_...'" (UNCONFIRMED wording, recalled from the API)
  return invalidRequest(`No such ${kind}: '${id}'`, { code: "resource_missing", param, status: 404 });
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, { code: "parameter_missing", param });
}

export function unknownParam(param: string): StripeApiError {
  return invalidRequest(`Received unknown parameter: ${param}`, { code: "parameter_unknown", param });
}

export function apiError(message = "An unknown error occurred"): StripeApiError {
  // 500s ask the SDK not to retry (stripe-node expects `false` on most 500s, RequestSender._shouldRetry).
  return new StripeApiError(500, { type: "api_error", message }, { "Stripe-Should-Retry": "false" });
}
