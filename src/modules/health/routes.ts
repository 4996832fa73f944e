import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";

const CHECK_TIMEOUT_MS = 1_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS).unref()),
  ]);
}

async function check(probe: () => Promise<unknown>): Promise<"ok" | "down"> {
  try {
    await withTimeout(probe());
    return "ok";
  } catch {
    return "down";
  }
}

const readiness = z.object({
  status: z.enum(["ok", "unavailable"]),
  checks: z.object({ postgres: z.enum(["ok", "down"]), redis: z.enum(["ok", "down"]) }),
});

export const healthRoutes: RoutesPlugin<{ deps: Pick<Deps, "prisma" | "redis"> }> = async (app, { deps }) => {
  app.get(
    "/healthz",
    { schema: { tags: ["health"], summary: "The process is alive", response: { 200: z.object({ status: z.literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "PostgreSQL and Redis answer (503 otherwise)",
        response: { 200: readiness, 503: readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([
        check(() => deps.prisma.$queryRaw`SELECT 1`),
        check(() => deps.redis.ping()),
      ]);
      const ok = postgres === "ok" && redis === "ok";
      return reply.code(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", checks: { postgres, redis } });
    },
  );
};
