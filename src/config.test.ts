import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const valid = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/expertline",
  REDIS_URL: "redis://127.0.0.1:6379",
  PUBLIC_BASE_URL: "https://api.example.com/",
  ADMIN_API_KEY: "a".repeat(32),
  TWILIO_ACCOUNT_SID: `AC${"f".repeat(32)}`,
  TWILIO_AUTH_TOKEN: "t".repeat(32),
  STRIPE_SECRET_KEY: "sk_test_123",
  STRIPE_WEBHOOK_SECRET: "whsec_123",
};

describe("loadConfig", () => {
  it("parses a complete environment with defaults", () => {
    const config = loadConfig(valid);
    expect(config.PORT).toBe(3000);
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.PUBLIC_BASE_URL).toBe("https://api.example.com"); // trailing slash dropped
    expect(config.TWILIO_API_BASE_URL).toBeUndefined();
  });

  it("coerces numbers", () => {
    expect(loadConfig({ ...valid, PORT: "8080" }).PORT).toBe(8080);
  });

  it("gives the SMS pumping guard's limits defaults, and takes them from the environment", () => {
    expect(loadConfig(valid)).toMatchObject({
      SMS_GUARD_SHOP_PER_MINUTE: 120,
      SMS_GUARD_DESTINATION_PER_HOUR: 5,
      SMS_GUARD_DESTINATION_PER_DAY: 20,
    });
    const set = loadConfig({
      ...valid,
      SMS_GUARD_SHOP_PER_MINUTE: "600",
      SMS_GUARD_DESTINATION_PER_HOUR: "2",
      SMS_GUARD_DESTINATION_PER_DAY: "8",
    });
    expect(set).toMatchObject({ SMS_GUARD_SHOP_PER_MINUTE: 600, SMS_GUARD_DESTINATION_PER_HOUR: 2, SMS_GUARD_DESTINATION_PER_DAY: 8 });
    expect(() => loadConfig({ ...valid, SMS_GUARD_DESTINATION_PER_HOUR: "0" })).toThrow("config: SMS_GUARD_DESTINATION_PER_HOUR");
    expect(() => loadConfig({ ...valid, SMS_GUARD_SHOP_PER_MINUTE: "1.5" })).toThrow("config: SMS_GUARD_SHOP_PER_MINUTE");
  });

  it("keeps BullMQ's 30 s job lock and stall check by default; the stall check follows a shorter lock unless set", () => {
    expect(loadConfig(valid)).toMatchObject({ JOB_LOCK_MS: 30_000 });
    expect(loadConfig(valid).JOB_STALLED_INTERVAL_MS).toBeUndefined();
    expect(loadConfig({ ...valid, JOB_LOCK_MS: "2000", JOB_STALLED_INTERVAL_MS: "1000" })).toMatchObject({ JOB_LOCK_MS: 2000, JOB_STALLED_INTERVAL_MS: 1000 });
    expect(() => loadConfig({ ...valid, JOB_LOCK_MS: "10" })).toThrow("config: JOB_LOCK_MS");
  });

  it.each([
    [{ DATABASE_URL: undefined }, "config: DATABASE_URL is not set (see .env.example)"],
    [{ DATABASE_URL: "" }, "config: DATABASE_URL is not set (see .env.example)"],
    [{ DATABASE_URL: "mysql://x" }, "config: DATABASE_URL must be a postgresql:// URL (see .env.example)"],
    [{ PORT: "eighty" }, "config: PORT"],
    [{ ADMIN_API_KEY: "short" }, "config: ADMIN_API_KEY must be at least 24 characters"],
    [{ TWILIO_ACCOUNT_SID: "AC123" }, "config: TWILIO_ACCOUNT_SID must look like AC"],
    [{ STRIPE_SECRET_KEY: "pk_test_1" }, "config: STRIPE_SECRET_KEY must start with sk_test_"],
    [{ LOG_LEVEL: "loud" }, "config: LOG_LEVEL"],
  ])("names the bad variable: %o", (change, message) => {
    const env: Record<string, string | undefined> = { ...valid, ...change };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("reports one line", () => {
    try {
      loadConfig({});
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });
});
