/**
 * The real entry points as separate processes: config errors stop start-up
 * with one line, and SIGTERM shuts down cleanly.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { testConfig } from "../helpers/config.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
// node with tsx's loader, not the tsx wrapper: the wrapper is a second process that races a
// signal sent early in start-up and can exit 143 itself.
const tsxLoader = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href;
// An empty working directory, so a developer's .env cannot leak in.
const cwd = mkdtempSync(path.join(tmpdir(), "expertline-proc-"));

const config = testConfig();
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "",
  NODE_ENV: "test",
  DATABASE_URL: config.DATABASE_URL,
  // a Redis database of its own, so the worker's schedules stay out of everyone's way
  REDIS_URL: config.REDIS_URL.replace(/\/\d*$/, "/15"),
  PUBLIC_BASE_URL: config.PUBLIC_BASE_URL,
  ADMIN_API_KEY: config.ADMIN_API_KEY,
  TWILIO_ACCOUNT_SID: config.TWILIO_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: config.TWILIO_AUTH_TOKEN,
  STRIPE_SECRET_KEY: config.STRIPE_SECRET_KEY,
  STRIPE_WEBHOOK_SECRET: config.STRIPE_WEBHOOK_SECRET,
  LOG_LEVEL: "info",
  PORT: "0",
};

interface Started {
  lines: string[];
  stderr: string[];
  waitFor(pattern: RegExp): Promise<string>;
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function start(entry: string, environment: Record<string, string>): Started {
  const child = spawn(process.execPath, ["--import", tsxLoader, path.join(root, entry)], {
    cwd,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const collect = (into: string[]) => (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      into.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiter.resolve(line);
        waiters.splice(waiters.indexOf(waiter), 1);
      }
    }
  };
  child.stdout.on("data", collect(lines));
  child.stderr.on("data", collect(stderr));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    lines,
    stderr,
    exit,
    kill: (signal) => child.kill(signal),
    waitFor(pattern) {
      const seen = [...lines, ...stderr].find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exit.then((code) => reject(new Error(`exited (${code}) before ${pattern}: ${stderr.join("\n")}`)));
      });
    },
  };
}

describe("entry points", () => {
  it("a missing variable stops the api with one line naming it", async () => {
    const { DATABASE_URL: _missing, ...rest } = env;
    const api = start("src/server.ts", rest);
    expect(await api.exit).toBe(1);
    expect(api.stderr).toEqual(["config: DATABASE_URL is not set (see .env.example)"]);
  });

  it("a malformed variable stops the worker with one line naming it", async () => {
    const worker = start("src/worker.ts", { ...env, REDIS_URL: "http://nope" });
    expect(await worker.exit).toBe(1);
    expect(worker.stderr).toEqual(["config: REDIS_URL must be a redis:// URL (see .env.example)"]);
  });

  it("the api serves, then stops cleanly on SIGTERM", async () => {
    const api = start("src/server.ts", env);
    const listening = await api.waitFor(/Server listening at/);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(listening)?.[0];
    expect(url).toBeDefined();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    api.kill("SIGTERM");
    expect(await api.exit).toBe(0);
    expect(api.lines.join("\n")).toMatch(/shutting down.*[\s\S]*stopped cleanly/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it("the worker starts, then stops cleanly on SIGTERM", async () => {
    const worker = start("src/worker.ts", env);
    await worker.waitFor(/workers started/);
    worker.kill("SIGTERM");
    expect(await worker.exit).toBe(0);
  });
});
