/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Prisma's
 * `@default(uuid(7))` makes the same kind of id; raw SQL on hot paths has to
 * make its own, so that ids still sort by creation time for cursors.
 */
import { randomFillSync } from "node:crypto";

/** Random bytes fetched in batches: one syscall per 256 ids instead of one each. */
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

export function uuidv7(now: number = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(next * 16, next * 16 + 16);
  next++;
  // 48-bit big-endian timestamp; two writes because JS bit operations are 32-bit.
  bytes.writeUInt16BE(Math.floor(now / 2 ** 32) & 0xffff, 0);
  bytes.writeUInt32BE(now >>> 0, 2);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
