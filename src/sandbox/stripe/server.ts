/**
 * Stripe on your laptop: a stateful, in-memory server for the Stripe API v1
 * subset the project calls (Connect accounts, account links, balance,
 * transfers and reversals), answering as Stripe does so the official SDK can
 * be pointed at it (`new Stripe(key, { host, port, protocol: "http" })`).
 * Like the Twilio sandbox it imports nothing of the product.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { checkStripeRequest } from "./contract.js";
import { newId } from "./ids.js";
import { registerOnboardingPage } from "./onboarding-page.js";
import { registerStripeRest, type StripeContractCheck } from "./rest.js";
import { StripeSandboxState } from "./state.js";

export interface StripeSandboxOptions {
  /** The platform's secret key (`sk_test_...`) the SDK must present. */
  secretKey: string;
  clock: Clock;
  /** Signs webhook events (`whsec_...`); kept for the webhook sender, not yet built. */
  webhookSecret?: string;
  /** Requests per second before 429 rate_limit (unset: no limit; Stripe's sandbox mode allows 25). */
  rateLimitPerSecond?: number;
  /** Where browsers reach the sandbox, for account link URLs (default: the request's host). */
  publicBaseUrl?: string;
  /**
   * The official-spec check of every request (default: contract.ts's
   * checkStripeRequest over contracts/stripe/). Violations are refused with a
   * 400 and kept in state.contractViolations; parameters the 2023 spec lacks
   * are kept in state.contractUnknownParams only.
   */
  checkRequest?: StripeContractCheck;
  logger?: Logger;
}

export interface StripeSandbox {
  app: FastifyInstance;
  state: StripeSandboxState;
}

export async function createStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  if (!/^sk_test_/.test(options.secretKey)) throw new Error("the Stripe sandbox takes a test-mode secret key (sk_test_...)");
  const state = new StripeSandboxState(options.secretKey, options.clock);
  if (options.rateLimitPerSecond !== undefined) state.setRateLimit(options.rateLimitPerSecond);

  const logger: FastifyBaseLogger | undefined = options.logger;
  // Its own start-up and faults are logged; every simulated request would drown them.
  const app: FastifyInstance = Fastify(
    logger ? { loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) } : { logger: false },
  );
  // Every response carries a Request-Id, errors and pages included (fact sheet §4).
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("Request-Id", newId("req", 14));
  });
  await registerStripeRest(app, {
    state,
    ...(options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {}),
    checkRequest: options.checkRequest ?? checkStripeRequest,
  });
  await registerOnboardingPage(app, { state });
  return { app, state };
}
