import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveSigningSecret, newSecretSalt, SECRET_PREFIX, signatureHeader, signingSecrets, signPayload } from "./signature.js";

const KEY = "k".repeat(32);
const ENDPOINT = "0190a0b0-0000-7000-8000-000000000001";

describe("deriveSigningSecret", () => {
  it("is whsec_ and the base64url HMAC of endpoint:salt under the signing key", () => {
    const expected = createHmac("sha256", KEY).update(`${ENDPOINT}:salt-1`).digest("base64url");
    expect(deriveSigningSecret(KEY, ENDPOINT, "salt-1")).toBe(`whsec_${expected}`);
    expect(SECRET_PREFIX).toBe("whsec_");
    expect(deriveSigningSecret(KEY, ENDPOINT, "salt-1")).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  });

  it("changes with the key, the endpoint and the salt", () => {
    const base = deriveSigningSecret(KEY, ENDPOINT, "salt-1");
    expect(deriveSigningSecret("j".repeat(32), ENDPOINT, "salt-1")).not.toBe(base);
    expect(deriveSigningSecret(KEY, ENDPOINT.replace(/1$/, "2"), "salt-1")).not.toBe(base);
    expect(deriveSigningSecret(KEY, ENDPOINT, "salt-2")).not.toBe(base);
    // the separator keeps (id, salt) pairs apart
    expect(deriveSigningSecret(KEY, "a:b", "c")).toBe(deriveSigningSecret(KEY, "a", "b:c"));
  });
});

describe("newSecretSalt", () => {
  it("is 128 random bits, base64url", () => {
    const salts = new Set(Array.from({ length: 50 }, () => newSecretSalt()));
    expect(salts.size).toBe(50);
    for (const salt of salts) expect(salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("signatureHeader", () => {
  const body = '{"id":"evt_1","type":"question.created"}';

  it("signs t.body with each secret, as Stripe does", () => {
    const v1 = (secret: string) => createHmac("sha256", secret).update(`1764547200.${body}`).digest("hex");
    expect(signPayload("whsec_a", 1764547200, body)).toBe(v1("whsec_a"));
    expect(signatureHeader({ timestamp: 1764547200, body, secrets: ["whsec_a"] })).toBe(`t=1764547200,v1=${v1("whsec_a")}`);
    expect(signatureHeader({ timestamp: 1764547200, body, secrets: ["whsec_a", "whsec_b"] })).toBe(
      `t=1764547200,v1=${v1("whsec_a")},v1=${v1("whsec_b")}`,
    );
  });

  it("refuses to sign with no secret", () => {
    expect(() => signatureHeader({ timestamp: 1, body, secrets: [] })).toThrow("at least one secret");
  });
});

describe("signingSecrets", () => {
  const now = new Date("2026-12-01T12:00:00.000Z");
  const endpoint = { id: ENDPOINT, secretSalt: "new", previousSecretSalt: "old", previousSecretExpiresAt: new Date(now.getTime() + 1) };

  it("signs with the current secret, and with the previous one until it expires", () => {
    const current = deriveSigningSecret(KEY, ENDPOINT, "new");
    const previous = deriveSigningSecret(KEY, ENDPOINT, "old");
    expect(signingSecrets(KEY, endpoint, now)).toEqual([current, previous]);
    expect(signingSecrets(KEY, { ...endpoint, previousSecretExpiresAt: now }, now)).toEqual([current]);
    expect(signingSecrets(KEY, { ...endpoint, previousSecretExpiresAt: null }, now)).toEqual([current]);
    expect(signingSecrets(KEY, { ...endpoint, previousSecretSalt: null }, now)).toEqual([current]);
  });
});
