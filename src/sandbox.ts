/**
 * The Twilio sandbox as its own process, for setups where the api runs
 * elsewhere (docker compose). Development runs it inside `npm run dev`.
 */
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { startSandboxForApp } from "./sandbox/twilio/for-app.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const sandbox = await startSandboxForApp(deps, {
  appOrigin: config.SANDBOX_APP_ORIGIN ?? `http://127.0.0.1:${config.PORT}`,
  host: config.HOST,
});
deps.logger.info({ url: `${sandbox.url}/sandbox` }, "Twilio sandbox listening");
const stop = async () => {
  await sandbox.app.close();
  await deps.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
