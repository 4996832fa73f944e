/**
 * The load generator: a closed loop of `concurrency` lanes, each sending its
 * next request as soon as the previous answer's body has been read, over
 * Node's built-in fetch (undici, keep-alive). It runs in a worker thread (see
 * load-worker.ts) so that its own work does not share the server's event loop.
 */

export type BodySpec =
  /** The same JSON body every time. */
  | { kind: "json"; json: string }
  /** A product with a sku unique to each request: `${prefix}-${sequence}`. */
  | { kind: "uniqueSku"; prefix: string; name: string; tags: string[] }
  /**
   * Bodies built ahead of time, with their own headers (e.g. signed Twilio
   * webhooks, so the load generator does no crypto): request `sequence` sends
   * `items[sequence % items.length]`.
   */
  | { kind: "prebuilt"; contentType: string; items: { body: string; headers: Record<string, string> }[] };

export interface Scenario {
  name: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: BodySpec;
  requests: number;
  concurrency: number;
  warmup: number;
  /** Requests sent one at a time before the warm-up (e.g. the first use of an Idempotency-Key). */
  prime?: number;
  /** A response header every measured response should carry, e.g. ["idempotent-replayed", "true"]. */
  expectHeader?: [string, string];
}

export interface ScenarioResult {
  name: string;
  /** Measured requests that got an answer or failed (fewer than planned when the deadline cut in). */
  requests: number;
  planned: number;
  concurrency: number;
  elapsedMs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  non2xx: number;
  /** Status code (or "network-error") -> count, over the measured phase. */
  statuses: Record<string, number>;
  /** A few non-2xx answers, for the report. */
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

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_SAMPLES = 3;

interface Outcome {
  status: number | "network-error";
  detail: string;
  headers: Headers | null;
}

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

async function send(baseUrl: string, scenario: Scenario, sequence: number): Promise<Outcome> {
  const payload = payloadFor(scenario.body, sequence);
  const body = payload?.body;
  const headers: Record<string, string> = { ...scenario.headers, ...payload?.headers };
  try {
    const response = await fetch(`${baseUrl}${scenario.path}`, {
      method: scenario.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    // Read the whole body: the latency includes it, and the connection goes back to the pool.
    const text = await response.text();
    const ok = response.status >= 200 && response.status < 300;
    return { status: response.status, detail: ok ? "" : text.slice(0, 300), headers: response.headers };
  } catch (error) {
    return { status: "network-error", detail: error instanceof Error ? error.message : String(error), headers: null };
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

interface PhaseTally {
  latencies: Float64Array;
  count: number;
  statuses: Record<string, number>;
  samples: string[];
  unexpected: number;
  truncated: boolean;
}

/** Sends `count` requests over `concurrency` lanes; sequences start at `firstSequence`. */
async function phase(
  input: LoadInput,
  scenario: Scenario,
  count: number,
  concurrency: number,
  firstSequence: number,
): Promise<PhaseTally> {
  const tally: PhaseTally = { latencies: new Float64Array(count), count: 0, statuses: {}, samples: [], unexpected: 0, truncated: false };
  let next = 0;
  const lane = async () => {
    for (;;) {
      if (next >= count) return;
      if (Date.now() > input.deadline) {
        tally.truncated = true;
        return;
      }
      const sequence = firstSequence + next;
      next += 1;
      const started = performance.now();
      const outcome = await send(input.baseUrl, scenario, sequence);
      tally.latencies[tally.count] = performance.now() - started;
      tally.count += 1;
      const key = String(outcome.status);
      tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
      const ok = typeof outcome.status === "number" && outcome.status >= 200 && outcome.status < 300;
      if (!ok && tally.samples.length < MAX_SAMPLES) tally.samples.push(`${key} ${outcome.detail}`);
      if (ok && scenario.expectHeader) {
        const [name, value] = scenario.expectHeader;
        if (outcome.headers?.get(name) !== value) tally.unexpected += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  return tally;
}

export async function runScenario(input: LoadInput, scenario: Scenario): Promise<ScenarioResult> {
  const prime = scenario.prime ?? 0;
  const primed = await phase(input, scenario, prime, 1, 0);
  const warmed = await phase(input, scenario, scenario.warmup, scenario.concurrency, prime);
  const started = performance.now();
  const measured = await phase(input, scenario, scenario.requests, scenario.concurrency, prime + scenario.warmup);
  const elapsedMs = performance.now() - started;

  const latencies = measured.latencies.subarray(0, measured.count).sort();
  let sum = 0;
  for (const value of latencies) sum += value;
  const non2xx = Object.entries(measured.statuses)
    .filter(([status]) => !/^2\d\d$/.test(status))
    .reduce((total, [, count]) => total + count, 0);
  const setupFailures = [...primed.samples, ...warmed.samples].map((sample) => `(warm-up) ${sample}`);
  return {
    name: scenario.name,
    requests: measured.count,
    planned: scenario.requests,
    concurrency: scenario.concurrency,
    elapsedMs,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length > 0 ? (latencies[latencies.length - 1] ?? Number.NaN) : Number.NaN,
    mean: latencies.length > 0 ? sum / latencies.length : Number.NaN,
    non2xx,
    statuses: measured.statuses,
    samples: [...setupFailures, ...measured.samples].slice(0, MAX_SAMPLES),
    unexpected: measured.unexpected,
    truncated: primed.truncated || warmed.truncated || measured.truncated,
  };
}
