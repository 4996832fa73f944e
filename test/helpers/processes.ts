/**
 * The real entry points (src/server.ts, src/worker.ts, src/sandbox.ts, ...)
 * started as separate processes, with an environment built from the test
 * configuration and their output collected line by line.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { testConfig } from "./config.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
// node with tsx's loader, not the tsx wrapper: the wrapper is a second process that races a
// signal sent early in start-up and can exit 143 itself.
const tsxLoader = pathToFileURL(path.join(root, "node_modules/tsx/dist/loader.mjs")).href;
// An empty working directory, so a developer's .env cannot leak in.
const cwd = mkdtempSync(path.join(tmpdir(), "expertline-proc-"));

/**
 * Everything an entry point needs to start, from the test configuration, and
 * nothing else of this process's environment but PATH; `overrides` win.
 */
export function entryPointEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const config = testConfig();
  return {
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
    STRIPE_WEBHOOK_SECRET: config.STRIPE_WEBHOOK_SECRET.join(","),
    LOG_LEVEL: "info",
    PORT: "0",
    ...overrides,
  };
}

export interface StartedEntryPoint {
  /** Lines written to stdout so far. */
  stdout: string[];
  /** Lines written to stderr so far. */
  stderr: string[];
  /** The first line (stdout or stderr) matching `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  /** The exit code, once the process has exited and all its output is in. */
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `entry` (a path from the repository root) with exactly `env`. */
export function startEntryPoint(entry: string, env: Record<string, string>): StartedEntryPoint {
  const child = spawn(process.execPath, ["--import", tsxLoader, path.join(root, entry)], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const collect = (into: string[]) => {
    // A chunk can end mid-line: keep the tail until its newline (or the end of the stream) arrives.
    let partial = "";
    const take = (line: string) => {
      if (!line) return;
      into.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiter.resolve(line);
        waiters.splice(waiters.indexOf(waiter), 1);
      }
    };
    return {
      data: (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) take(line);
      },
      end: () => {
        take(partial);
        partial = "";
      },
    };
  };
  for (const [stream, into] of [
    [child.stdout, stdout],
    [child.stderr, stderr],
  ] as const) {
    const collector = collect(into);
    stream.on("data", collector.data);
    stream.on("end", collector.end);
  }
  // "close", not "exit": "exit" can come before the last output is read, and tests check that output.
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    stdout,
    stderr,
    exit,
    kill: (signal) => child.kill(signal),
    waitFor(pattern) {
      const seen = [...stdout, ...stderr].find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exit.then((code) => reject(new Error(`exited (${code}) before ${pattern}: ${stderr.join("\n")}`)));
      });
    },
  };
}

/**
 * Whether the JSON log line whose `msg` matches `first` was logged (by its own `time`) no later
 * than the one matching `then`; false when either is missing.
 */
export function loggedInOrder(lines: string[], first: RegExp, then: RegExp): boolean {
  const timeOf = (pattern: RegExp): number | undefined => {
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { msg?: unknown; time?: unknown };
        if (typeof entry.msg === "string" && pattern.test(entry.msg) && typeof entry.time === "number") return entry.time;
      } catch {
        // not a log line
      }
    }
    return undefined;
  };
  const [a, b] = [timeOf(first), timeOf(then)];
  return a !== undefined && b !== undefined && a <= b;
}
