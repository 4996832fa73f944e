/**
 * Stripe's v1 idempotency (fact sheet §3), kept by the sandbox:
 * - the first request's status and body are saved once endpoint execution
 *   begins, and same-key retries replay them (500s included);
 * - validation failures and 409 conflicts are not saved;
 * - the same key with other parameters, or on another endpoint, is a 400
 *   idempotency_error with Stripe's messages;
 * - a key still in flight is a 409 idempotency_key_in_use;
 * - keys are kept 24 h of the sandbox clock, then run as new requests.
 */
import type { Clock } from "./clock.js";
import { invalidRequest, StripeApiError } from "./errors.js";

export const KEY_RETENTION_MS = 24 * 60 * 60 * 1000;
export const MAX_KEY_LENGTH = 255;

export interface SavedResponse {
  status: number;
  body: unknown;
}

interface Entry {
  endpoint: string;
  params: string;
  createdAt: number;
  /** Undefined while the first request runs. */
  response: SavedResponse | undefined;
}

/** A finished key as the state file keeps it (keys in flight are not kept: their request died with the process). */
export interface IdempotencyEntrySnapshot {
  /** The account scope and the key, as the store indexes them. */
  id: string;
  endpoint: string;
  params: string;
  createdAt: number;
  response: SavedResponse;
}

export type Claim = { kind: "replay"; response: SavedResponse } | { kind: "run"; save(response: SavedResponse): void; abandon(): void };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    /** Called when a response is saved or a key forgotten (the state file listens). */
    private readonly onChange: () => void = () => {},
  ) {}

  snapshot(): IdempotencyEntrySnapshot[] {
    this.prune();
    const out: IdempotencyEntrySnapshot[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.response) out.push({ id, endpoint: entry.endpoint, params: entry.params, createdAt: entry.createdAt, response: entry.response });
    }
    return out;
  }

  restore(entries: readonly IdempotencyEntrySnapshot[]): void {
    for (const { id, ...entry } of entries) this.entries.set(id, entry);
    this.prune();
  }

  /**
   * Looks the key up for `endpoint` ("POST /v1/transfers") and the request's
   * canonical parameters. Throws the error Stripe answers, or says whether to
   * replay or to run (then save or abandon). `scope` separates accounts: a
   * key sent with Stripe-Account is that account's (UNCONFIRMED, but keys are
   * per account at Stripe).
   */
  claim(key: string, endpoint: string, params: string, scope = ""): Claim {
    if (key.length > MAX_KEY_LENGTH) {
      // UNCONFIRMED wording; the 255 limit is sourced.
      throw invalidRequest(`Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters long.`);
    }
    this.prune();
    const id = `${scope}\u0000${key}`;
    const entry = this.entries.get(id);
    if (entry) {
      if (entry.endpoint !== endpoint) {
        throw idempotencyError(
          `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${pathOf(entry.endpoint)}' vs '${pathOf(endpoint)}'). Try using a key other than '${key}' if you meant to execute a different request.`,
        );
      }
      if (entry.params !== params) {
        throw idempotencyError(
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        );
      }
      if (!entry.response) {
        // 409 and code sourced [U][AE]; the type is not documented (UNCONFIRMED: invalid_request_error), nor the wording.
        throw new StripeApiError(409, {
          type: "invalid_request_error",
          code: "idempotency_key_in_use",
          message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
          doc_url: "https://stripe.com/docs/error-codes/idempotency-key-in-use",
        });
      }
      return { kind: "replay", response: entry.response };
    }
    const fresh: Entry = { endpoint, params, createdAt: this.clock.now().getTime(), response: undefined };
    this.entries.set(id, fresh);
    return {
      kind: "run",
      save: (response) => {
        fresh.response = response;
        this.onChange();
      },
      abandon: () => {
        if (this.entries.get(id) === fresh) this.entries.delete(id);
      },
    };
  }

  get size(): number {
    this.prune();
    return this.entries.size;
  }

  private prune(): void {
    const cutoff = this.clock.now().getTime() - KEY_RETENTION_MS;
    for (const [key, entry] of this.entries) {
      // In-flight keys stay whatever their age: their request still holds them.
      if (entry.response && entry.createdAt <= cutoff) this.entries.delete(key);
    }
  }
}

function pathOf(endpoint: string): string {
  return endpoint.slice(endpoint.indexOf(" ") + 1);
}

function idempotencyError(message: string): StripeApiError {
  return new StripeApiError(400, { type: "idempotency_error", message });
}
