import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniformly random base62 string (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time string comparison that does not leak the length either. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export interface IssuedApiKey {
  /** The whole key: shown to the caller once, never stored. */
  key: string;
  /** Visible, non-secret start of the key, stored to tell keys apart. */
  prefix: string;
  hash: string;
}

export const API_KEY_PATTERN = /^el_live_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/;

/**
 * Shop API keys look like `el_live_<8 chars>_<32 chars>`. 32 base62 characters
 * carry ~190 bits, so a plain SHA-256 is a safe way to store them (a slow
 * password hash protects low-entropy secrets; these are not).
 */
export function issueApiKey(): IssuedApiKey {
  const prefix = `el_live_${randomBase62(8)}`;
  const key = `${prefix}_${randomBase62(32)}`;
  return { key, prefix, hash: sha256Hex(key) };
}

/** An expert's payout onboarding link in a text: its token is a credential. */
const ONBOARDING_LINK_IN_TEXT = /\/e\/onboard\/[A-Za-z0-9_-]{16,}/g;

/**
 * A sent text as it may rest in our database: a credential it carried (the
 * payout onboarding link's token) is replaced, since only its hash is ours
 * to keep. The expert's phone has the text; Twilio has been given it.
 */
export function withoutTextedCredentials(body: string): string {
  return body.replace(ONBOARDING_LINK_IN_TEXT, "/e/onboard/[sent]");
}
