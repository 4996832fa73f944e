/**
 * The worker process: runs queued jobs. Stateless; run as many as you like.
 * On SIGTERM it stops taking jobs, lets running ones finish, and exits.
 */
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";
import { startWorkers } from "./workers.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const starting = startWorkers(deps);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  deps.logger.info({ signal }, "worker shutting down: finishing running jobs");
  setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  try {
    await (await starting).close();
    await deps.close();
    await new Promise<void>((resolve) => deps.logger.flush(() => resolve())); // keep the last lines in order
    process.exit(0);
  } catch (error) {
    deps.logger.error({ err: error }, "error during worker shutdown");
    process.exit(1);
  }
};
// Before anything can take a while: a signal that arrives during start-up still shuts down cleanly.
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
await starting;
