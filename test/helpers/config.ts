import { loadConfig, type Config } from "../../src/config.js";

export const TEST_ADMIN_KEY = "test-admin-key-0123456789abcdef";

/** Test configuration: real PostgreSQL and Redis on this machine, sandbox-shaped provider credentials. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgresql://expertline:expertline@127.0.0.1:5432/expertline_test",
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0",
    PUBLIC_BASE_URL: "http://expertline.test",
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
    TWILIO_AUTH_TOKEN: "test-twilio-auth-token-0123",
    STRIPE_SECRET_KEY: "sk_test_expertline",
    STRIPE_WEBHOOK_SECRET: "whsec_expertline",
    ...overrides,
  });
}
