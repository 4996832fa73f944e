/**
 * One webhook POST, safe against SSRF: the host is resolved once, every
 * address it resolves to is checked, and the connection goes to the checked
 * address itself (an IP, never the name), so a DNS answer that changes
 * between the check and the connection cannot slip a private address in.
 * The Host header, TLS's SNI and its certificate check still use the name. Redirects are not
 * followed. The answer is decided by the status line; the body is read up to a short
 * excerpt, for a short while, no further.
 */
import { Resolver } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import { addressesRefusal, hostOf, isIpLiteral, urlRefusal, type AddressPolicy } from "./address-policy.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name -> addresses. The system resolver by default; tests give their own to act out a DNS change. */
export type ResolveHost = (host: string) => Promise<ResolvedAddress[]>;

/**
 * How long a name may take to resolve: a quarter of the delivery's deadline,
 * so a shop whose DNS hangs still leaves time to connect and be answered.
 */
export function dnsBudgetMs(timeoutMs: number): number {
  return Math.max(25, Math.floor(timeoutMs / 4));
}

/** What a lookup that ran out of time fails with (the code a c-ares timeout has too). */
export class ResolveTimeout extends Error {
  readonly code = "ETIMEOUT";
  constructor(host: string, ms: number) {
    super(`${host} did not resolve within ${ms} ms`);
  }
}

const NO_SUCH_RECORDS = new Set(["ENODATA", "ENOTFOUND"]);

/**
 * The system's DNS servers asked through c-ares (resolve4 + resolve6), not
 * getaddrinfo: getaddrinfo runs on libuv's 4 shared threads and cannot be
 * cancelled, so one shop's name that never answers would hold a thread past
 * any deadline and stall every other shop's lookups (and Node's file I/O).
 * Each lookup has a Resolver of its own, cancelled at `budgetMs`, so nothing
 * outlives its deadline. `servers` only for tests (a DNS server on 127.0.0.1).
 */
export function systemResolver(budgetMs: number, servers?: string[]): ResolveHost {
  return async (host) => {
    // c-ares doubles the wait on each try: budget/3 then 2*budget/3 is the whole budget, per server.
    const resolver = new Resolver({ timeout: Math.max(10, Math.floor(budgetMs / 3)), tries: 2 });
    if (servers) resolver.setServers(servers);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        resolver.cancel();
        reject(new ResolveTimeout(host, budgetMs));
      }, budgetMs);
    });
    try {
      const [v4, v6] = await Promise.race([Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]), deadline]);
      const addresses: ResolvedAddress[] = [
        ...(v4.status === "fulfilled" ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(v6.status === "fulfilled" ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      if (addresses.length > 0) return addresses;
      // Neither family has an address: "no such records" for both is an empty answer; any other failure is the error.
      const failure = [v4, v6].find(
        (result): result is PromiseRejectedResult => result.status === "rejected" && !NO_SUCH_RECORDS.has((result.reason as NodeJS.ErrnoException).code ?? ""),
      );
      if (failure) throw failure.reason as Error;
      if (v4.status === "rejected") throw v4.reason as Error;
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The addresses to check for `host`, within `budgetMs`: an IP literal is
 * itself, localhost (and *.localhost, RFC 6761) is this machine without asking
 * DNS, any other name goes to `resolve`, which is given up on (ResolveTimeout)
 * at `budgetMs` even if it never settles.
 */
export async function resolveWithin(host: string, resolve: ResolveHost, budgetMs: number): Promise<ResolvedAddress[]> {
  if (isIpLiteral(host)) return [{ address: host, family: host.includes(":") ? 6 : 4 }];
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) {
    return [
      { address: "127.0.0.1", family: 4 },
      { address: "::1", family: 6 },
    ];
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      resolve(host),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new ResolveTimeout(host, budgetMs)), budgetMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Only this much of a response body is kept (the delivery log's excerpt). */
export const RESPONSE_EXCERPT_BYTES = 2048;
/**
 * How long the excerpt is waited for once the status line is in. The answer
 * is decided by then: a body that trickles in slowly is cut short here, and
 * never turns a 2xx into a failure.
 */
export const RESPONSE_EXCERPT_WAIT_MS = 1_000;

export interface PostOutcome {
  /** A 2xx answer. */
  ok: boolean;
  responseCode: number | null;
  responseExcerpt: string | null;
  /** Why it failed; null on success. */
  error: string | null;
  /** From the start of the attempt (resolving included) to its end, refusals included. */
  durationMs: number;
  /** False when the attempt was refused before any connection was tried (SSRF, bad URL, unresolvable). */
  connectionTried: boolean;
  /**
   * For our log only, never for the shop: when a resolved address was
   * refused, which one and why (`error` says only that it was not public).
   */
  refusalDetail: string | null;
}

export interface PostInput {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  policy: AddressPolicy;
  resolve: ResolveHost;
}

class Refused extends Error {
  constructor(
    message: string,
    readonly detail: string | null = null,
  ) {
    super(message);
  }
}
class TimedOut extends Error {}

/** Resolves and checks the host; the address to connect to, or a Refused error. */
async function pickAddress(url: URL, policy: AddressPolicy, resolve: ResolveHost, budgetMs: number): Promise<ResolvedAddress> {
  const host = hostOf(url);
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolveWithin(host, resolve, budgetMs);
  } catch (error) {
    throw new Refused(`could not resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? "lookup failed"}`);
  }
  const refusal = addressesRefusal(host, addresses.map((entry) => entry.address), policy);
  if (refusal) throw new Refused(`refused: ${refusal.reason}`, refusal.detail);
  // addressesRefusal refuses an empty answer, so there is a first.
  return addresses[0]!;
}

/** PostgreSQL text cannot hold NUL; a receiver's body may. */
function excerptOf(chunks: Buffer[]): string {
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8").replaceAll("\u0000", "\uFFFD");
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message || String(error);
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return text.slice(0, 500);
}

/**
 * Resolves once the status line and headers are in and the excerpt is read
 * (or RESPONSE_EXCERPT_WAIT_MS passed); `onHeaders` runs when they arrive, so
 * the caller's deadline covers the answer, not the body.
 */
function send(
  url: URL,
  pinned: ResolvedAddress,
  input: PostInput,
  signal: AbortSignal,
  onHeaders: () => void,
): Promise<{ status: number; excerpt: string }> {
  const host = hostOf(url);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        protocol: url.protocol,
        // The checked address itself: nothing resolves the name again between the check and the connection.
        host: pinned.address,
        port: url.port || undefined,
        // ...while the request still names the host: the Host header, and TLS's SNI and certificate check.
        ...(isIpLiteral(host) ? {} : { servername: host }),
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...input.headers, host: url.host, "content-length": String(Buffer.byteLength(input.body)) },
        // A fresh connection per attempt: a pooled socket would skip the check above.
        agent: false,
        signal,
      },
      (response) => {
        onHeaders();
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        let finished = false;
        // Whatever ends the body (its end, enough of it, the excerpt's time, a reset) ends it with what arrived.
        const finish = () => {
          if (finished) return;
          finished = true;
          clearTimeout(excerptTimer);
          resolve({ status, excerpt: excerptOf(chunks) });
          // The rest of a large or slow body is not read, nor waited for.
          response.destroy();
        };
        const excerptTimer = setTimeout(finish, RESPONSE_EXCERPT_WAIT_MS);
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= RESPONSE_EXCERPT_BYTES) finish();
        });
        response.on("end", finish);
        response.on("error", finish);
        response.on("close", finish);
      },
    );
    request.on("error", reject);
    request.end(input.body);
  });
}

export async function postWebhook(input: PostInput): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const shapeRefusal = urlRefusal(input.url, input.policy);
  if (shapeRefusal) {
    return { ok: false, responseCode: null, responseExcerpt: null, error: `refused: the URL ${shapeRefusal}`, durationMs: elapsed(), connectionTried: false, refusalDetail: null };
  }
  const url = new URL(input.url);
  const controller = new AbortController();
  // One deadline for all of it up to the status line: resolving, connecting, TLS, the answer. Not the body (send).
  const timer = setTimeout(() => controller.abort(new TimedOut(`no answer within ${input.timeoutMs} ms`)), input.timeoutMs);
  let connectionTried = false;
  try {
    const address = await Promise.race([
      pickAddress(url, input.policy, input.resolve, dnsBudgetMs(input.timeoutMs)),
      new Promise<never>((_resolve, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason as Error), { once: true })),
    ]);
    connectionTried = true;
    const { status, excerpt } = await send(url, address, input, controller.signal, () => clearTimeout(timer));
    const ok = status >= 200 && status < 300;
    const error = ok ? null : status >= 300 && status < 400 ? `answered ${status}: redirects are not followed` : `answered ${status}`;
    return { ok, responseCode: status, responseExcerpt: excerpt, error, durationMs: elapsed(), connectionTried, refusalDetail: null };
  } catch (error) {
    const reason = controller.signal.aborted && controller.signal.reason instanceof TimedOut ? controller.signal.reason : error;
    const refusalDetail = error instanceof Refused ? error.detail : null;
    return { ok: false, responseCode: null, responseExcerpt: null, error: describeError(reason), durationMs: elapsed(), connectionTried, refusalDetail };
  } finally {
    clearTimeout(timer);
  }
}
