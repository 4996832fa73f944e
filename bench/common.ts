/** Pieces every benchmark uses: bounded settings, local-only checks, the worker-thread load runner, and the report. */
import os from "node:os";
import { Worker } from "node:worker_threads";
import type { LimitRun } from "./limit.js";
import type { LoadInput, LoadMessage, ScenarioResult } from "./load.js";

export function boundedInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not ${raw}`);
  }
  return value;
}

/** How hard each load scenario pushes: the same for every scenario, the limit included. */
export interface LoadSettings {
  /** Measured requests per scenario. */
  requests: number;
  /** Requests before the measured ones, not counted. */
  warmup: number;
  connections: number;
}

export function loadSettings(): LoadSettings {
  if (process.env.BENCH_CONCURRENCY) throw new Error("BENCH_CONCURRENCY is now BENCH_CONNECTIONS (autocannon connections)");
  const requests = boundedInt("BENCH_REQUESTS", 2_000, 1, 50_000);
  return {
    requests,
    warmup: boundedInt("BENCH_WARMUP", Math.min(200, requests), 0, 10_000),
    // Issue 6 measures the webhook against the limit at 50 connections.
    connections: boundedInt("BENCH_CONNECTIONS", 50, 1, 256),
  };
}

export function assertLocal(name: string, url: string) {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") {
    throw new Error(`${name} must point at 127.0.0.1 for the benchmark, not ${host}`);
  }
}

/**
 * Every benchmark's clock, from its start, so that a run always ends within
 * two minutes: no new load request starts after `loadDeadline` (the run then
 * cleans up and exits), a load worker still running at `workerKillAt` is
 * terminated (requests time out after 10 s), and `hardExitAt` is the last
 * resort if clean-up hangs.
 */
export function timeBudget(startedAt: number): { loadDeadline: number; workerKillAt: number; hardExitAt: number } {
  return { loadDeadline: startedAt + 95_000, workerKillAt: startedAt + 105_000, hardExitAt: startedAt + 115_000 };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref()),
  ]);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** POSTs JSON with a bearer key, as a shop or the admin would, and expects 201: the benchmarks' set-up goes through the API. */
export async function postJson<T>(baseUrl: string, path: string, key: string, payload: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
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

/**
 * Ends a benchmark's main: 1 when a load generator failed (the first error
 * given, in order), else 0. Timings never fail a run; only a load that could
 * not run does.
 */
export function loadExitCode(...errors: (string | null)[]): number {
  const error = errors.find((one) => one) ?? null;
  if (error) {
    console.error(`load generator failed: ${error}`);
    return 1;
  }
  return 0;
}

/** Ascending, for percentile(). */
export function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** A plain-text table: the first column left-aligned, the others right-aligned, then a blank line. */
export function printTable(columns: string[], rows: string[][]): void {
  const widths = columns.map((column, i) => Math.max(column.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) console.log(line(row));
  console.log("");
}

/**
 * The first lines of every report: which benchmark, when, and on what machine,
 * since figures only compare between runs on the same one. `machineNote`
 * goes at the end of the machine's line.
 */
export function printReportHeading(benchmark: string, machineNote = ""): void {
  const cpus = os.cpus();
  console.log("");
  console.log(`expertline ${benchmark} benchmark, ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model ?? "unknown CPU"}${machineNote}`);
}

/** The limit's figures every scenario is compared with: the mean of its runs (before and after the others). */
export interface LimitBaseline {
  rps: number;
  p99: number;
  runs: ScenarioResult[];
}

/** The limit runs that produced figures, in the order they ran. */
export function limitResults(limits: LimitRun[]): ScenarioResult[] {
  return limits.flatMap((run) => (run.result ? [run.result] : []));
}

/** A load table's rows: "limit (before)", the scenarios, then "limit (after)", as they ran. */
export function betweenLimits(limits: LimitRun[], results: ScenarioResult[]): ScenarioResult[] {
  const [before, after] = limits;
  return [before?.result, ...results, after?.result].filter((r): r is ScenarioResult => r !== null && r !== undefined);
}

export function limitBaseline(runs: ScenarioResult[]): LimitBaseline | null {
  const measured = runs.filter((run) => run.requests > 0 && Number.isFinite(run.rps));
  if (measured.length === 0) return null;
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  return { rps: mean(measured.map((run) => run.rps)), p99: mean(measured.map((run) => run.p99)), runs: measured };
}

/** Requests that failed in any phase: non-2xx answers, connection errors and timeouts. */
export function failedRequests(result: ScenarioResult): number {
  return result.non2xx + result.errors + result.warmupFailures;
}

export function ratio(value: number, reference: number): number {
  return reference > 0 ? value / reference : Number.NaN;
}

/**
 * The load table, with each scenario's ratio to the limit (req/s: higher is
 * better; p99: lower is better), then every failure, prominently.
 */
export function printLoadResults(results: ScenarioResult[], baseline: LimitBaseline | null): void {
  printTable(
    ["scenario", "requests", "conn", "req/s", "p50 ms", "p97.5 ms", "p99 ms", "max ms", "non-2xx", "errors", "req/s ×limit", "p99 ×limit"],
    results.map((r) => [
      r.name,
      r.requests === r.planned ? String(r.requests) : `${r.requests}/${r.planned}`,
      String(r.connections),
      fixed(r.rps, 0),
      fixed(r.p50, 0),
      fixed(r.p97_5, 0),
      fixed(r.p99, 0),
      fixed(r.max, 0),
      String(r.non2xx),
      String(r.errors),
      baseline ? fixed(ratio(r.rps, baseline.rps), 2) : "-",
      baseline ? fixed(ratio(r.p99, baseline.p99), 2) : "-",
    ]),
  );
  if (baseline) {
    const runs = baseline.runs.map((run) => `${fixed(run.rps, 0)} req/s, p99 ${fixed(run.p99, 0)} ms`).join(" | ");
    console.log(`limit (mean of ${baseline.runs.length} runs): ${fixed(baseline.rps, 0)} req/s, p99 ${fixed(baseline.p99, 1)} ms; runs: ${runs}`);
  } else {
    console.log("! no limit run finished: no ratios");
  }

  const failed = results.reduce((total, r) => total + failedRequests(r), 0);
  if (failed > 0) {
    console.log("");
    console.log(`!!! ${failed} REQUEST(S) FAILED (non-2xx, connection errors or timeouts, warm-up included): the issue allows none`);
  }
  for (const r of results) {
    const notes: string[] = [];
    if (r.non2xx > 0) notes.push(`statuses ${JSON.stringify(r.statuses)}`);
    if (r.errors > 0) notes.push(`${r.errors} connection errors or timeouts (${r.timeouts} timeouts)`);
    if (r.warmupFailures > 0) notes.push(`${r.warmupFailures} failed before the measured phase`);
    for (const sample of r.samples) notes.push(`e.g. ${sample}`);
    if (r.unexpected > 0) notes.push(`${r.unexpected} 2xx responses without the expected header`);
    if (r.truncated) notes.push("cut short by the time budget");
    for (const note of notes) console.log(`! ${r.name}: ${note}`);
  }
  if (failed === 0 && results.every((r) => r.unexpected === 0 && !r.truncated)) {
    console.log("no request failed: every response 2xx, no connection errors or timeouts");
  }
  console.log("");
}
