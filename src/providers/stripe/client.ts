/**
 * The one Stripe client, built from config. With STRIPE_API_BASE_URL set
 * (the sandbox, or a test server) the SDK talks to that origin instead of
 * api.stripe.com; paths, headers (Idempotency-Key, Stripe-Account,
 * Stripe-Version) and bodies stay exactly what the SDK sends.
 */
import Stripe from "stripe";
import type { Config } from "../../config.js";

export type StripeClient = Stripe;

/**
 * The SDK retries connection errors, 409s, 5xx and 429s that say
 * `Stripe-Should-Retry: true`, with the same Idempotency-Key; everything else
 * (a plain 429 included) comes back to the job, whose backoff retries it.
 */
export const STRIPE_NETWORK_RETRIES = 2;

export function createStripeClient(config: Pick<Config, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE_URL">): StripeClient {
  const base = config.STRIPE_API_BASE_URL ? new URL(config.STRIPE_API_BASE_URL) : null;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: STRIPE_NETWORK_RETRIES,
    timeout: 20_000,
    appInfo: { name: "expertline" },
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
          protocol: base.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}
