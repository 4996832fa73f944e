import type { Config } from "../../config.js";

/**
 * Development and tests sign with this public key, so their secrets are
 * reproducible and worthless; production must set WEBHOOK_SIGNING_KEY
 * (config refuses to start without it).
 */
export const DEVELOPMENT_SIGNING_KEY = "expertline-development-webhook-signing-key-public";

export interface WebhookSettings {
  signingKey: string;
  timeoutMs: number;
  /** http:// and loopback/private addresses allowed (development, tests); never by default in production. */
  allowPrivate: boolean;
}

export function webhookSettings(config: Pick<Config, "NODE_ENV" | "WEBHOOK_SIGNING_KEY" | "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_ALLOW_PRIVATE_URLS">): WebhookSettings {
  return {
    signingKey: config.WEBHOOK_SIGNING_KEY ?? DEVELOPMENT_SIGNING_KEY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS ? config.WEBHOOK_ALLOW_PRIVATE_URLS === "true" : config.NODE_ENV !== "production",
  };
}
