import { describe, expect, it } from "vitest";
import { sandboxRefusal, stripeSandboxRefusal } from "./production-guard.js";

const SANDBOX_URL = "http://127.0.0.1:3001";

describe("sandboxRefusal", () => {
  it("refuses production with one line that says why, and suggests no NODE_ENV the image cannot run", () => {
    const line = sandboxRefusal({ nodeEnv: "production", twilioApiBaseUrl: SANDBOX_URL });
    expect(line).toMatch(/^sandbox: refusing to start with NODE_ENV=production/);
    expect(line).not.toContain("\n");
    // development turns on pino-pretty, which the production image does not carry
    expect(line).not.toMatch(/NODE_ENV=development/);
  });

  it.each(["development", "test", undefined])("lets %s through when the app is pointed at a sandbox", (nodeEnv) => {
    expect(sandboxRefusal({ nodeEnv, twilioApiBaseUrl: SANDBOX_URL })).toBeNull();
  });

  // Without TWILIO_API_BASE_URL the app talks to real Twilio, so the token the
  // sandbox would sign webhooks with is a real one (docker compose shares it).
  it.each([undefined, ""])("refuses when TWILIO_API_BASE_URL is %j, in any NODE_ENV", (twilioApiBaseUrl) => {
    for (const nodeEnv of ["development", "test"]) {
      const line = sandboxRefusal({ nodeEnv, twilioApiBaseUrl });
      expect(line).toMatch(/^sandbox: refusing to start without TWILIO_API_BASE_URL \(unset, the app talks to real Twilio/);
      expect(line).not.toContain("\n");
    }
  });
});

describe("stripeSandboxRefusal", () => {
  const STRIPE_URL = "http://127.0.0.1:3002";

  it.each(["development", "test", undefined])("lets %s through with a test-mode key and STRIPE_API_BASE_URL", (nodeEnv) => {
    expect(stripeSandboxRefusal({ nodeEnv, stripeApiBaseUrl: STRIPE_URL, stripeSecretKey: "sk_test_sandbox" })).toBeNull();
  });

  it("refuses production, a missing STRIPE_API_BASE_URL and any key but sk_test_, each in one line", () => {
    const lines = [
      stripeSandboxRefusal({ nodeEnv: "production", stripeApiBaseUrl: STRIPE_URL, stripeSecretKey: "sk_test_sandbox" }),
      stripeSandboxRefusal({ nodeEnv: "development", stripeApiBaseUrl: undefined, stripeSecretKey: "sk_test_sandbox" }),
      stripeSandboxRefusal({ nodeEnv: "development", stripeApiBaseUrl: "", stripeSecretKey: "sk_test_sandbox" }),
      ...["sk_live_abc", "rk_test_abc", "rk_live_abc"].map((stripeSecretKey) => stripeSandboxRefusal({ nodeEnv: "development", stripeApiBaseUrl: STRIPE_URL, stripeSecretKey })),
    ];
    expect(lines[0]).toMatch(/NODE_ENV=production/);
    expect(lines[1]).toMatch(/without STRIPE_API_BASE_URL/);
    expect(lines[2]).toMatch(/without STRIPE_API_BASE_URL/);
    for (const line of lines.slice(3)) expect(line).toMatch(/not a test-mode secret key/);
    for (const line of lines) {
      expect(line).toMatch(/^sandbox: refusing to start the Stripe sandbox/);
      expect(line).not.toContain("\n");
    }
  });
});
