import { describe, expect, it } from "vitest";
import { sandboxRefusal } from "./production-guard.js";

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
