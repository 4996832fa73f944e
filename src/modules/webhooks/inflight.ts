/**
 * At most MAX_IN_FLIGHT_PER_ENDPOINT POSTs to one endpoint at a time, across
 * every worker process, so a shop whose endpoint answers slowly (or not at
 * all) occupies a few of the webhook workers' slots, never all of them.
 *
 * Each POST holds a lease: a member of a Redis sorted set per endpoint,
 * scored by when it expires. Taking one first drops the expired ones, so a
 * worker that died mid-POST gives its slot back after LEASE, on its own,
 * whatever else goes on at that endpoint (a single counter with an EXPIRE
 * refreshed by every POST could keep a leaked count forever on a busy one).
 * Times are Redis's own (TIME), so workers' clocks need not agree.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { RESPONSE_EXCERPT_WAIT_MS } from "./transport.js";

export const MAX_IN_FLIGHT_PER_ENDPOINT = 2;

/** A POST lasts at most the deadline plus the excerpt's wait; the lease outlives it by a margin for a slow event loop. */
export function slotLeaseMs(timeoutMs: number): number {
  return timeoutMs + RESPONSE_EXCERPT_WAIT_MS + 10_000;
}

// KEYS[1] the endpoint's set; ARGV: lease token, limit, lease ms. 1 when taken, 0 when the endpoint is full.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

export interface InFlightDeps {
  redis: Redis;
  /** Keys live beside BullMQ's, under the same prefix (tests give each file its own). */
  queuePrefix: string;
}

function keyOf(deps: InFlightDeps, endpointId: string): string {
  return `${deps.queuePrefix}:webhook-in-flight:${endpointId}`;
}

/** A slot at `endpointId` for one POST, or null when MAX_IN_FLIGHT_PER_ENDPOINT are already out. Release it in a finally. */
export async function acquireSlot(
  deps: InFlightDeps,
  endpointId: string,
  { leaseMs, limit = MAX_IN_FLIGHT_PER_ENDPOINT }: { leaseMs: number; limit?: number },
): Promise<(() => Promise<void>) | null> {
  const key = keyOf(deps, endpointId);
  const token = randomUUID();
  const taken = await deps.redis.eval(ACQUIRE, 1, key, token, limit, leaseMs);
  if (taken !== 1) return null;
  return async () => {
    await deps.redis.zrem(key, token);
  };
}
