import { describe, expect, it } from "vitest";
import { classifyStripeError, stripeFailureReason } from "./stripe-outcome.js";

describe("classifyStripeError", () => {
  it.each([
    [{ type: "StripeRateLimitError", statusCode: 429, code: "rate_limit" }, "rate_limited"],
    [{ type: "StripeRateLimitError" }, "rate_limited"],
    [{ statusCode: 429 }, "rate_limited"],
    [{ type: "StripeInvalidRequestError", statusCode: 400, code: "rate_limit" }, "rate_limited"],
    [{ type: "StripeAPIError", statusCode: 429, code: "lock_timeout" }, "rate_limited"],
    [{ code: "lock_timeout" }, "rate_limited"],
    [{ type: "StripeAuthenticationError", statusCode: 401 }, "broken"],
    [{ type: "StripeAuthenticationError" }, "broken"],
    [{ type: "StripePermissionError" }, "broken"],
    [{ statusCode: 401 }, "broken"],
    [{ statusCode: 403 }, "broken"],
    [{ type: "StripeAPIError", statusCode: 409, code: "idempotency_key_in_use" }, "in_use"],
    [{ code: "idempotency_key_in_use" }, "in_use"],
    [{ statusCode: 409 }, "in_use"],
    [{ type: "StripeInvalidRequestError", statusCode: 400, code: "balance_insufficient" }, "refused"],
    [{ type: "StripeIdempotencyError", statusCode: 400 }, "refused"],
    [{ type: "StripeInvalidRequestError", statusCode: 404, code: "resource_missing" }, "refused"],
    [{ statusCode: 402 }, "refused"],
    [{ statusCode: 499 }, "refused"],
    [{ statusCode: 500 }, "unknown"],
    [{ statusCode: 503 }, "unknown"],
    [{ statusCode: 399 }, "unknown"],
    [{ type: "StripeConnectionError" }, "unknown"],
    [{ statusCode: "400" }, "unknown"],
    [new Error("socket hang up"), "unknown"],
    [null, "unknown"],
    ["boom", "unknown"],
  ] as const)("%j is %s", (error, outcome) => {
    expect(classifyStripeError(error)).toBe(outcome);
  });
});

describe("stripeFailureReason", () => {
  it("names the code and Stripe's message", () => {
    expect(stripeFailureReason({ code: "balance_insufficient", message: "You have insufficient funds in your Stripe account." })).toBe(
      "balance_insufficient: You have insufficient funds in your Stripe account.",
    );
  });

  it("falls back to the status, then to a plain label, and flattens and clips the message", () => {
    expect(stripeFailureReason({ statusCode: 500, message: "  An   error\n occurred " })).toBe("http_500: An error occurred");
    expect(stripeFailureReason({ code: "", statusCode: 502 })).toBe("http_502");
    expect(stripeFailureReason({})).toBe("stripe_error");
    expect(stripeFailureReason(undefined)).toBe("stripe_error");
    expect(stripeFailureReason({ code: "x", message: "y".repeat(400) })).toBe(`x: ${"y".repeat(300)}`);
    expect(stripeFailureReason({ code: "x", message: 42 })).toBe("x");
  });
});
