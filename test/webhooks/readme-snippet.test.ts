/**
 * The verification snippet in README.md is code a shop copies: it is
 * extracted from the README and run here against signatures the product
 * makes, so the two cannot drift apart.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/modules/webhooks/signature.js";
import { readmeVerifier, type Verify } from "./world.js";

let verify: Verify;
beforeAll(async () => {
  verify = await readmeVerifier();
});

const body = '{"id":"evt_0190a0b0000070008000000000000001","type":"question.created","createdAt":"2026-12-01T12:00:00.000Z","data":{}}';
const secret = "whsec_current";
const now = Date.parse("2026-12-01T12:00:00.000Z");
const t = now / 1000;

describe("the README's verification snippet", () => {
  it("accepts what the product signs, with the current secret or the one being rotated out", () => {
    const header = signatureHeader({ timestamp: t, body, secrets: [secret, "whsec_previous"] });
    expect(verify(body, header, secret, { now })).toBe(true);
    expect(verify(body, header, "whsec_previous", { now })).toBe(true);
    expect(verify(body, signatureHeader({ timestamp: t, body, secrets: [secret] }), secret, { now })).toBe(true);
  });

  it("refuses another secret, another body, and a missing or malformed header", () => {
    const header = signatureHeader({ timestamp: t, body, secrets: [secret] });
    expect(verify(body, header, "whsec_other", { now })).toBe(false);
    expect(verify(body.replace("question.created", "question.cancelled"), header, secret, { now })).toBe(false);
    expect(verify(body, undefined, secret, { now })).toBe(false);
    expect(verify(body, "", secret, { now })).toBe(false);
    expect(verify(body, header.replace(/v1=[0-9a-f]+/, "v1="), secret, { now })).toBe(false);
    expect(verify(body, header.replace(/v1=[0-9a-f]+/, "v1=zz"), secret, { now })).toBe(false);
    expect(verify(body, header.replace(/^t=\d+/, "t=soon"), secret, { now })).toBe(false);
    // a signature moved to another timestamp no longer matches
    expect(verify(body, header.replace(`t=${t}`, `t=${t + 1}`), secret, { now })).toBe(false);
  });

  it("refuses a timestamp older or newer than the tolerance (a replayed request)", () => {
    const header = signatureHeader({ timestamp: t, body, secrets: [secret] });
    expect(verify(body, header, secret, { now: now + 300_000 })).toBe(true);
    expect(verify(body, header, secret, { now: now + 301_000 })).toBe(false);
    expect(verify(body, header, secret, { now: now - 301_000 })).toBe(false);
    expect(verify(body, header, secret, { now: now + 3_600_000, toleranceSeconds: 3_600 })).toBe(true);
  });

  it("checks against the real clock by default", () => {
    const fresh = Math.floor(Date.now() / 1000);
    expect(verify(body, signatureHeader({ timestamp: fresh, body, secrets: [secret] }), secret)).toBe(true);
    expect(verify(body, signatureHeader({ timestamp: fresh - 3_600, body, secrets: [secret] }), secret)).toBe(false);
  });
});
