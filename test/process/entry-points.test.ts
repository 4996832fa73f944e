/**
 * The real entry points as separate processes: config errors stop start-up
 * with one line, and SIGTERM shuts down cleanly.
 */
import { describe, expect, it } from "vitest";
import { entryPointEnv, loggedInOrder, startEntryPoint } from "../helpers/processes.js";

const env = entryPointEnv();

describe("entry points", () => {
  it("a missing variable stops the api with one line naming it", async () => {
    const { DATABASE_URL: _missing, ...rest } = env;
    const api = startEntryPoint("src/server.ts", rest);
    expect(await api.exit).toBe(1);
    expect(api.stderr).toEqual(["config: DATABASE_URL is not set (see .env.example)"]);
  });

  it("a malformed variable stops the worker with one line naming it", async () => {
    const worker = startEntryPoint("src/worker.ts", entryPointEnv({ REDIS_URL: "http://nope" }));
    expect(await worker.exit).toBe(1);
    expect(worker.stderr).toEqual(["config: REDIS_URL must be a redis:// URL (see .env.example)"]);
  });

  it("the api serves, then stops cleanly on SIGTERM", async () => {
    const api = startEntryPoint("src/server.ts", env);
    const listening = await api.waitFor(/Server listening at/);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(listening)?.[0];
    expect(url).toBeDefined();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    api.kill("SIGTERM");
    expect(await api.exit).toBe(0);
    // By the lines' own clocks: the order two lines come out of the pipe in is not always the order they were logged.
    expect(loggedInOrder(api.stdout, /^shutting down/, /^stopped cleanly$/)).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it("the worker starts, then stops cleanly on SIGTERM", async () => {
    const worker = startEntryPoint("src/worker.ts", env);
    await worker.waitFor(/workers started/);
    worker.kill("SIGTERM");
    expect(await worker.exit).toBe(0);
  });
});
