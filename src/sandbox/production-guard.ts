/**
 * The sandboxes fake a provider: no authentication of their own beyond the
 * account credentials, and they sign webhooks with the app's real secret, so
 * anyone who reaches one can pose as a customer or an expert. They must never
 * run in production; the entry points ask here first and exit when refused.
 */

/** The one line to print when the sandbox must not start, or null when it may. */
export function sandboxRefusal(nodeEnv: string | undefined): string | null {
  if (nodeEnv !== "production") return null;
  return "sandbox: refusing to start with NODE_ENV=production (it fakes Twilio and signs webhooks with the app's token); use real Twilio, or set NODE_ENV=development";
}
