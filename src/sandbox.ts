/**
 * The Twilio sandbox as its own process, for setups where the api runs
 * elsewhere (docker compose), and the Stripe sandbox beside it when
 * STRIPE_API_BASE_URL is set (with an sk_test_ key). Development runs them
 * inside `npm run dev`. They need no database: they keep their own state in
 * SANDBOX_STATE_FILE and STRIPE_SANDBOX_STATE_FILE.
 */
import { loadConfigOrExit } from "./config.js";
import { createLogger } from "./lib/logger.js";
import { sandboxRefusal } from "./sandbox/production-guard.js";
import { startConfiguredStripeSandbox } from "./sandbox/stripe/start.js";
import { startTwilioSandbox } from "./sandbox/twilio/start.js";

const config = loadConfigOrExit();
const listenUrl = config.TWILIO_API_BASE_URL;
const refusal = sandboxRefusal({ nodeEnv: config.NODE_ENV, twilioApiBaseUrl: listenUrl });
if (refusal !== null || listenUrl === undefined) {
  console.error(refusal ?? "sandbox: TWILIO_API_BASE_URL is not set");
  process.exit(1);
}

const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.NODE_ENV === "development" });
const sandbox = await startTwilioSandbox({
  accountSid: config.TWILIO_ACCOUNT_SID,
  authToken: config.TWILIO_AUTH_TOKEN,
  listenUrl,
  host: config.SANDBOX_HOST,
  appOrigin: config.SANDBOX_APP_ORIGIN ?? `http://127.0.0.1:${config.PORT}`,
  stateFile: config.SANDBOX_STATE_FILE,
  logger,
});
logger.info({ url: `${sandbox.url}/sandbox` }, "Twilio sandbox listening");
let stripeSandbox: Awaited<ReturnType<typeof startConfiguredStripeSandbox>>;
try {
  stripeSandbox = await startConfiguredStripeSandbox({
    sandboxEnabled: true,
    nodeEnv: config.NODE_ENV,
    apiBaseUrl: config.STRIPE_API_BASE_URL,
    secretKey: config.STRIPE_SECRET_KEY,
    webhookSecrets: config.STRIPE_WEBHOOK_SECRET,
    stateFile: config.STRIPE_SANDBOX_STATE_FILE,
    rateLimitPerSecond: config.STRIPE_SANDBOX_RATE_LIMIT,
    publicUrl: config.STRIPE_SANDBOX_PUBLIC_URL,
    appOrigin: config.SANDBOX_APP_ORIGIN ?? `http://127.0.0.1:${config.PORT}`,
    ...(config.SANDBOX_HOST ? { host: config.SANDBOX_HOST } : {}),
    logger: logger.child({ component: "stripe-sandbox" }),
  });
} catch (error) {
  console.error((error as Error).message);
  await sandbox.app.close();
  process.exit(1);
}
if (stripeSandbox) logger.info({ url: stripeSandbox.dashboardUrl }, "Stripe sandbox listening");
const stop = async () => {
  await sandbox.app.close();
  await stripeSandbox?.app.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
