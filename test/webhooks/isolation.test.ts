/**
 * One shop cannot stall the others' webhooks. Names resolve through c-ares
 * (off libuv's 4 shared threads), each lookup bounded and cancelled at its
 * budget, so a DNS server that never answers costs its own shop a failed
 * attempt and nothing else; registration answers a 400 instead of hanging.
 * And at most 2 POSTs are out to one endpoint at a time: an endpoint that
 * holds requests open keeps 2 worker slots, while another shop's endpoint is
 * delivered. DNS here is a tiny UDP server on 127.0.0.1 (no-network.ts
 * forbids anything further).
 */
import dgram from "node:dgram";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireSlot } from "../../src/modules/webhooks/inflight.js";
import { createWebhookService } from "../../src/modules/webhooks/service.js";
import { systemResolver, type ResolveHost } from "../../src/modules/webhooks/transport.js";
import { makeShop, request, type TestShop } from "../helpers/factories.js";
import { startReceiver, useWebhookWorld, type Receiver } from "./world.js";

// Long enough that the held requests below never time out while the test looks at them.
const world = useWebhookWorld({ config: { WEBHOOK_TIMEOUT_MS: "60000" } });

/** Answers A queries from `a` (NOERROR with no answer for any other type of a known name, NXDOMAIN for unknown ones); `silent` answers nothing at all. */
async function startDns(options: { a?: Record<string, string>; silent?: boolean }) {
  const socket = dgram.createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (query, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset]! > 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]!).toString("ascii"));
      offset += 1 + query[offset]!;
    }
    const name = labels.join(".").toLowerCase();
    const type = query.readUInt16BE(offset + 1);
    asked.push(`${name}/${type === 1 ? "A" : type === 28 ? "AAAA" : type}`);
    if (options.silent) return;
    const question = query.subarray(12, offset + 5);
    const address = options.a?.[name];
    const known = address !== undefined;
    const answer =
      known && type === 1
        ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(address.split(".").map(Number))])
        : Buffer.alloc(0);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the query's id
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // a response, recursion available; NXDOMAIN for an unknown name
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
    socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return { server: `127.0.0.1:${port}`, asked, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

let shop: TestShop;
let other: TestShop;
beforeAll(async () => {
  shop = await makeShop(world().app, "Slow Shop");
  other = await makeShop(world().app, "Prompt Shop");
});

describe("DNS", () => {
  it("resolves through c-ares: A and AAAA, one family missing is no error, an unknown name is", async () => {
    const dns = await startDns({ a: { "hooks.shop.example": "93.184.215.14" } });
    try {
      const resolve = systemResolver(1_000, [dns.server]);
      await expect(resolve("hooks.shop.example")).resolves.toEqual([{ address: "93.184.215.14", family: 4 }]);
      expect(dns.asked).toEqual(expect.arrayContaining(["hooks.shop.example/A", "hooks.shop.example/AAAA"]));
      await expect(resolve("nowhere.shop.example")).rejects.toMatchObject({ code: "ENOTFOUND" });
    } finally {
      await dns.close();
    }
  });

  it("gives up on a DNS server that never answers, with ETIMEOUT, instead of waiting on it", async () => {
    const dns = await startDns({ silent: true });
    try {
      await expect(systemResolver(300, [dns.server])("hooks.shop.example")).rejects.toMatchObject({ code: "ETIMEOUT" });
      expect(dns.asked.length).toBeGreaterThan(0);
    } finally {
      await dns.close();
    }
  });

  it("registration answers a 400 when the host cannot be resolved in time, whether DNS is silent or the resolver never returns", async () => {
    const dns = await startDns({ silent: true });
    const hanging: ResolveHost = () => new Promise(() => {});
    try {
      // A 2 s deadline: DNS gets a quarter of it.
      const deps = { ...world().deps, config: { ...world().config, WEBHOOK_TIMEOUT_MS: 2_000 } };
      const message = "must name a host that resolves in time: slow-dns.shop.example could not be resolved within 500 ms";
      for (const resolveHost of [systemResolver(500, [dns.server]), hanging]) {
        const webhooks = createWebhookService({ ...deps, resolveHost });
        await expect(webhooks.createEndpoint(shop.id, { url: "https://slow-dns.shop.example/hooks", events: ["question.created"] })).rejects.toMatchObject({
          status: 400,
          code: "webhook-url-refused",
          errors: [{ path: "body.url", message }],
        });
      }
    } finally {
      await dns.close();
    }
  });
});

/** A receiver that holds every request open until released, counting how many are open at once. */
async function startHoldingReceiver() {
  const held: ServerResponse[] = [];
  const state = { open: 0, maxOpen: 0, received: 0, released: false };
  const server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on("end", () => {
      state.received++;
      if (state.released) return void response.end("ok");
      state.open++;
      state.maxOpen = Math.max(state.maxOpen, state.open);
      held.push(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    state,
    release() {
      state.released = true;
      for (const response of held.splice(0)) {
        state.open--;
        response.end("ok");
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(what: string, done: () => boolean | Promise<boolean>, rounds = 600): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting: ${what}`);
}

describe("at most 2 POSTs in flight per endpoint", () => {
  let slow: Awaited<ReturnType<typeof startHoldingReceiver>>;
  let prompt: Receiver;
  beforeAll(async () => {
    slow = await startHoldingReceiver();
    prompt = await startReceiver();
  });
  afterAll(async () => {
    slow.release();
    await slow.close();
    await prompt.close();
  });

  const register = async (owner: TestShop, url: string) => {
    const response = await request(world().app, owner, { method: "POST", url: "/v1/webhook-endpoints", payload: { url, events: ["question.created"] } });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string }>().id;
  };

  it("an endpoint that holds requests open gets 2 at a time, more than the workers' 16 slots wait without using an attempt, and another shop is delivered meanwhile", async () => {
    const { prisma } = world().deps;
    const slowEndpoint = await register(shop, slow.url);
    const promptEndpoint = await register(other, `${prompt.url}/hooks`);
    // More events than the worker has slots: without the limit they would all be taken by this one endpoint.
    const events = 20;
    for (let index = 0; index < events; index++) await world().emit(shop.id);
    await until("2 requests held open at the slow endpoint", () => slow.state.open >= 2);
    await until("every slow delivery fanned out", async () => (await prisma.webhookDelivery.count({ where: { endpointId: slowEndpoint } })) === events);

    await world().emit(other.id);
    await until("the other shop's event delivered", async () => (await prisma.webhookDelivery.count({ where: { endpointId: promptEndpoint, status: "succeeded" } })) === 1);
    expect(prompt.requests).toHaveLength(1);
    // Still held: the other shop was delivered while this endpoint was stuck.
    expect(slow.state).toMatchObject({ open: 2, maxOpen: 2, received: 2, released: false });
    // The waiting ones were put back, not tried: nothing recorded, no attempt used, none failed.
    expect(await prisma.webhookDelivery.count({ where: { endpointId: slowEndpoint, attempts: 0, status: "pending" } })).toBe(events);

    slow.release();
    await until(
      "every slow delivery made",
      async () => (await prisma.webhookDelivery.count({ where: { endpointId: slowEndpoint, status: "succeeded", attempts: 1 } })) === events,
      2_400,
    );
    expect(slow.state.received).toBe(events);
  }, 90_000);

  it("a slot held by a worker that died is given back when its lease runs out", async () => {
    const deps = world().deps;
    const endpointId = "00000000-0000-4000-8000-000000000001";
    // Two taken and never released (the workers died mid-POST).
    expect(await acquireSlot(deps, endpointId, { leaseMs: 300 })).not.toBeNull();
    expect(await acquireSlot(deps, endpointId, { leaseMs: 300 })).not.toBeNull();
    expect(await acquireSlot(deps, endpointId, { leaseMs: 300 })).toBeNull();
    let release: (() => Promise<void>) | null = null;
    await until("a slot free again", async () => (release = await acquireSlot(deps, endpointId, { leaseMs: 60_000 })) !== null);
    expect(await acquireSlot(deps, endpointId, { leaseMs: 60_000 })).not.toBeNull();
    expect(await acquireSlot(deps, endpointId, { leaseMs: 60_000 })).toBeNull();
    // Released, it is free at once.
    await release!();
    expect(await acquireSlot(deps, endpointId, { leaseMs: 60_000 })).not.toBeNull();
  });
});
