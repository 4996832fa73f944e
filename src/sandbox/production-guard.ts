/**
 * The sandboxes fake a provider: no authentication of their own beyond the
 * account credentials, and they sign webhooks with the auth token they are
 * given, so anyone who reaches one can pose as a customer or an expert. The
 * entry points ask here first and exit when refused.
 *
 * Two refusals:
 * - NODE_ENV=production: a production deployment of the image never runs one;
 * - no TWILIO_API_BASE_URL: the configuration the sandbox shares with the app
 *   (docker compose's x-env) then points the app at real Twilio, so the auth
 *   token in it is a real one, which a sandbox must never hold. Whether a token
 *   "looks like" a sandbox's cannot be told apart from a real one, so the
 *   app's own switch to real Twilio is what is checked.
 *
 * The Stripe sandbox has the same two refusals (production; no
 * STRIPE_API_BASE_URL, which means real Stripe), and a third: its key must be
 * a test-mode secret key (sk_test_). A live key pointed at the sandbox would
 * also be sent there by the app, and the sandbox must never hold one.
 */

export interface SandboxEnvironment {
  nodeEnv: string | undefined;
  /** The app's pointer at the sandbox (and where the sandbox listens); unset means real Twilio. */
  twilioApiBaseUrl: string | undefined;
}

/** The one line to print when the sandbox must not start, or null when it may. */
export function sandboxRefusal(environment: SandboxEnvironment): string | null {
  if (environment.nodeEnv === "production") {
    return "sandbox: refusing to start with NODE_ENV=production (it fakes Twilio and signs webhooks with the app's token); production uses real Twilio, without the sandbox";
  }
  if (!environment.twilioApiBaseUrl) {
    return "sandbox: refusing to start without TWILIO_API_BASE_URL (unset, the app talks to real Twilio, so the auth token is a real one, and the sandbox would sign webhooks with it for anyone who reaches it); point TWILIO_API_BASE_URL at the sandbox, e.g. http://127.0.0.1:3001, or do not start the sandbox";
  }
  return null;
}

export interface StripeSandboxEnvironment {
  nodeEnv: string | undefined;
  /** The app's pointer at the Stripe sandbox (and where it listens); unset means real Stripe. */
  stripeApiBaseUrl: string | undefined;
  /** The platform's secret key the sandbox would accept; only sk_test_ keys may go there. */
  stripeSecretKey: string;
}

/** The one line to print when the Stripe sandbox must not start, or null when it may. */
export function stripeSandboxRefusal(environment: StripeSandboxEnvironment): string | null {
  if (environment.nodeEnv === "production") {
    return "sandbox: refusing to start the Stripe sandbox with NODE_ENV=production (it fakes Stripe and signs events with the app's webhook secret); production uses real Stripe, without the sandbox";
  }
  if (!environment.stripeApiBaseUrl) {
    return "sandbox: refusing to start the Stripe sandbox without STRIPE_API_BASE_URL (unset, the app talks to real Stripe); point STRIPE_API_BASE_URL at the sandbox, e.g. http://127.0.0.1:3002, or do not start it";
  }
  if (!environment.stripeSecretKey.startsWith("sk_test_")) {
    return "sandbox: refusing to start the Stripe sandbox with a STRIPE_SECRET_KEY that is not a test-mode secret key (sk_test_...); a live or restricted key must never reach a sandbox";
  }
  return null;
}
