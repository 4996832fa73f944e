import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Stripe object ids: a prefix and an opaque alphanumeric tail ("acct_1Nv0FG...").
 * The tail's length varies at Stripe (UNCONFIRMED exact lengths); 16-24
 * characters look like what the docs show. A little modulo bias is harmless here.
 */
export function newId(prefix: "acct" | "tr" | "trr" | "txn" | "py" | "pyr" | "req" | "link" | "evt" | "po" | "ba", length = 24): string {
  const bytes = randomBytes(length);
  let tail = "";
  for (const byte of bytes) tail += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${tail}`;
}
