/**
 * Development: the api, the workers and (with SANDBOX_ENABLED) the Twilio
 * sandbox in one process. `npm run dev` runs this under `tsx watch`, so
 * saving a file restarts everything (the sandbox's phones start empty
 * again). Production runs api and workers as separate processes.
 */
import { existsSync, readFileSync } from "node:fs";
import { buildApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { startSandboxForApp } from "./sandbox/twilio/for-app.js";
import type { TwilioSandbox } from "./sandbox/twilio/server.js";
import { startWorkers } from "./workers.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const appOrigin = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${config.PORT}`;

let sandbox: TwilioSandbox | undefined;
if (config.SANDBOX_ENABLED === "true") {
  try {
    sandbox = await startSandboxForApp(deps, { appOrigin, host: new URL(config.TWILIO_API_BASE_URL ?? appOrigin).hostname });
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
  await workers.close();
  await deps.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

await app.listen({ port: config.PORT, host: config.HOST });

const demo = existsSync(".expertline/demo-shop.json")
  ? (JSON.parse(readFileSync(".expertline/demo-shop.json", "utf8")) as { apiKey: string })
  : null;
const base = `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`;
console.log(`
  expertline is running (api + workers)

  API          ${base}
  Docs         ${base}/docs
  Health       ${base}/readyz
  Phones       ${sandbox ? `${config.TWILIO_API_BASE_URL}/sandbox   (the Twilio sandbox: simulated phones)` : "(real Twilio)"}
  Admin key    ${config.ADMIN_API_KEY}   (from .env)
  Demo shop    ${demo ? demo.apiKey : "(run npm run db:seed)"}

  Try:  curl -H "Authorization: Bearer ${demo?.apiKey ?? "<shop key>"}" ${base}/v1/pools
`);
