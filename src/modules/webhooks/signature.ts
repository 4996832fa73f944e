/**
 * Signing secrets and the Expertline-Signature header.
 *
 * Why secrets are derived and not stored: we must sign with the secret, so a
 * hash (as for API keys) is no use, and an encrypted column still puts the
 * secret in every backup beside the key's whereabouts. Instead each secret
 * version is a random salt in the row, and the secret is
 *   "whsec_" + base64url(HMAC-SHA256(WEBHOOK_SIGNING_KEY, endpointId + ":" + salt)).
 * A database dump alone reveals no secret; the key lives only in the
 * environment of the api and worker processes. Rotating a secret is a new
 * salt; changing WEBHOOK_SIGNING_KEY changes every endpoint's secret.
 *
 * The header is Stripe's scheme, which shop developers already know:
 *   Expertline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>[,v1=...]
 * with one v1 per secret that currently signs (two during a rotation's grace period).
 */
import { createHmac, randomBytes } from "node:crypto";

export const SECRET_PREFIX = "whsec_";

/** A fresh salt for a new secret version: 128 random bits. */
export function newSecretSalt(): string {
  return randomBytes(16).toString("base64url");
}

export function deriveSigningSecret(signingKey: string, endpointId: string, salt: string): string {
  return SECRET_PREFIX + createHmac("sha256", signingKey).update(`${endpointId}:${salt}`).digest("base64url");
}

/** Hex HMAC-SHA256 of `t.body`, keyed by the whole secret string (prefix included). */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** The header's value for `body` sent at `timestamp` (unix seconds), signed by each secret in order. */
export function signatureHeader(input: { timestamp: number; body: string; secrets: readonly string[] }): string {
  if (input.secrets.length === 0) throw new Error("a signature needs at least one secret");
  return [`t=${input.timestamp}`, ...input.secrets.map((secret) => `v1=${signPayload(secret, input.timestamp, input.body)}`)].join(",");
}

export interface SecretVersions {
  id: string;
  secretSalt: string;
  previousSecretSalt: string | null;
  previousSecretExpiresAt: Date | null;
}

/** The secrets that sign at `now`: the current one, then the previous one while its grace period lasts. */
export function signingSecrets(signingKey: string, endpoint: SecretVersions, now: Date): string[] {
  const secrets = [deriveSigningSecret(signingKey, endpoint.id, endpoint.secretSalt)];
  if (endpoint.previousSecretSalt && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(deriveSigningSecret(signingKey, endpoint.id, endpoint.previousSecretSalt));
  }
  return secrets;
}
