/**
 * The load generator: autocannon, closed loop over `connections` keep-alive
 * connections. It runs in a worker thread (see load-worker.ts and runLoad in
 * common.ts) so that its own work does not share the server's event loop.
 *
 * Each scenario runs in up to three autocannon phases that share one request
 * counter (so every request gets its own prebuilt body): `prime` requests one
 * at a time, a `warmup` that is not measured, then `requests` measured ones.
 */
import { createRequire } from "node:module";
import autocannon from "autocannon";

export type BodySpec =
  /** The same JSON body every time. */
  | { kind: "json"; json: string }
  /** A product with a sku unique to each request: `${prefix}-${sequence}`. */
  | { kind: "uniqueSku"; prefix: string; name: string; tags: string[] }
  /**
   * Bodies built ahead of time, with their own headers (e.g. signed Twilio
   * webhooks, so the load generator does no crypto): request `sequence` sends
   * `items[sequence % items.length]`. Give one item per request for bodies
   * that must all differ (a new MessageSid each), or one item for replays.
   */
  | { kind: "prebuilt"; contentType: string; items: { body: string; headers: Record<string, string> }[] };

export interface Scenario {
  name: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: BodySpec;
  /** Measured requests. */
  requests: number;
  connections: number;
  /** Requests sent before the measured phase, at the same connections, not counted. */
  warmup: number;
  /** Requests sent one at a time before the warm-up (e.g. the first use of an Idempotency-Key). */
  prime?: number;
  /** A response header every measured 2xx response should carry, e.g. ["idempotent-replayed", "true"]. */
  expectHeader?: [string, string];
}

export interface ScenarioResult {
  name: string;
  /** Measured responses (fewer than planned when the deadline cut in or requests failed without an answer). */
  requests: number;
  planned: number;
  connections: number;
  /** From the start of the measured phase to its last response. */
  elapsedMs: number;
  /** Measured responses per second of elapsedMs. */
  rps: number;
  /** Latency of the measured responses, ms, from autocannon's histogram (1 ms resolution). */
  p50: number;
  p97_5: number;
  p99: number;
  max: number;
  mean: number;
  non2xx: number;
  /** Connection errors and timeouts in the measured phase: requests that got no answer. */
  errors: number;
  timeouts: number;
  /** Status code -> count, over the measured phase. */
  statuses: Record<string, number>;
  /** Requests of the prime and warm-up phases that failed (non-2xx, error or timeout). */
  warmupFailures: number;
  /** Requests sent in all phases: how many prebuilt bodies were used. */
  sent: number;
  /** A few failed answers or errors, for the report. */
  samples: string[];
  /** Measured 2xx responses missing `expectHeader`. */
  unexpected: number;
  truncated: boolean;
}

export interface LoadInput {
  baseUrl: string;
  scenarios: Scenario[];
  /** Date.now() after which no new request is started. */
  deadline: number;
}

export type LoadMessage = { type: "result"; result: ScenarioResult } | { type: "done" } | { type: "failed"; error: string };

const REQUEST_TIMEOUT_S = 10;
const MAX_SAMPLES = 3;
/**
 * autocannon ends a run at its next sample tick after the last response;
 * its default (1 s) would add up to a second of idle time to every phase.
 */
const SAMPLE_INTERVAL_MS = 20;

type RawResult = Parameters<typeof autocannon.printResult>[0];
/**
 * autocannon aggregates its histograms only on the main thread; in a worker
 * thread (where this runs) it hands back encoded histograms. Its own
 * aggregator turns them into the usual result with percentiles.
 */
const aggregateResult = createRequire(import.meta.url)("autocannon/lib/aggregateResult.js") as (
  raw: unknown,
  opts: autocannon.Options,
) => RawResult;

interface Payload {
  body: string;
  headers: Record<string, string>;
}

function payloadFor(spec: BodySpec | undefined, sequence: number): Payload | undefined {
  if (!spec) return undefined;
  const json = { "content-type": "application/json" };
  if (spec.kind === "json") return { body: spec.json, headers: json };
  if (spec.kind === "uniqueSku") {
    return { body: JSON.stringify({ sku: `${spec.prefix}-${sequence}`, name: spec.name, tags: spec.tags }), headers: json };
  }
  const item = spec.items[sequence % spec.items.length];
  if (!item) throw new Error("a prebuilt body spec needs at least one item");
  return { body: item.body, headers: { ...item.headers, "content-type": spec.contentType } };
}

/** What one scenario's phases add up, across the shared request counter. */
interface Tally {
  sequence: number;
  samples: string[];
  /** Only the measured phase counts missing headers. */
  checkHeader: boolean;
  unexpected: number;
}

interface Phase {
  result: RawResult;
  elapsedMs: number;
  truncated: boolean;
}

function sample(tally: Tally, label: string, text: string) {
  if (tally.samples.length < MAX_SAMPLES) tally.samples.push(`${label}${text.slice(0, 300)}`);
}

async function phase(input: LoadInput, scenario: Scenario, tally: Tally, amount: number, connections: number, label: string): Promise<Phase> {
  const [expectName, expectValue] = scenario.expectHeader ?? [];
  const request: autocannon.Request = {
    // Each request takes the next body; autocannon calls this once per request sent.
    setupRequest: (defaults) => {
      const payload = payloadFor(scenario.body, tally.sequence);
      tally.sequence += 1;
      if (!payload) return defaults;
      return { ...defaults, body: payload.body, headers: { ...scenario.headers, ...payload.headers } };
    },
    onResponse: (status, body, _context, headers) => {
      if (status < 200 || status >= 300) {
        sample(tally, label, `${status} ${body}`);
        return;
      }
      if (!tally.checkHeader || expectName === undefined) return;
      const found = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === expectName);
      if (found?.[1] !== expectValue) tally.unexpected += 1;
    },
  };
  const options: autocannon.Options = {
    url: `${input.baseUrl}${scenario.path}`,
    method: scenario.method,
    headers: scenario.headers,
    connections: Math.max(1, Math.min(connections, amount)),
    amount,
    timeout: REQUEST_TIMEOUT_S,
    sampleInt: SAMPLE_INTERVAL_MS,
    requests: [request],
  };
  const started = performance.now();
  let lastResponse = started;
  let truncated = false;
  let stopAtDeadline: NodeJS.Timeout | undefined;
  try {
    const raw = await new Promise<unknown>((resolve, reject) => {
      const instance = autocannon(options, (error: unknown, result) => (error ? reject(asError(error)) : resolve(result)));
      instance.on("response", () => {
        lastResponse = performance.now();
      });
      instance.on("reqError", (error: unknown) => sample(tally, label, error instanceof Error ? error.message : String(error)));
      stopAtDeadline = setTimeout(() => {
        truncated = true;
        instance.stop();
      }, Math.max(0, input.deadline - Date.now()));
    });
    return { result: aggregateResult(raw, options), elapsedMs: lastResponse - started, truncated };
  } finally {
    clearTimeout(stopAtDeadline);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(typeof error === "string" ? error : JSON.stringify(error));
}

function failures(result: RawResult): number {
  return result.non2xx + result.errors;
}

export async function runScenario(input: LoadInput, scenario: Scenario): Promise<ScenarioResult> {
  const tally: Tally = { sequence: 0, samples: [], checkHeader: false, unexpected: 0 };
  let warmupFailures = 0;
  let truncated = false;
  const prime = scenario.prime ?? 0;
  if (prime > 0) {
    const primed = await phase(input, scenario, tally, prime, 1, "(prime) ");
    warmupFailures += failures(primed.result);
    truncated ||= primed.truncated;
  }
  if (scenario.warmup > 0 && !truncated) {
    const warmed = await phase(input, scenario, tally, scenario.warmup, scenario.connections, "(warm-up) ");
    warmupFailures += failures(warmed.result);
    truncated ||= warmed.truncated;
  }
  tally.checkHeader = true;
  const measured = truncated ? null : await phase(input, scenario, tally, scenario.requests, scenario.connections, "");
  const result = measured?.result;
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result?.statusCodeStats ?? {})) statuses[status] = count ?? 0;
  const requests = result?.requests.total ?? 0;
  const elapsedMs = measured?.elapsedMs ?? Number.NaN;
  return {
    name: scenario.name,
    requests,
    planned: scenario.requests,
    connections: Math.max(1, Math.min(scenario.connections, scenario.requests)),
    elapsedMs,
    rps: requests > 0 ? (requests / elapsedMs) * 1000 : Number.NaN,
    p50: result?.latency.p50 ?? Number.NaN,
    p97_5: result?.latency.p97_5 ?? Number.NaN,
    p99: result?.latency.p99 ?? Number.NaN,
    max: result?.latency.max ?? Number.NaN,
    mean: result?.latency.mean ?? Number.NaN,
    non2xx: result?.non2xx ?? 0,
    errors: result?.errors ?? 0,
    timeouts: result?.timeouts ?? 0,
    statuses,
    warmupFailures,
    sent: tally.sequence,
    samples: tally.samples,
    unexpected: tally.unexpected,
    truncated: truncated || (measured?.truncated ?? false),
  };
}
