/**
 * Per-sender throughput (a US long code sends about one message a second).
 * Each send reserves the sender's next free slot in Redis; the answer is how
 * long to wait for it. One atomic script, so any number of workers share a
 * sender's rate without a lock.
 */
import type { Redis } from "ioredis";

const RESERVE = `
local next = tonumber(redis.call("GET", KEYS[1]) or "0")
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local slot = math.max(now, next)
redis.call("SET", KEYS[1], slot + interval, "PX", interval * 2 + (slot - now))
return slot - now`;

export interface SendSlotRequest {
  sender: string;
  messagesPerSecond: number;
  nowMs: number;
  /** Key namespace (the deployment's queue prefix), so separate deployments or test runs never share a rate. */
  prefix: string;
}

/** Milliseconds until `sender` may send; the slot is taken either way. */
export async function reserveSendSlot(redis: Redis, { sender, messagesPerSecond, nowMs, prefix }: SendSlotRequest): Promise<number> {
  const interval = Math.max(1, Math.round(1000 / messagesPerSecond));
  const wait = await redis.eval(RESERVE, 1, `${prefix}:send-slot:${sender}`, String(nowMs), String(interval));
  return Number(wait);
}
