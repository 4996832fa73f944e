/**
 * Starts the Stripe sandbox as a server of its own, from plain options: the
 * entry points (src/dev.ts, src/sandbox.ts) read them from their config. The
 * sandbox knows nothing of the product beyond the app's address, where it
 * delivers events (`${appOrigin}/stripe/webhook`), and the secrets it is
 * given: the test-mode key the SDK presents and the webhook signing secret.
 */
import type { Logger } from "pino";
import { stripeSandboxRefusal } from "../production-guard.js";
import { systemClock, type Clock } from "./clock.js";
import { createStripeSandbox, type StripeSandbox } from "./server.js";
import type { StripeWebhookSender } from "./webhooks.js";

/** What a fresh development sandbox holds, so the walkthrough can pay: 1,000,000.00 USD. */
export const DEV_OPENING_BALANCE = { amount: 100_000_000, currency: "usd" } as const;

export interface StartStripeSandboxOptions {
  /** The platform's test-mode secret key (sk_test_...). */
  secretKey: string;
  /** Signs the events (the first of the app's STRIPE_WEBHOOK_SECRET list). */
  webhookSecret: string;
  /** Where the sandbox answers the API: the URL the app's Stripe client is pointed at (STRIPE_API_BASE_URL). Its port is the one listened on. */
  listenUrl: string;
  /** The interface to bind; defaults to the listen URL's host. */
  host?: string;
  /** Where browsers reach it (account links, the dashboard), when not at the listen URL (a container's name). */
  publicUrl?: string;
  /** The app's own address; events go to `${appOrigin}/stripe/webhook`. */
  appOrigin: string;
  /** Requests per second before 429 rate_limit. */
  rateLimitPerSecond?: number;
  /** The sandbox's own memory across restarts; in memory only when absent. */
  stateFile?: string;
  /** What a sandbox with no state yet starts with (default: DEV_OPENING_BALANCE; null: nothing). */
  openingBalance?: { amount: number; currency: string } | null;
  clock?: Clock;
  /** How events reach the app (default: real HTTP). */
  webhookSender?: StripeWebhookSender;
  logger?: Logger;
}

export async function startStripeSandbox(options: StartStripeSandboxOptions): Promise<StripeSandbox & { url: string; dashboardUrl: string }> {
  const url = options.listenUrl.replace(/\/+$/, "");
  const sandbox = await createStripeSandbox({
    secretKey: options.secretKey,
    clock: options.clock ?? systemClock,
    webhookSecret: options.webhookSecret,
    webhookUrl: `${options.appOrigin.replace(/\/+$/, "")}/stripe/webhook`,
    // Account links point browsers here, whatever interface the sandbox binds.
    publicBaseUrl: options.publicUrl ?? url,
    ...(options.webhookSender ? { webhookSender: options.webhookSender } : {}),
    ...(options.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: options.rateLimitPerSecond } : {}),
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const opening = options.openingBalance === undefined ? DEV_OPENING_BALANCE : options.openingBalance;
  if (opening && sandbox.state.isEmpty) sandbox.state.topUp(opening.amount, opening.currency);
  const where = new URL(options.listenUrl);
  const port = Number(where.port || (where.protocol === "https:" ? 443 : 80));
  try {
    await sandbox.app.listen({ port, host: options.host ?? where.hostname });
  } catch (error) {
    await sandbox.app.close();
    throw error;
  }
  return { ...sandbox, url, dashboardUrl: `${options.publicUrl ?? url}/sandbox/stripe` };
}

export interface StripeSandboxSettings {
  /** SANDBOX_ENABLED=true */
  sandboxEnabled: boolean;
  nodeEnv: string | undefined;
  /** STRIPE_API_BASE_URL: unset means real Stripe, and no sandbox. */
  apiBaseUrl: string | undefined;
  secretKey: string;
  /** STRIPE_WEBHOOK_SECRET's list: events are signed with the first. */
  webhookSecrets: readonly string[];
  stateFile?: string;
  rateLimitPerSecond?: number;
  appOrigin: string;
  host?: string;
  /** STRIPE_SANDBOX_PUBLIC_URL */
  publicUrl?: string | undefined;
  logger?: Logger;
  webhookSender?: StripeWebhookSender;
  openingBalance?: { amount: number; currency: string } | null;
}

/**
 * What the entry points call: starts the Stripe sandbox when the settings
 * ask for one (SANDBOX_ENABLED and STRIPE_API_BASE_URL set), and resolves to
 * undefined when the app talks to real Stripe. Throws the production guard's
 * one line when a sandbox must not run (production, or a key that is not
 * sk_test_).
 */
export async function startConfiguredStripeSandbox(settings: StripeSandboxSettings): Promise<Awaited<ReturnType<typeof startStripeSandbox>> | undefined> {
  if (!settings.sandboxEnabled || !settings.apiBaseUrl) return undefined;
  const refusal = stripeSandboxRefusal({ nodeEnv: settings.nodeEnv, stripeApiBaseUrl: settings.apiBaseUrl, stripeSecretKey: settings.secretKey });
  if (refusal) throw new Error(refusal);
  const webhookSecret = settings.webhookSecrets[0];
  if (!webhookSecret) throw new Error("sandbox: the Stripe sandbox needs STRIPE_WEBHOOK_SECRET to sign its events");
  return startStripeSandbox({
    secretKey: settings.secretKey,
    webhookSecret,
    listenUrl: settings.apiBaseUrl,
    appOrigin: settings.appOrigin,
    ...(settings.host ? { host: settings.host } : {}),
    ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
    ...(settings.stateFile ? { stateFile: settings.stateFile } : {}),
    ...(settings.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: settings.rateLimitPerSecond } : {}),
    ...(settings.logger ? { logger: settings.logger } : {}),
    ...(settings.webhookSender ? { webhookSender: settings.webhookSender } : {}),
    ...(settings.openingBalance !== undefined ? { openingBalance: settings.openingBalance } : {}),
  });
}
