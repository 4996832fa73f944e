import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createDeps } from "../../src/deps.js";
import { testConfig } from "../helpers/config.js";
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

  it("/readyz is 503 naming what is down", async () => {
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
      // and a dead database is a 5xx for API calls, not a hang
      const healthz = await app.inject({ method: "GET", url: "/healthz" });
      expect(healthz.statusCode).toBe(200);
    } finally {
      await app.close();
      deps.redis.disconnect();
      await deps.prisma.$disconnect();
    }
  });
});
