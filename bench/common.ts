/** Pieces both benchmarks use: bounded settings, local-only checks, and the worker-thread load runner. */
import { Worker } from "node:worker_threads";
import type { LoadInput, LoadMessage, ScenarioResult } from "./load.js";

export function boundedInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not ${raw}`);
  }
  return value;
}

export function assertLocal(name: string, url: string) {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") {
    throw new Error(`${name} must point at 127.0.0.1 for the benchmark, not ${host}`);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref()),
  ]);
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/**
 * Runs the load generator in a worker thread (so its work does not inflate
 * the server's latency) and stops it at `killAt` whatever happens.
 */
export async function runLoad(input: LoadInput, killAt: number): Promise<{ results: ScenarioResult[]; error: string | null }> {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./load-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  const worker = new Worker(bootstrap, { eval: true, workerData: input });
  const results: ScenarioResult[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(kill);
      void worker.terminate().finally(() => resolve({ results, error }));
    };
    const kill = setTimeout(() => finish("the load worker overran its time budget and was stopped"), killAt - Date.now());
    worker.on("message", (message: LoadMessage) => {
      if (message.type === "result") {
        results.push(message.result);
        console.error(`  done: ${message.result.name}`);
      } else finish(message.type === "failed" ? message.error : null);
    });
    worker.on("error", (error) => finish(error.stack ?? error.message));
    worker.on("exit", (code) => finish(code === 0 ? null : `the load worker exited with code ${code}`));
  });
}

/** Runs a benchmark's main with a hard deadline: a benchmark always stops by itself. */
export function runBounded(main: () => Promise<number>, hardExitAt: number): void {
  setTimeout(() => {
    console.error("benchmark did not finish within its time budget; exiting");
    process.exit(2);
  }, hardExitAt - Date.now()).unref();
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
