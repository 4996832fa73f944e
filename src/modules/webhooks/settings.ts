import type { Config } from "../../config.js";
import type { AddressPolicy } from "./address-policy.js";

/**
 * Development and tests sign with this public key, so their secrets are
 * reproducible and worthless; production must set WEBHOOK_SIGNING_KEY
 * (config refuses to start without it).
 */
export const DEVELOPMENT_SIGNING_KEY = "expertline-development-webhook-signing-key-public";

export interface WebhookSettings extends AddressPolicy {
  signingKey: string;
  timeoutMs: number;
}

type WebhookConfig = Pick<Config, "NODE_ENV" | "WEBHOOK_SIGNING_KEY" | "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_ALLOW_LOOPBACK_URLS" | "WEBHOOK_ALLOW_PRIVATE_URLS">;

export function webhookSettings(config: WebhookConfig): WebhookSettings {
  // The old name still counts when the new one is unset; it now allows loopback too, nothing more (address-policy.ts).
  const allowLoopback = config.WEBHOOK_ALLOW_LOOPBACK_URLS ?? config.WEBHOOK_ALLOW_PRIVATE_URLS;
  return {
    signingKey: config.WEBHOOK_SIGNING_KEY ?? DEVELOPMENT_SIGNING_KEY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowLoopback: allowLoopback ? allowLoopback === "true" : config.NODE_ENV !== "production",
  };
}
