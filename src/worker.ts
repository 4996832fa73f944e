/**
 * The worker process: runs queued jobs. Stateless; run as many as you like.
 * On SIGTERM it stops taking jobs, lets running ones finish, and exits.
 */
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { startWorkers } from "./workers.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const running = await startWorkers(deps);
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  deps.logger.info({ signal }, "worker shutting down: finishing running jobs");
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  await running.close();
  await deps.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
