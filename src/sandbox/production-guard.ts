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
