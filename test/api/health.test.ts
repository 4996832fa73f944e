import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createDeps } from "../../src/deps.js";
import { TEST_ADMIN_KEY, testConfig } from "../helpers/config.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();

describe("health", () => {
  it("/healthz answers while the process lives", async () => {
    const response = await ctx().app.inject({ method: "GET", url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("/readyz checks PostgreSQL and Redis", async () => {
    const response = await ctx().app.inject({ method: "GET", url: "/readyz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", checks: { postgres: "ok", redis: "ok" } });
  });

  it("/readyz is 503 naming what is down, and API calls that need the database are a 503 problem", async () => {
    // Ports nothing listens on: both dependencies are unreachable.
    const config = testConfig({
      DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none",
      REDIS_URL: "redis://127.0.0.1:1",
    });
    const deps = createDeps(config, { logger: ctx().deps.logger });
    deps.redis.on("error", () => {});
    const app = await buildApp(deps);
    try {
      const response = await app.inject({ method: "GET", url: "/readyz" });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: "unavailable", checks: { postgres: "down", redis: "down" } });
      // Liveness does not depend on the database: a restart would not help.
      const healthz = await app.inject({ method: "GET", url: "/healthz" });
      expect(healthz.statusCode).toBe(200);

      // API calls that need the database: a prompt 503 problem with Retry-After, not a 500 or a hang.
      for (const [url, authorization] of [
        ["/v1/shop", `Bearer el_live_AAAAAAAA_${"B".repeat(32)}`],
        ["/v1/admin/shops", `Bearer ${TEST_ADMIN_KEY}`],
      ] as const) {
        const started = Date.now();
        const api = await app.inject({ method: "GET", url, headers: { authorization } });
        expect(api.statusCode, `${url}: ${api.body}`).toBe(503);
        expect(api.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(api.headers["retry-after"]).toBe("5");
        expect(api.json()).toMatchObject({
          type: "urn:expertline:problem:database-unavailable",
          title: "Service Unavailable",
          status: 503,
          detail: expect.any(String),
          instance: url,
        });
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      await app.close();
      deps.redis.disconnect();
      await deps.prisma.$disconnect();
    }
  });
});
