/**
 * What happens the moment an endpoint is disabled, seen from the worker
 * that does it: the reason on the endpoint, a warning in the log that names
 * the endpoint and its host (never the full URL, whose query may be
 * private), and WEBHOOK_SIGNING_KEY required before production starts.
 */
import { DelayedError } from "bullmq";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/lib/logger.js";
import { attemptDelivery, fanOutEvent } from "../../src/modules/webhooks/delivery.js";
import { testConfig } from "../helpers/config.js";
import { makeShop, request } from "../helpers/factories.js";
import { startReceiver, useWebhookWorld } from "./world.js";

const world = useWebhookWorld({ workers: false });
const never = { delayUntil: () => Promise.reject(new DelayedError()) };

describe("disabling an endpoint", () => {
  it("the attempt that ends 3 days of failures disables it and logs a warning with the host only", async () => {
    const { app, deps, clock } = world();
    const shop = await makeShop(app);
    const hooks = await startReceiver();
    try {
      hooks.answer(() => ({ status: 503, body: "maintenance" }));
      const created = await request(app, shop, { method: "POST", url: "/v1/webhook-endpoints", payload: { url: `${hooks.url}/down?token=private-bit`, events: ["*"] } });
      const endpoint = created.json<{ id: string }>();
      const eventId = await world().emit(shop.id);
      await fanOutEvent(deps, eventId!);
      // This delivery was first due three days ago and has failed ever since; this is its last try.
      const delivery = await deps.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
      await deps.prisma.webhookDelivery.update({ where: { id: delivery.id }, data: { createdAt: new Date(clock.now().getTime() - 72 * 3600_000) } });

      const lines: Record<string, unknown>[] = [];
      const logger = createLogger({ level: "warn", destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
      await attemptDelivery({ ...deps, logger }, { deliveryId: delivery.id, attempt: 1, manual: false }, never);

      const reason = "Disabled after 3 days of failed deliveries with no success (last attempt: answered 503)";
      expect(await deps.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: "failed", attempts: 1, nextAttemptAt: null });
      expect(await deps.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toMatchObject({ enabled: false, disabledReason: reason });
      expect(lines).toEqual([
        expect.objectContaining({ level: 40, msg: "webhook endpoint disabled", endpointId: endpoint.id, shopId: shop.id, host: `127.0.0.1:${hooks.port}`, reason }),
      ]);
      expect(JSON.stringify(lines)).not.toContain("private-bit");
      // The record of it stays among the shop's events, though no other endpoint wanted it.
      expect(await deps.prisma.webhookEvent.findFirst({ where: { shopId: shop.id, type: "webhook_endpoint.disabled" } })).toMatchObject({
        data: { endpointId: endpoint.id, reason },
      });
    } finally {
      await hooks.close();
    }
  });
});

describe("configuration", () => {
  it("production does not start without WEBHOOK_SIGNING_KEY; elsewhere a public development key signs", () => {
    const base = {
      DATABASE_URL: "postgresql://x@127.0.0.1:5432/x",
      REDIS_URL: "redis://127.0.0.1:6379",
      PUBLIC_BASE_URL: "https://api.example.com",
      ADMIN_API_KEY: "a".repeat(32),
      TWILIO_ACCOUNT_SID: `AC${"f".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "t".repeat(32),
      STRIPE_SECRET_KEY: "sk_test_1",
      STRIPE_WEBHOOK_SECRET: "whsec_1",
    };
    expect(() => loadConfig({ ...base, NODE_ENV: "production" })).toThrow(
      "config: WEBHOOK_SIGNING_KEY is required when NODE_ENV=production (32 or more random characters) (see .env.example)",
    );
    expect(() => loadConfig({ ...base, NODE_ENV: "production", WEBHOOK_SIGNING_KEY: "short" })).toThrow("config: WEBHOOK_SIGNING_KEY must be at least 32 characters");
    expect(loadConfig({ ...base, NODE_ENV: "production", WEBHOOK_SIGNING_KEY: "k".repeat(32) })).toMatchObject({ WEBHOOK_TIMEOUT_MS: 10_000 });
    expect(testConfig().WEBHOOK_SIGNING_KEY).toBeUndefined();
  });
});
