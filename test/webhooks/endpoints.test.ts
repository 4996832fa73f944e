/**
 * /v1/webhook-endpoints as a shop developer uses it: the secret shown once
 * and stored nowhere, validation with field detail, rotation, and one shop
 * never seeing another's endpoints or deliveries.
 */
import type { InjectOptions } from "fastify";
import { beforeAll, describe, expect, it } from "vitest";
import { deriveSigningSecret } from "../../src/modules/webhooks/signature.js";
import { DEVELOPMENT_SIGNING_KEY } from "../../src/modules/webhooks/settings.js";
import { columnsContaining } from "../helpers/db-scan.js";
import { makeShop, request, type TestShop } from "../helpers/factories.js";
import { useWebhookWorld } from "./world.js";

const world = useWebhookWorld({ workers: false });
const MISSING = "01900000-0000-7000-8000-000000000000";

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  secret?: string;
}

let shop: TestShop;
beforeAll(async () => {
  shop = await makeShop(world().app, "Hook Shop");
});

async function createEndpoint(owner: TestShop, payload: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return request(world().app, owner, {
    method: "POST",
    url: "/v1/webhook-endpoints",
    headers,
    payload: { url: "http://127.0.0.1:9/hooks", events: ["question.created"], ...payload },
  });
}

describe("creating an endpoint", () => {
  it("answers 201 with the secret once; the database holds no trace of it", async () => {
    const { deps, schema } = world();
    const response = await createEndpoint(shop, { events: ["session.ended", "question.created", "session.ended"], description: "  CRM sync " });
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json<Endpoint>();
    expect(created).toMatchObject({
      url: "http://127.0.0.1:9/hooks",
      events: ["session.ended", "question.created"],
      description: "CRM sync",
      enabled: true,
      disabledAt: null,
      previousSecretExpiresAt: null,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    // Derived, not stored: the key and the row's salt make it, and no column holds it.
    const row = await deps.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } });
    expect(deriveSigningSecret(DEVELOPMENT_SIGNING_KEY, row.id, row.secretSalt)).toBe(created.secret);
    expect(await columnsContaining(deps.sql, schema, created.secret!)).toEqual([]);
    expect(await columnsContaining(deps.sql, schema, created.secret!.slice("whsec_".length))).toEqual([]);

    const read = await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${created.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty("secret");
    expect(read.body).not.toContain(created.secret);
    const list = await request(world().app, shop, { method: "GET", url: "/v1/webhook-endpoints" });
    expect(list.json<{ data: Endpoint[] }>().data.map((endpoint) => endpoint.id)).toContain(created.id);
    expect(list.body).not.toContain(created.secret);
  });

  it("a retry with the same Idempotency-Key does not replay the secret: 409 naming the endpoint", async () => {
    const { deps, schema } = world();
    const headers = { "idempotency-key": "create-hook-1" };
    const first = await createEndpoint(shop, {}, headers);
    expect(first.statusCode).toBe(201);
    const { id, secret } = first.json<Endpoint>();
    const retry = await createEndpoint(shop, {}, headers);
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toMatchObject({ code: "idempotent-secret-not-replayable", created: { webhookEndpointId: id } });
    expect(retry.body).not.toContain(secret);
    expect(await columnsContaining(deps.sql, schema, secret!)).toEqual([]);
  });

  it.each([
    [{ url: "not a url" }, "body.url", "must be an absolute URL such as https://shop.example/webhooks"],
    [{ url: "ftp://127.0.0.1/hooks" }, "body.url", "must be an https:// URL"],
    [{ url: "https://user:secret@hooks.example/" }, "body.url", "must not contain a user name or password; verify the Expertline-Signature header instead"],
    [{ url: "http://127.0.0.1/hooks#top" }, "body.url", "must not contain a #fragment"],
  ])("refuses %j with a 400 naming the field", async (payload, path, message) => {
    const response = await createEndpoint(shop, payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: "webhook-url-refused", errors: [{ path, message }] });
  });

  it.each([
    [{ events: ["question.answered"] }, "body.events.0"],
    [{ events: [] }, "body.events"],
    [{ events: "question.created" }, "body.events"],
    [{ url: "" }, "body.url"],
    [{ url: 42 }, "body.url"],
    [{ url: `http://127.0.0.1/${"a".repeat(2100)}` }, "body.url"],
    [{ description: "x".repeat(501) }, "body.description"],
    [{ description: "nul\u0000" }, "body.description"],
  ])("validates %j: 400 with the failing field", async (payload, path) => {
    const response = await createEndpoint(shop, payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: "validation-error", errors: expect.arrayContaining([expect.objectContaining({ path })]) });
  });

  it("names the accepted events when one is unknown, and takes * for all", async () => {
    const refused = await createEndpoint(shop, { events: ["question.created", "payout.sent"] });
    expect(refused.json<{ errors: { message: string }[] }>().errors[0]?.message).toBe(
      "must be one of question.created, question.assigned, question.expired, question.cancelled, session.started, session.ended, rating.created, " +
        "payout.created, payout.approved, payout.held, payout.rejected, payout.transferred, payout.paid, payout.failed, webhook_endpoint.disabled, *",
    );
    const all = await createEndpoint(shop, { events: ["*"] });
    expect(all.statusCode).toBe(201);
    expect(all.json<Endpoint>().events).toEqual(["*"]);
  });

  it("allows 16 endpoints per shop, then 409", async () => {
    const busy = await makeShop(world().app, "Busy Hooks");
    for (let i = 0; i < 16; i++) expect((await createEndpoint(busy, { url: `http://127.0.0.1:9/hooks/${i}` })).statusCode).toBe(201);
    const seventeenth = await createEndpoint(busy);
    expect(seventeenth.statusCode).toBe(409);
    expect(seventeenth.json()).toMatchObject({ code: "webhook-endpoint-limit" });
  });
});

describe("changing an endpoint", () => {
  it("PATCH changes url, events and description, and turns it off and on", async () => {
    const { id } = (await createEndpoint(shop)).json<Endpoint>();
    const patch = (payload: Record<string, unknown>) => request(world().app, shop, { method: "PATCH", url: `/v1/webhook-endpoints/${id}`, payload });
    const changed = await patch({ url: "http://127.0.0.1:10/new", events: ["*"], description: "all of it" });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ url: "http://127.0.0.1:10/new", events: ["*"], description: "all of it", enabled: true });

    const off = await patch({ enabled: false });
    expect(off.json()).toMatchObject({ enabled: false, disabledReason: "Disabled by the shop" });
    expect(off.json<Endpoint>().disabledAt).not.toBeNull();
    const on = await patch({ enabled: true });
    expect(on.json()).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });

    expect((await patch({})).json()).toMatchObject({ code: "validation-error" });
    expect((await patch({ url: "gopher://x" })).json()).toMatchObject({ code: "webhook-url-refused", errors: [{ path: "body.url" }] });
    expect((await patch({ enabled: "yes" })).statusCode).toBe(400);
  });

  it("DELETE removes it: then 404", async () => {
    const { id } = (await createEndpoint(shop)).json<Endpoint>();
    expect((await request(world().app, shop, { method: "DELETE", url: `/v1/webhook-endpoints/${id}` })).statusCode).toBe(204);
    expect((await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${id}` })).statusCode).toBe(404);
    expect((await request(world().app, shop, { method: "DELETE", url: `/v1/webhook-endpoints/${id}` })).statusCode).toBe(404);
  });
});

describe("rotating the secret", () => {
  it("shows a new secret once; the old one signs until the grace period ends (0: at once)", async () => {
    const { deps, clock } = world();
    const created = (await createEndpoint(shop)).json<Endpoint>();
    const rotate = (payload?: Record<string, unknown>) =>
      request(world().app, shop, { method: "POST", url: `/v1/webhook-endpoints/${created.id}/rotate-secret`, ...(payload ? { payload } : {}) });

    const before = clock.now().getTime();
    const rotated = await rotate();
    expect(rotated.statusCode, rotated.body).toBe(200);
    const body = rotated.json<Endpoint>();
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(created.secret);
    // One day by default.
    const expires = Date.parse(body.previousSecretExpiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(expires).toBeLessThanOrEqual(clock.now().getTime() + 86_400_000);
    const row = await deps.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } });
    expect(deriveSigningSecret(DEVELOPMENT_SIGNING_KEY, row.id, row.previousSecretSalt!)).toBe(created.secret);

    const now = await rotate({ expiresInSeconds: 0 });
    expect(now.json()).toMatchObject({ previousSecretExpiresAt: null });
    expect((await deps.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: created.id } })).previousSecretSalt).toBeNull();

    for (const bad of [{ expiresInSeconds: -1 }, { expiresInSeconds: 1.5 }, { expiresInSeconds: 8 * 86_400 }, { expiresInSeconds: "soon" }]) {
      const refused = await rotate(bad);
      expect(refused.statusCode, JSON.stringify(bad)).toBe(400);
      expect(refused.json()).toMatchObject({ errors: [expect.objectContaining({ path: "body.expiresInSeconds" })] });
    }
  });
});

describe("redelivery", () => {
  it("queues one attempt however often it is asked before that attempt runs (no worker runs in this file)", async () => {
    const { app, deps } = world();
    const owner = await makeShop(app);
    const endpoint = (await createEndpoint(owner)).json<Endpoint>();
    const event = await deps.prisma.webhookEvent.create({ data: { shopId: owner.id, type: "question.created", data: {}, dedupeKey: `redeliver:${owner.id}` } });
    const delivery = await deps.prisma.webhookDelivery.create({ data: { endpointId: endpoint.id, eventId: event.id, status: "succeeded", attempts: 1 } });
    const url = `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/redeliver`;
    for (let click = 0; click < 3; click++) {
      const response = await request(app, owner, { method: "POST", url });
      expect(response.statusCode, response.body).toBe(202);
      expect(response.json()).toMatchObject({ id: delivery.id, status: "succeeded", attempts: 1, nextAttemptAt: expect.any(String) });
    }
    const jobs = await deps.prisma.outboxEvent.findMany({ where: { jobId: { startsWith: `webhook-redeliver-${delivery.id}` } } });
    expect(jobs.map((job) => [job.jobId, job.payload])).toEqual([[`webhook-redeliver-${delivery.id}-2`, { deliveryId: delivery.id, attempt: 2, manual: true }]]);
  });
});

describe("tenant isolation", () => {
  let owner: TestShop;
  let intruder: TestShop;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const { app, deps } = world();
    owner = await makeShop(app, "Owner Hooks");
    intruder = await makeShop(app, "Intruder Hooks");
    ids.endpoint = (await createEndpoint(owner)).json<Endpoint>().id;
    // A delivery of the owner's, as the fan-out would make it.
    const event = await deps.prisma.webhookEvent.create({ data: { shopId: owner.id, type: "question.created", data: {}, dedupeKey: `tenancy:${owner.id}` } });
    ids.delivery = (await deps.prisma.webhookDelivery.create({ data: { endpointId: ids.endpoint, eventId: event.id, status: "failed", attempts: 1 } })).id;
    ids.intruderEndpoint = (await createEndpoint(intruder)).json<Endpoint>().id;
  });

  const probes: Record<string, (endpointId: string, deliveryId: string) => InjectOptions> = {
    "GET endpoint": (id) => ({ method: "GET", url: `/v1/webhook-endpoints/${id}` }),
    "PATCH endpoint": (id) => ({ method: "PATCH", url: `/v1/webhook-endpoints/${id}`, payload: { url: "http://127.0.0.1:9/pwned" } }),
    "DELETE endpoint": (id) => ({ method: "DELETE", url: `/v1/webhook-endpoints/${id}` }),
    "rotate secret": (id) => ({ method: "POST", url: `/v1/webhook-endpoints/${id}/rotate-secret` }),
    "GET deliveries": (id) => ({ method: "GET", url: `/v1/webhook-endpoints/${id}/deliveries` }),
    "GET delivery": (id, delivery) => ({ method: "GET", url: `/v1/webhook-endpoints/${id}/deliveries/${delivery}` }),
    "redeliver": (id, delivery) => ({ method: "POST", url: `/v1/webhook-endpoints/${id}/deliveries/${delivery}/redeliver` }),
  };

  const strip = (body: string) => {
    const { requestId: _r, instance: _i, ...rest } = JSON.parse(body) as Record<string, unknown>;
    return rest;
  };

  it.each(Object.keys(probes))("%s with another shop's ids is a 404 identical to a missing one", async (name) => {
    const probe = probes[name]!;
    const { app } = world();
    const foreign = await request(app, intruder, probe(ids.endpoint!, ids.delivery!));
    const missing = await request(app, intruder, probe(MISSING, MISSING));
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(strip(foreign.body)).toEqual(strip(missing.body));
    // The owner's delivery under the intruder's own endpoint is no way in either.
    if (name.includes("deliver") && name !== "GET deliveries") {
      const crossed = await request(app, intruder, probe(ids.intruderEndpoint!, ids.delivery!));
      expect(crossed.statusCode).toBe(404);
    }
  });

  it("leaves the owner's endpoint as it was, and lists only one's own", async () => {
    const { app } = world();
    const mine = await request(app, owner, { method: "GET", url: `/v1/webhook-endpoints/${ids.endpoint}` });
    expect(mine.json()).toMatchObject({ url: "http://127.0.0.1:9/hooks", enabled: true });
    const theirs = await request(app, intruder, { method: "GET", url: "/v1/webhook-endpoints" });
    expect(theirs.json<{ data: Endpoint[] }>().data.map((endpoint) => endpoint.id)).toEqual([ids.intruderEndpoint]);
    expect((await request(app, owner, { method: "GET", url: `/v1/webhook-endpoints/${ids.endpoint}/deliveries` })).json().data).toHaveLength(1);
  });

  it("needs a shop key", async () => {
    const response = await world().app.inject({ method: "GET", url: "/v1/webhook-endpoints" });
    expect(response.statusCode).toBe(401);
  });
});
