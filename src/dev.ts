/**
 * Development: the api and the workers in one process (`npm run dev` runs
 * this under `tsx watch`, so saving a file restarts both). Production runs
 * them as separate processes (dist/server.js, dist/worker.js).
 */
import { existsSync, readFileSync } from "node:fs";
import { buildApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { startWorkers } from "./workers.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const app = await buildApp(deps);
const workers = await startWorkers(deps);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  await app.close();
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
  Admin key    ${config.ADMIN_API_KEY}   (from .env)
  Demo shop    ${demo ? demo.apiKey : "(run npm run db:seed)"}

  Try:  curl -H "Authorization: Bearer ${demo?.apiKey ?? "<shop key>"}" ${base}/v1/pools
`);
