/**
 * Stripe on your laptop: a stateful server for the Stripe API v1 subset the
 * project calls (Connect accounts, account links, balance, transfers and
 * reversals, payouts on connected accounts), answering as Stripe does so the
 * official SDK can be pointed at it (`new Stripe(key, { host, port,
 * protocol: "http" })`), with a dashboard page (GET /sandbox/stripe) and the
 * hosted-onboarding stand-in. With a state file its world outlives a restart;
 * without one (tests) it lives in memory. Like the Twilio sandbox it imports
 * nothing of the product.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { checkStripeRequest } from "./contract.js";
import { newId } from "./ids.js";
import { registerDashboardPage } from "./dashboard-page.js";
import { registerOnboardingPage } from "./onboarding-page.js";
import { registerStripeRest, type StripeContractCheck } from "./rest.js";
import { StripeSandboxState } from "./state.js";
import { readStripeStateFile, StripeStateFileWriter } from "./state-file.js";
import { httpStripeSender, type StripeWebhookSender } from "./webhooks.js";

export interface StripeSandboxOptions {
  /** The platform's secret key (`sk_test_...`) the SDK must present. */
  secretKey: string;
  clock: Clock;
  /** Signs webhook events (`whsec_...`); with `webhookUrl`, every event is POSTed there. */
  webhookSecret?: string;
  /** The app's Stripe webhook endpoint (one endpoint gets both account and Connect events here). */
  webhookUrl?: string;
  /** How events reach the app (default: real HTTP; tests may inject). */
  webhookSender?: StripeWebhookSender;
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
  /** Where the sandbox keeps its own state across restarts (e.g. .expertline/sandbox/stripe-state.json). */
  stateFile?: string;
  logger?: Logger;
}

export interface StripeSandbox {
  app: FastifyInstance;
  state: StripeSandboxState;
  /** Resolves when every webhook delivery in flight has an answer. */
  idle(): Promise<void>;
}

export async function createStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  if (!/^sk_test_/.test(options.secretKey)) throw new Error("the Stripe sandbox takes a test-mode secret key (sk_test_...)");
  if ((options.webhookUrl === undefined) !== (options.webhookSecret === undefined)) {
    throw new Error("the Stripe sandbox needs both webhookUrl and webhookSecret to send events, or neither");
  }
  const webhook =
    options.webhookUrl && options.webhookSecret
      ? { url: options.webhookUrl, secret: options.webhookSecret, sender: options.webhookSender ?? httpStripeSender() }
      : undefined;
  const state = new StripeSandboxState(options.secretKey, options.clock, webhook);
  let writer: StripeStateFileWriter | undefined;
  if (options.stateFile) {
    const saved = readStripeStateFile(options.stateFile);
    if (saved) state.restore(saved);
    writer = new StripeStateFileWriter(options.stateFile, () => state.snapshot(), (error) => {
      state.log("state-file-error", { message: error.message });
      options.logger?.error({ err: error }, "the Stripe sandbox could not save its state");
    });
    const saving = writer;
    state.onChange = () => saving.requestSave();
  }
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
  await registerDashboardPage(app, { state, sending: webhook !== undefined });
  // Deliveries in flight have their answer, and whatever changed last is on disk, before close() resolves.
  app.addHook("onClose", async () => {
    await state.eventLog.idle();
    await writer?.flush();
  });
  return { app, state, idle: () => state.eventLog.idle() };
}
