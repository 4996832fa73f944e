/**
 * Deliveries to a real receiver on 127.0.0.1, through the outbox and the
 * webhooks worker: signatures checked with the README's own snippet, retries
 * after 500s and timeouts, the delivery log, redelivery, rotation, and the
 * endpoint disabled after 3 days of failures (the clock moved, not waited).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RESPONSE_EXCERPT_BYTES } from "../../src/modules/webhooks/transport.js";
import { makeShop, request, type TestShop } from "../helpers/factories.js";
import { readmeVerifier, startReceiver, TEST_WEBHOOK_TIMEOUT_MS, useWebhookWorld, type Receiver, type Verify } from "./world.js";

const world = useWebhookWorld();

interface Delivery {
  id: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastResponseCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  event: { id: string; type: string };
}
interface DeliveryDetail extends Delivery {
  payload: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  history: { number: number; trigger: string; responseCode: number | null; responseExcerpt: string | null; error: string | null; durationMs: number; startedAt: string }[];
}

let verify: Verify;
/** A shop per test: each test's endpoints and deliveries are its own. */
let shop: TestShop;
const receivers: Receiver[] = [];

beforeAll(async () => {
  verify = await readmeVerifier();
});

beforeEach(async () => {
  shop = await makeShop(world().app);
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(): Promise<Receiver> {
  const started = await startReceiver();
  receivers.push(started);
  return started;
}

async function endpointFor(url: string, events: string[] = ["question.created"], owner = shop) {
  const response = await request(world().app, owner, { method: "POST", url: "/v1/webhook-endpoints", payload: { url, events } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string; secret: string }>();
}

async function deliveries(endpointId: string, query = ""): Promise<Delivery[]> {
  const response = await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpointId}/deliveries${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ data: Delivery[] }>().data;
}

async function detail(endpointId: string, deliveryId: string): Promise<DeliveryDetail> {
  const response = await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpointId}/deliveries/${deliveryId}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<DeliveryDetail>();
}

/** Runs each retry when it falls due until no delivery of the endpoint is pending; returns how many rounds that took. */
async function retryUntilSettled(endpointId: string): Promise<number> {
  let rounds = 0;
  for (;;) {
    const delivery = (await deliveries(endpointId)).find((candidate) => candidate.status === "pending");
    if (!delivery?.nextAttemptAt) return rounds;
    await world().runDueAt(new Date(delivery.nextAttemptAt));
    rounds++;
    if (rounds > 40) throw new Error("the delivery never settled");
  }
}

const now = () => world().clock.now().getTime();

describe("a delivery", () => {
  it("is a signed POST of { id, type, createdAt, data } that the README's snippet verifies", async () => {
    const hooks = await receiver();
    hooks.answer(() => ({ status: 200, body: "x".repeat(10_000) }));
    const endpoint = await endpointFor(`${hooks.url}/expertline/events?src=el`);
    const eventId = await world().emit(shop.id, "question.created", { questionId: "q-1", status: "routing" });
    expect(eventId).not.toBeNull();
    await world().settle();

    expect(hooks.requests).toHaveLength(1);
    const [sent] = hooks.requests;
    expect(sent!.path).toBe("/expertline/events?src=el");
    const body = JSON.parse(sent!.body) as { id: string; type: string; createdAt: string; data: unknown };
    expect(body).toEqual({ id: `evt_${eventId!.replaceAll("-", "")}`, type: "question.created", createdAt: expect.any(String), data: { questionId: "q-1", status: "routing" } });
    expect(sent!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Expertline-Webhooks/1.0",
      "expertline-event-id": body.id,
      "expertline-event-type": "question.created",
      "expertline-delivery-attempt": "1",
    });
    const signature = sent!.headers["expertline-signature"] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(sent!.body, signature, endpoint.secret, { now: now() })).toBe(true);
    expect(verify(sent!.body, signature, "whsec_someone_else", { now: now() })).toBe(false);
    expect(verify(`${sent!.body} `, signature, endpoint.secret, { now: now() })).toBe(false);

    const [logged] = await deliveries(endpoint.id);
    expect(logged).toMatchObject({ status: "succeeded", attempts: 1, lastResponseCode: 200, lastError: null, nextAttemptAt: null, event: { id: body.id, type: "question.created" } });
    expect(sent!.headers["expertline-delivery-id"]).toBe(logged!.id);
    const full = await detail(endpoint.id, logged!.id);
    expect(full.payload).toEqual(body);
    expect(full.history).toEqual([expect.objectContaining({ number: 1, trigger: "automatic", responseCode: 200, error: null })]);
    // Of the 10 KB answer only the first 2 KB are kept.
    expect(full.history[0]!.responseExcerpt).toBe("x".repeat(RESPONSE_EXCERPT_BYTES));
    const row = await world().deps.prisma.webhookAttempt.findFirstOrThrow({ where: { deliveryId: logged!.id } });
    expect(row.responseExcerpt).toHaveLength(RESPONSE_EXCERPT_BYTES);
  });

  it("goes only to enabled endpoints that want the event type (or *), once per cause", async () => {
    const hooks = await receiver();
    const wants = await endpointFor(`${hooks.url}/wants`, ["question.created"]);
    const all = await endpointFor(`${hooks.url}/all`, ["*"]);
    const other = await endpointFor(`${hooks.url}/other`, ["session.ended"]);
    const off = await endpointFor(`${hooks.url}/off`, ["question.created"]);
    await request(world().app, shop, { method: "PATCH", url: `/v1/webhook-endpoints/${off.id}`, payload: { enabled: false } });

    const { prisma, clock } = world().deps;
    const { emitWebhookEvent } = await import("../../src/modules/webhooks/emit.js");
    const once = () =>
      prisma.$transaction((tx) =>
        emitWebhookEvent(tx, { shopId: shop.id, type: "question.created", dedupeKey: "question.created:replayed-cause", at: clock.now(), data: () => ({ n: 1 }) }),
      );
    const first = await once();
    expect(first).not.toBeNull();
    expect(await once()).toBeNull(); // the replayed transaction emits nothing new
    await world().settle();

    expect(hooks.requests.map((sent) => sent.path).sort()).toEqual(["/all", "/wants"]);
    expect(await prisma.webhookEvent.count({ where: { dedupeKey: "question.created:replayed-cause" } })).toBe(1);
    expect(await deliveries(wants.id)).toHaveLength(1);
    expect(await deliveries(all.id)).toHaveLength(1);
    expect(await deliveries(other.id)).toHaveLength(0);
    expect(await deliveries(off.id)).toHaveLength(0);
  });

  it("writes nothing for a shop none of whose endpoints wants the event", async () => {
    const quiet = await makeShop(world().app, "Quiet Shop");
    const hooks = await receiver();
    await endpointFor(`${hooks.url}/ended-only`, ["session.ended"], quiet);
    expect(await world().emit(quiet.id, "question.created")).toBeNull();
    expect(await world().deps.prisma.webhookEvent.count({ where: { shopId: quiet.id } })).toBe(0);
  });
});

describe("retries", () => {
  it("after 500s: backoff from the first minute, the same event id each time, until a 2xx", async () => {
    const hooks = await receiver();
    hooks.answer((_sent, index) => (index < 2 ? { status: 500, body: "database down" } : { status: 204 }));
    const endpoint = await endpointFor(`${hooks.url}/flaky`);
    await world().emit(shop.id);
    await world().settle();

    expect(hooks.requests).toHaveLength(1);
    let [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastResponseCode: 500, lastError: "answered 500" });
    // One minute +-20% after the attempt ended: not sent again before then.
    const waited = async (attempt: number) => {
      const { history, lastAttemptAt, nextAttemptAt } = await detail(endpoint.id, delivery!.id);
      return Date.parse(nextAttemptAt!) - Date.parse(lastAttemptAt!) - history[attempt - 1]!.durationMs;
    };
    expect(await waited(1)).toBeGreaterThanOrEqual(48_000 - 1_000);
    expect(await waited(1)).toBeLessThanOrEqual(72_000 + 1_000);
    const failing = await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}` });
    expect(failing.json<{ failingSince: string | null }>().failingSince).not.toBeNull();

    await world().runDueAt(new Date(delivery!.nextAttemptAt!));
    expect(hooks.requests).toHaveLength(2);
    [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 2, lastResponseCode: 500 });
    // Two minutes +-20%.
    expect(await waited(2)).toBeGreaterThanOrEqual(96_000 - 1_000);
    expect(await waited(2)).toBeLessThanOrEqual(144_000 + 1_000);

    await world().runDueAt(new Date(delivery!.nextAttemptAt!));
    expect(hooks.requests).toHaveLength(3);
    [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 3, lastResponseCode: 204, lastError: null, nextAttemptAt: null });
    expect(new Set(hooks.requests.map((sent) => sent.headers["expertline-event-id"])).size).toBe(1);
    expect(new Set(hooks.requests.map((sent) => sent.body)).size).toBe(1);
    expect(hooks.requests.map((sent) => sent.headers["expertline-delivery-attempt"])).toEqual(["1", "2", "3"]);
    const history = (await detail(endpoint.id, delivery!.id)).history;
    expect(history.map((attempt) => [attempt.number, attempt.responseCode, attempt.responseExcerpt])).toEqual([
      [1, 500, "database down"],
      [2, 500, "database down"],
      [3, 204, ""],
    ]);
    const healthy = (await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}` })).json<{ failingSince: null; lastSuccessAt: string }>();
    expect(healthy.failingSince).toBeNull();
    expect(healthy.lastSuccessAt).not.toBeNull();
  });

  it("after a timeout, and after a redirect, which is not followed", async () => {
    const hooks = await receiver();
    hooks.answer((sent, index) =>
      sent.path === "/moved" ? { status: 302, body: "see elsewhere" } : index === 0 ? { status: 200, delayMs: 5 * TEST_WEBHOOK_TIMEOUT_MS } : { status: 200 },
    );
    const slow = await endpointFor(`${hooks.url}/slow`);
    await world().emit(shop.id);
    await world().settle();
    let [delivery] = await deliveries(slow.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastResponseCode: null, lastError: `no answer within ${TEST_WEBHOOK_TIMEOUT_MS} ms` });
    await world().runDueAt(new Date(delivery!.nextAttemptAt!));
    [delivery] = await deliveries(slow.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2, lastResponseCode: 200 });

    const moved = await endpointFor(`${hooks.url}/moved`);
    const before = hooks.requests.length;
    await world().emit(shop.id);
    await world().settle();
    [delivery] = await deliveries(moved.id);
    expect(delivery).toMatchObject({ status: "pending", lastResponseCode: 302, lastError: "answered 302: redirects are not followed" });
    // /slow got the new event too; /moved was asked once and its Location never followed.
    expect(hooks.requests.slice(before).map((sent) => sent.path).sort()).toEqual(["/moved", "/slow"]);
  });

  it("a 2xx is a success once its status line is in, however slowly its body follows", async () => {
    const hooks = await receiver();
    // The body starts at once and never ends, and longer than the delivery timeout would be too late.
    hooks.answer(() => ({ status: 202, body: "accepted, still writing", neverEnd: true }));
    const endpoint = await endpointFor(`${hooks.url}/slow-body`);
    await world().emit(shop.id);
    await world().settle();
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1, lastResponseCode: 202, lastError: null });
    expect(hooks.requests).toHaveLength(1);
    // What came with the status line is kept; the wait for the rest is cut short, not counted as a failure.
    const [attempt] = (await detail(endpoint.id, delivery!.id)).history;
    expect(attempt).toMatchObject({ responseCode: 202, responseExcerpt: "accepted, still writing", error: null });
  });

  it("a refused connection is a failed attempt with its reason", async () => {
    const closed = await receiver();
    const endpoint = await endpointFor(`${closed.url}/gone`);
    await closed.close();
    await world().emit(shop.id);
    await world().settle();
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastResponseCode: null });
    expect(delivery!.lastError).toMatch(/ECONNREFUSED/);
  });
});

describe("the delivery log", () => {
  it("pages newest first and filters by status", async () => {
    const hooks = await receiver();
    hooks.answer((sent) => (JSON.parse(sent.body) as { data: { n: number } }).data.n === 2 ? { status: 500 } : { status: 200 });
    const endpoint = await endpointFor(`${hooks.url}/log`);
    for (const n of [1, 2, 3]) await world().emit(shop.id, "question.created", { n });
    await world().settle();

    const page1 = (await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=2` })).json<{ data: DeliveryDetail[]; nextCursor: string }>();
    expect(page1.data).toHaveLength(2);
    const page2 = (
      await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=2&cursor=${page1.nextCursor}` })
    ).json<{ data: Delivery[]; nextCursor: string | null }>();
    expect(page2.data).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.data, ...page2.data].map((delivery) => delivery.id);
    expect(ids).toEqual([...ids].sort().reverse());

    expect((await deliveries(endpoint.id, "?status=pending")).map((delivery) => delivery.lastResponseCode)).toEqual([500]);
    expect(await deliveries(endpoint.id, "?status=succeeded")).toHaveLength(2);
    const refused = await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}/deliveries?status=lost&limit=500` });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ errors: { path: string }[] }>().errors.map((error) => error.path).sort()).toEqual(["querystring.limit", "querystring.status"]);
  });
});

describe("redelivery", () => {
  it("sends a delivered event again now: a new attempt, the same event id", async () => {
    const hooks = await receiver();
    const endpoint = await endpointFor(`${hooks.url}/again`);
    await world().emit(shop.id);
    await world().settle();
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery!.status).toBe("succeeded");

    const redeliver = () => request(world().app, shop, { method: "POST", url: `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery!.id}/redeliver` });
    const queued = await redeliver();
    expect(queued.statusCode, queued.body).toBe(202);
    expect(queued.json()).toMatchObject({ id: delivery!.id, attempts: 1 });
    await world().settle();

    expect(hooks.requests).toHaveLength(2);
    expect(hooks.requests[1]!.headers["expertline-event-id"]).toBe(hooks.requests[0]!.headers["expertline-event-id"]);
    expect(hooks.requests[1]!.headers["expertline-delivery-attempt"]).toBe("2");
    expect(verify(hooks.requests[1]!.body, hooks.requests[1]!.headers["expertline-signature"] as string, endpoint.secret, { now: now() })).toBe(true);
    const full = await detail(endpoint.id, delivery!.id);
    expect(full).toMatchObject({ status: "succeeded", attempts: 2, nextAttemptAt: null });
    expect(full.history.map((attempt) => attempt.trigger)).toEqual(["automatic", "manual"]);
  });

  it("a failed redelivery of a settled event is one try; a disabled endpoint is refused with 409", async () => {
    const hooks = await receiver();
    hooks.answer((_sent, index) => (index === 0 ? { status: 200 } : { status: 503 }));
    const endpoint = await endpointFor(`${hooks.url}/once`);
    await world().emit(shop.id);
    await world().settle();
    const [delivery] = await deliveries(endpoint.id);
    const url = `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery!.id}/redeliver`;
    expect((await request(world().app, shop, { method: "POST", url })).statusCode).toBe(202);
    await world().settle();
    expect((await deliveries(endpoint.id))[0]).toMatchObject({ status: "failed", attempts: 2, lastResponseCode: 503, nextAttemptAt: null });

    await request(world().app, shop, { method: "PATCH", url: `/v1/webhook-endpoints/${endpoint.id}`, payload: { enabled: false } });
    const refused = await request(world().app, shop, { method: "POST", url });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: "webhook-endpoint-disabled" });
  });
});

describe("rotation", () => {
  it("signs with both secrets during the grace period, and only the new one after", async () => {
    const hooks = await receiver();
    const endpoint = await endpointFor(`${hooks.url}/rotating`);
    const rotated = await request(world().app, shop, {
      method: "POST",
      url: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      payload: { expiresInSeconds: 3600 },
    });
    const fresh = rotated.json<{ secret: string }>().secret;

    await world().emit(shop.id);
    await world().settle();
    const during = hooks.requests.at(-1)!;
    const header = during.headers["expertline-signature"] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verify(during.body, header, fresh, { now: now() })).toBe(true);
    expect(verify(during.body, header, endpoint.secret, { now: now() })).toBe(true);

    world().clock.advance(3601_000);
    await world().emit(shop.id);
    await world().settle();
    const after = hooks.requests.at(-1)!;
    expect(after).not.toBe(during);
    const single = after.headers["expertline-signature"] as string;
    expect(single).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(after.body, single, fresh, { now: now() })).toBe(true);
    expect(verify(after.body, single, endpoint.secret, { now: now() })).toBe(false);
  });
});

/** Some twenty rounds of retries each, a few hundred milliseconds a round. */
const THREE_DAYS_OF_RETRIES = { timeout: 90_000 };

describe("an endpoint that keeps failing", () => {
  it("is disabled after 3 days without a success; the shop's other endpoint is told, and GET says why", THREE_DAYS_OF_RETRIES, async () => {
    const hooks = await receiver();
    hooks.answer((sent) => (sent.path === "/down" ? { status: 500, body: "oops" } : { status: 200 }));
    const down = await endpointFor(`${hooks.url}/down`, ["question.created"]);
    const monitor = await endpointFor(`${hooks.url}/monitor`, ["webhook_endpoint.disabled"]);
    await world().emit(shop.id);
    await world().settle();
    const firstAttempt = now();

    await retryUntilSettled(down.id);
    const [delivery] = await deliveries(down.id);
    const tries = hooks.requests.filter((sent) => sent.path === "/down");
    expect(delivery).toMatchObject({ status: "failed", lastResponseCode: 500, nextAttemptAt: null });
    expect(delivery!.attempts).toBe(tries.length);
    expect(tries.length).toBeGreaterThanOrEqual(15);
    // Three days of them, the last at the 3-day mark.
    expect(now() - firstAttempt).toBeGreaterThanOrEqual(72 * 3600_000 - 5_000);

    const disabled = (await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${down.id}` })).json<{
      enabled: boolean;
      disabledAt: string | null;
      disabledReason: string;
    }>();
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledAt).not.toBeNull();
    expect(disabled.disabledReason).toBe("Disabled after 3 days of failed deliveries with no success (last attempt: answered 500)");

    const told = hooks.requests.filter((sent) => sent.path === "/monitor");
    expect(told).toHaveLength(1);
    const notice = JSON.parse(told[0]!.body) as { type: string; data: Record<string, unknown> };
    expect(notice).toMatchObject({ type: "webhook_endpoint.disabled", data: { endpointId: down.id, url: `${hooks.url}/down`, reason: disabled.disabledReason } });
    expect(verify(told[0]!.body, told[0]!.headers["expertline-signature"] as string, monitor.secret, { now: now() })).toBe(true);

    // Nothing more goes to it...
    const sentBefore = hooks.requests.length;
    await world().emit(shop.id);
    await world().settle();
    expect(hooks.requests.length).toBe(sentBefore);
    expect(await deliveries(down.id)).toHaveLength(1);
    // ...until the shop turns it back on.
    await request(world().app, shop, { method: "PATCH", url: `/v1/webhook-endpoints/${down.id}`, payload: { enabled: true } });
    hooks.answer(() => ({ status: 200 }));
    await world().emit(shop.id);
    await world().settle();
    expect((await deliveries(down.id))[0]).toMatchObject({ status: "succeeded" });
  });

  it("stays on when a later event got through within the 3 days; the old event alone is given up", THREE_DAYS_OF_RETRIES, async () => {
    const hooks = await receiver();
    // The first event's payload breaks the receiver; later ones go through.
    hooks.answer((sent) => ((JSON.parse(sent.body) as { data: { poison?: number } }).data.poison ? { status: 500 } : { status: 200 }));
    const endpoint = await endpointFor(`${hooks.url}/picky`);
    await world().emit(shop.id, "question.created", { poison: 1 });
    await world().settle();
    world().clock.advance(24 * 3600_000);
    await world().emit(shop.id, "question.created", { n: 2 });
    await world().settle();

    expect(await retryUntilSettled(endpoint.id)).toBeGreaterThan(10);
    // Newest first: the later event went through, the poisoned one was given up after its 3 days.
    const settled = await deliveries(endpoint.id);
    expect(settled.map((delivery) => delivery.status)).toEqual(["succeeded", "failed"]);
    const state = (await request(world().app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}` })).json<{ enabled: boolean }>();
    expect(state.enabled).toBe(true);
  });

  it("turned off by the shop: its pending retries are given up and nothing more is sent", async () => {
    const hooks = await receiver();
    hooks.answer(() => ({ status: 500 }));
    const endpoint = await endpointFor(`${hooks.url}/paused`);
    await world().emit(shop.id);
    await world().settle();
    const [pending] = await deliveries(endpoint.id);
    expect(pending!.status).toBe("pending");

    await request(world().app, shop, { method: "PATCH", url: `/v1/webhook-endpoints/${endpoint.id}`, payload: { enabled: false } });
    expect((await deliveries(endpoint.id))[0]).toMatchObject({ status: "failed", nextAttemptAt: null, lastError: "given up: the endpoint was disabled" });
    await world().runDueAt(new Date(pending!.nextAttemptAt!));
    expect(hooks.requests).toHaveLength(1);
  });
});
