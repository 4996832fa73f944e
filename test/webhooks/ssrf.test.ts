/**
 * SSRF: in production an endpoint must be https on public addresses; in
 * development and tests http:// and loopback are taken too, and nothing else
 * (no metadata, link-local or private address). Checked at registration (a
 * 400 naming body.url) and again at every delivery, where the host is
 * resolved, every address checked, and the connection pinned to the checked
 * address. Refusals happen before any connection is tried: the receivers
 * below count connections, and the network guard (test/helpers/no-network.ts)
 * fails any attempt to reach beyond 127.0.0.1. What a name resolved to is
 * logged, never told to the shop.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DelayedError } from "bullmq";
import { attemptDelivery, fanOutEvent, type WebhookDeps } from "../../src/modules/webhooks/delivery.js";
import { createWebhookService } from "../../src/modules/webhooks/service.js";
import { webhookSettings } from "../../src/modules/webhooks/settings.js";
import type { ResolveHost } from "../../src/modules/webhooks/transport.js";
import { createLogger } from "../../src/lib/logger.js";
import { DomainError } from "../../src/lib/problems.js";
import { makeShop, request, type TestShop } from "../helpers/factories.js";
import { startReceiver, useWebhookWorld } from "./world.js";

const SIGNING_KEY = "production-like-webhook-signing-key-0123456789";
const world = useWebhookWorld({ workers: false, config: { NODE_ENV: "production", WEBHOOK_SIGNING_KEY: SIGNING_KEY } });
/** A public address; nothing ever connects to it here (the tests stop before, or the resolver is ours). */
const PUBLIC = "93.184.215.14";

let shop: TestShop;
beforeAll(async () => {
  shop = await makeShop(world().app, "Careful Shop");
});

const register = (url: string) =>
  request(world().app, shop, { method: "POST", url: "/v1/webhook-endpoints", payload: { url, events: ["question.created"] } });

/** DNS as the test wants it, changed at will, with every name looked up remembered. */
function fakeDns(answers: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    const addresses = answers[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }) as const);
  };
  return { resolve, asked, answers };
}

const never = { delayUntil: () => Promise.reject(new DelayedError()) };

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "info", destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

/** As in development: the default outside production, with no setting at all. */
function developmentDeps(deps: WebhookDeps): WebhookDeps {
  return { ...deps, config: { ...deps.config, NODE_ENV: "development" } };
}

/** An endpoint as if registered under another policy (or before this one): straight into the table. */
async function storedEndpoint(url: string) {
  return world().deps.prisma.webhookEndpoint.create({ data: { shopId: shop.id, url, events: ["question.created"], secretSalt: "salt" } });
}

/** Fans the shop's latest event out and runs the first attempt of `endpointId`'s delivery, as the worker would. */
async function deliverOnce(deps: WebhookDeps, endpointId: string) {
  const { prisma } = world().deps;
  const event = await prisma.webhookEvent.findFirstOrThrow({ where: { shopId: shop.id }, orderBy: { id: "desc" } });
  await fanOutEvent(deps, event.id);
  const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId, eventId: event.id } });
  await attemptDelivery(deps, { deliveryId: delivery.id, attempt: 1, manual: false }, never);
  return prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id }, include: { history: true } });
}

describe("the setting", () => {
  it("loopback URLs are taken outside production, or where WEBHOOK_ALLOW_LOOPBACK_URLS (old name: WEBHOOK_ALLOW_PRIVATE_URLS) says so", () => {
    const production = world().config;
    expect(webhookSettings(production)).toMatchObject({ allowLoopback: false, signingKey: SIGNING_KEY });
    expect(webhookSettings({ ...production, WEBHOOK_ALLOW_LOOPBACK_URLS: "true" }).allowLoopback).toBe(true);
    expect(webhookSettings({ ...production, WEBHOOK_ALLOW_PRIVATE_URLS: "true" }).allowLoopback).toBe(true);
    expect(webhookSettings({ ...production, WEBHOOK_ALLOW_PRIVATE_URLS: "true", WEBHOOK_ALLOW_LOOPBACK_URLS: "false" }).allowLoopback).toBe(false);
    expect(webhookSettings({ ...production, NODE_ENV: "development" }).allowLoopback).toBe(true);
    expect(webhookSettings({ ...production, NODE_ENV: "test" }).allowLoopback).toBe(true);
    expect(webhookSettings({ ...production, NODE_ENV: "development", WEBHOOK_ALLOW_LOOPBACK_URLS: "false" }).allowLoopback).toBe(false);
    expect(webhookSettings({ ...production, NODE_ENV: "development", WEBHOOK_ALLOW_PRIVATE_URLS: "false" }).allowLoopback).toBe(false);
  });
});

describe("registration", () => {
  it.each([
    ["https://169.254.169.254/latest/meta-data/", "must not point to 169.254.169.254: a cloud metadata address"],
    ["http://169.254.169.254/latest/meta-data/", "must be an https:// URL"],
    ["https://10.0.0.5/hooks", "must not point to 10.0.0.5: a private address"],
    ["https://192.168.1.20/hooks", "must not point to 192.168.1.20: a private address"],
    ["https://127.0.0.1:3000/hooks", "must not point to 127.0.0.1: a loopback address"],
    ["https://localhost/hooks", "must not point to localhost: a loopback address"],
    ["https://[::1]/hooks", "must not point to ::1: a loopback address"],
    ["https://[::ffff:10.0.0.5]/hooks", "must not point to ::ffff:a00:5: a private address"],
    ["https://[fd00:ec2::254]/", "must not point to fd00:ec2::254: a cloud metadata address"],
    ["https://100.100.100.200/", "must not point to 100.100.100.200: a shared (carrier-grade NAT) address"],
    [`http://${PUBLIC}/hooks`, "must be an https:// URL"],
  ])("refuses %s: 400 naming body.url", async (url, message) => {
    const response = await register(url);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: "webhook-url-refused", errors: [{ path: "body.url", message }] });
    expect(response.json<{ detail: string }>().detail).toBe(`The webhook URL is refused: it ${message}`);
  });

  it("takes a public https address", async () => {
    expect((await register(`https://${PUBLIC}/hooks`)).statusCode).toBe(201);
  });

  it("resolves a name and refuses it when any address is private, or when it does not resolve; which address, only our log says", async () => {
    const { deps } = world();
    const dns = fakeDns({ "hooks.shop.example": [PUBLIC], "sneaky.shop.example": [PUBLIC, "127.0.0.1"], "inside.shop.example": ["10.1.2.3"] });
    const { logger, lines } = capturingLogger();
    const webhooks = createWebhookService({ ...deps, logger, resolveHost: dns.resolve });
    const create = (url: string) => webhooks.createEndpoint(shop.id, { url, events: ["question.created"] });

    await expect(create("https://hooks.shop.example/events")).resolves.toMatchObject({ url: "https://hooks.shop.example/events" });
    for (const [url, message] of [
      ["https://sneaky.shop.example/events?key=k1", "must point to public addresses only: sneaky.shop.example resolves to a non-public address"],
      ["https://inside.shop.example/events", "must point to public addresses only: inside.shop.example resolves to a non-public address"],
      ["https://nowhere.shop.example/events", "must name a host that resolves: nowhere.shop.example does not"],
    ] as const) {
      const refusal = await create(url).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(DomainError);
      expect(refusal).toMatchObject({ status: 400, code: "webhook-url-refused", message: `The webhook URL is refused: it ${message}`, errors: [{ path: "body.url", message }] });
    }
    expect(dns.asked).toEqual(["hooks.shop.example", "sneaky.shop.example", "inside.shop.example", "nowhere.shop.example"]);
    expect(lines).toEqual([
      expect.objectContaining({ shopId: shop.id, host: "sneaky.shop.example", detail: "sneaky.shop.example resolves to 127.0.0.1, a loopback address" }),
      expect.objectContaining({ shopId: shop.id, host: "inside.shop.example", detail: "inside.shop.example resolves to 10.1.2.3, a private address" }),
    ]);
    expect(JSON.stringify(lines)).not.toContain("k1");
  });
});

describe("in development and tests (loopback allowed)", () => {
  it.each([
    ["http://169.254.169.254/latest/meta-data/", "must not point to 169.254.169.254: a cloud metadata address"],
    ["http://[fd00:ec2::254]/", "must not point to fd00:ec2::254: a cloud metadata address"],
    ["http://169.254.170.2/v2/credentials", "must not point to 169.254.170.2: a link-local address"],
    ["http://[fe80::1]/", "must not point to fe80::1: a link-local address"],
    ["http://10.0.0.5/hooks", "must not point to 10.0.0.5: a private address"],
    ["http://192.168.1.20/hooks", "must not point to 192.168.1.20: a private address"],
    ["http://metadata.shop.example/", "must point to public addresses only: metadata.shop.example resolves to a non-public address"],
    ["http://postgres:5432/", "must point to public addresses only: postgres resolves to a non-public address"],
  ])("registration refuses %s", async (url, message) => {
    const dns = fakeDns({ "metadata.shop.example": ["169.254.169.254"], postgres: ["172.18.0.3"] });
    const webhooks = createWebhookService({ ...developmentDeps(world().deps), resolveHost: dns.resolve });
    await expect(webhooks.createEndpoint(shop.id, { url, events: ["question.created"] })).rejects.toMatchObject({
      status: 400,
      code: "webhook-url-refused",
      errors: [{ path: "body.url", message }],
    });
  });

  it("registration takes http:// on loopback, by address or by localhost, which is this machine without asking DNS", async () => {
    const dns = fakeDns({});
    const webhooks = createWebhookService({ ...developmentDeps(world().deps), resolveHost: dns.resolve });
    for (const url of ["http://127.0.0.1:9/hooks", "http://[::1]:9/hooks", "http://localhost:9/hooks", "http://hooks.localhost:9/hooks"]) {
      await expect(webhooks.createEndpoint(shop.id, { url, events: ["question.created"] })).resolves.toMatchObject({ url });
    }
    expect(dns.asked).toEqual([]);
  });

  it("delivery refuses a stored metadata address, and a name that now resolves to a private one, without connecting", async () => {
    const receiver = await startReceiver();
    try {
      const dns = fakeDns({ "hooks.shop.example": ["127.0.0.1"] });
      const { logger, lines } = capturingLogger();
      const webhookDeps = { ...developmentDeps(world().deps), logger, resolveHost: dns.resolve };
      const metadata = await storedEndpoint("http://169.254.169.254/latest/meta-data/");
      await world().emit(shop.id);
      expect(await deliverOnce(webhookDeps, metadata.id)).toMatchObject({
        attempts: 1,
        lastError: "refused: the URL must not point to 169.254.169.254: a cloud metadata address",
      });

      // Registered while the name pointed to this machine; the port is the receiver's, so a connection would show.
      const endpoint = await createWebhookService(webhookDeps).createEndpoint(shop.id, {
        url: `http://hooks.shop.example:${receiver.port}/events?token=t0`,
        events: ["question.created"],
      });
      dns.answers["hooks.shop.example"] = ["172.18.0.3"];
      await world().emit(shop.id);
      const delivery = await deliverOnce(webhookDeps, endpoint.id);
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastError: "refused: hooks.shop.example resolves to a non-public address" });
      expect(receiver.connections).toBe(0);
      expect(lines).toEqual([
        expect.objectContaining({ endpointId: endpoint.id, host: `hooks.shop.example:${receiver.port}`, detail: "hooks.shop.example resolves to 172.18.0.3, a private address" }),
      ]);
      expect(JSON.stringify(lines)).not.toContain("t0");
    } finally {
      await receiver.close();
    }
  });
});

describe("delivery", () => {
  it("checks DNS again: a name that now resolves to 127.0.0.1 is refused before any connection", async () => {
    const { deps } = world();
    const receiver = await startReceiver();
    try {
      const dns = fakeDns({ "hooks.shop.example": [PUBLIC] });
      const webhookDeps = { ...deps, resolveHost: dns.resolve };
      // Registered while the name pointed to a public address; the port is the receiver's, so a connection would show.
      const endpoint = await createWebhookService(webhookDeps).createEndpoint(shop.id, {
        url: `https://hooks.shop.example:${receiver.port}/events`,
        events: ["question.created"],
      });
      dns.answers["hooks.shop.example"] = ["127.0.0.1"];
      await world().emit(shop.id);

      const delivery = await deliverOnce(webhookDeps, endpoint.id);
      // Which address, the shop is not told: it could map our internal DNS that way.
      const reason = "refused: hooks.shop.example resolves to a non-public address";
      expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastResponseCode: null, lastError: reason });
      expect(delivery.history).toEqual([expect.objectContaining({ number: 1, responseCode: null, error: reason })]);
      expect(receiver.connections).toBe(0);
      expect(receiver.requests).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it("connects to the address it checked: the name is resolved once, by us, and never again", async () => {
    const { deps } = world();
    const receiver = await startReceiver();
    try {
      // Loopback allowed, so a name may lead to the receiver on 127.0.0.1; only our resolver knows the name.
      const dns = fakeDns({ "hooks.shop.example": ["127.0.0.1"] });
      const webhookDeps = { ...deps, resolveHost: dns.resolve, config: { ...deps.config, WEBHOOK_ALLOW_LOOPBACK_URLS: "true" as const } };
      const endpoint = await createWebhookService(webhookDeps).createEndpoint(shop.id, {
        url: `http://hooks.shop.example:${receiver.port}/events`,
        events: ["question.created"],
      });
      await world().emit(shop.id);
      const delivery = await deliverOnce(webhookDeps, endpoint.id);
      expect(delivery).toMatchObject({ status: "succeeded", lastResponseCode: 200 });
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.headers.host).toBe(`hooks.shop.example:${receiver.port}`);
      // Once at registration, once for the delivery; the system resolver never saw it.
      expect(dns.asked).toEqual(["hooks.shop.example", "hooks.shop.example"]);
    } finally {
      await receiver.close();
    }
  });

  it.each([
    ["https://169.254.169.254/latest/meta-data/", "refused: the URL must not point to 169.254.169.254: a cloud metadata address"],
    ["https://10.0.0.5/hooks", "refused: the URL must not point to 10.0.0.5: a private address"],
    ["https://localhost/hooks", "refused: the URL must not point to localhost: a loopback address"],
    ["http://hooks.shop.example/hooks", "refused: the URL must be an https:// URL"],
  ])("refuses an endpoint stored as %s (registered under another policy) without connecting", async (url, reason) => {
    const { deps } = world();
    const dns = fakeDns({ "hooks.shop.example": [PUBLIC] });
    const webhookDeps = { ...deps, resolveHost: dns.resolve };
    const endpoint = await storedEndpoint(url);
    await world().emit(shop.id);
    const delivery = await deliverOnce(webhookDeps, endpoint.id);
    expect(delivery).toMatchObject({ attempts: 1, lastResponseCode: null, lastError: reason });
    // Literals and refused URL shapes never reach the resolver either.
    expect(dns.asked).toEqual([]);
  });
});
