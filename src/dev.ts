/**
 * Development: the api, the workers and (with SANDBOX_ENABLED) the Twilio
 * sandbox in one process, plus the Stripe sandbox when STRIPE_API_BASE_URL
 * points at it with a test-mode key. `npm run dev` runs this under
 * `tsx watch`, so saving a file restarts everything; the sandboxes read their
 * numbers, messages and phones, accounts, transfers and balance back from
 * their own state files. Production runs api and workers as separate
 * processes, and never a sandbox.
 */
import { existsSync, readFileSync } from "node:fs";
import { buildApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { sandboxRefusal } from "./sandbox/production-guard.js";
import type { StripeSandbox } from "./sandbox/stripe/server.js";
import { startConfiguredStripeSandbox } from "./sandbox/stripe/start.js";
import type { TwilioSandbox } from "./sandbox/twilio/server.js";
import { startTwilioSandbox } from "./sandbox/twilio/start.js";
import { createNumberService } from "./modules/telephony/numbers.js";
import { startWorkers } from "./workers.js";

const config = loadConfigOrExit();
const refusal = config.SANDBOX_ENABLED === "true" ? sandboxRefusal({ nodeEnv: config.NODE_ENV, twilioApiBaseUrl: config.TWILIO_API_BASE_URL }) : null;
if (refusal) {
  console.error(refusal);
  process.exit(1);
}
const deps = createDeps(config);
const appOrigin = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${config.PORT}`;

let sandbox: TwilioSandbox | undefined;
let stripeSandbox: (StripeSandbox & { dashboardUrl: string }) | undefined;
if (config.SANDBOX_ENABLED === "true") {
  try {
    if (!config.TWILIO_API_BASE_URL) {
      throw new Error("config: the sandbox needs TWILIO_API_BASE_URL (where it listens, e.g. http://127.0.0.1:3001)");
    }
    sandbox = await startTwilioSandbox({
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      listenUrl: config.TWILIO_API_BASE_URL,
      appOrigin,
      stateFile: config.SANDBOX_STATE_FILE,
      logger: deps.logger.child({ component: "twilio-sandbox" }),
    });
    // Only with STRIPE_API_BASE_URL set (unset, the app talks to real Stripe) and an sk_test_ key.
    stripeSandbox = await startConfiguredStripeSandbox({
      sandboxEnabled: true,
      nodeEnv: config.NODE_ENV,
      apiBaseUrl: config.STRIPE_API_BASE_URL,
      secretKey: config.STRIPE_SECRET_KEY,
      webhookSecrets: config.STRIPE_WEBHOOK_SECRET,
      stateFile: config.STRIPE_SANDBOX_STATE_FILE,
      rateLimitPerSecond: config.STRIPE_SANDBOX_RATE_LIMIT,
      publicUrl: config.STRIPE_SANDBOX_PUBLIC_URL,
      appOrigin,
      logger: deps.logger.child({ component: "stripe-sandbox" }),
    });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
const app = await buildApp(deps);
const workers = await startWorkers(deps);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  await app.close();
  await sandbox?.app.close();
  await stripeSandbox?.app.close();
  await workers.close();
  await deps.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

await app.listen({ port: config.PORT, host: config.HOST });

const demo = existsSync(".expertline/demo-shop.json")
  ? (JSON.parse(readFileSync(".expertline/demo-shop.json", "utf8")) as { shopId: string; apiKey: string })
  : null;
// The demo shop's expert line, bought from the sandbox now rather than on first need, so the
// banner can say which number a customer texts (the README's walkthrough starts there).
const line = demo && sandbox ? await createNumberService(deps).ensureExpertLine(demo.shopId).catch(() => null) : null;
// A .env written before the Stripe sandbox existed has no STRIPE_API_BASE_URL: say so, rather than let payouts fail against real Stripe.
const realStripeNote =
  config.STRIPE_SECRET_KEY === "sk_test_sandbox"
  ? "(real Stripe, with the placeholder key: set STRIPE_API_BASE_URL=http://127.0.0.1:3002 in .env for the sandbox, as .env.example has it)"
  : "(real Stripe)";
const base = `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
console.log(`
  expertline is running (api + workers)

  API          ${base}
  Docs         ${base}/docs
  Health       ${base}/readyz
  Phones       ${sandbox ? `${config.TWILIO_API_BASE_URL}/sandbox   (the Twilio sandbox: simulated phones)` : "(real Twilio)"}
  Stripe       ${stripeSandbox ? `${stripeSandbox.dashboardUrl}   (the Stripe sandbox: balance, accounts, transfers, payouts)` : realStripeNote}
  Admin key    ${config.ADMIN_API_KEY}   (from .env)
  Demo shop    ${demo ? demo.apiKey : "(run npm run db:seed)"}${line ? `\n  Expert line  ${line.e164}   (text it from a phone on the sandbox page to ask a question)` : ""}

  Try:  curl -H "Authorization: Bearer ${demo?.apiKey ?? "<shop key>"}" ${base}/v1/pools
`);
