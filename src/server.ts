/**
 * The api process: listens, and on SIGTERM/SIGINT stops accepting, lets
 * in-flight requests finish, then closes PostgreSQL and Redis. A second
 * signal, or the shutdown timeout, exits at once.
 */
import { buildApp } from "./app.js";
import { loadConfigOrExit } from "./config.js";
import { createDeps } from "./deps.js";

const config = loadConfigOrExit();
const deps = createDeps(config);
const app = await buildApp(deps);

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) {
    deps.logger.warn({ signal }, "second signal: exiting now");
    process.exit(1);
  }
  shuttingDown = true;
  deps.logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  const timer = setTimeout(() => {
    deps.logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown timed out; exiting");
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  try {
    await app.close();
    await deps.close();
    deps.logger.info("stopped cleanly");
    // Lines still being written asynchronously would otherwise come out after the ones
    // process.exit flushes synchronously, out of order.
    await new Promise<void>((resolve) => deps.logger.flush(() => resolve()));
    process.exit(0);
  } catch (error) {
    deps.logger.error({ err: error }, "error during shutdown");
    process.exit(1);
  }
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

try {
  await app.listen({ port: config.PORT, host: config.HOST });
} catch (error) {
  deps.logger.fatal({ err: error }, "could not start the api");
  await deps.close();
  process.exit(1);
}
