/**
 * What the webhook tests share: a shop's receiver (a real HTTP server on
 * 127.0.0.1), a clock the test can move, the app with its workers, and the
 * README's own verification snippet, loaded from README.md so the
 * documentation cannot drift from what the product sends.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import { afterAll, beforeAll } from "vitest";
import { createRedis } from "../../src/deps.js";
import type { Clock } from "../../src/lib/clock.js";
import { emitWebhookEvent } from "../../src/modules/webhooks/emit.js";
import type { WebhookEventType } from "../../src/modules/webhooks/event-types.js";
import { startWorkers, type RunningWorkers } from "../../src/workers.js";
import { createTestContext, type TestContext } from "../helpers/context.js";

/** Short enough for a timeout test, long enough that a loaded machine never makes a healthy answer late. */
export const TEST_WEBHOOK_TIMEOUT_MS = 2_000;

/** Real time plus an offset the test moves forward: "three days later" without waiting three days. */
export class MovableClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  /** Jumps to `at`, never backwards. */
  moveTo(at: Date): void {
    this.offsetMs = Math.max(this.offsetMs, at.getTime() - Date.now());
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  body?: string;
  /** Answer this late (a timeout, when longer than WEBHOOK_TIMEOUT_MS). */
  delayMs?: number;
  /** Send the status line and `body`, then never end the body (a slow trickle, as far as we can tell). */
  neverEnd?: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** TCP connections accepted, including ones that never sent a request. */
  connections: number;
  /** How the next requests are answered (200 by default). */
  answer(reply: (request: Received, index: number) => Reply): void;
  close(): Promise<void>;
}

/** A shop's webhook receiver: a real HTTP server that records every request. */
export async function startReceiver(): Promise<Receiver> {
  let reply: (request: Received, index: number) => Reply = () => ({ status: 200, body: "ok" });
  const requests: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received = { path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(received);
      const { status, body = "", delayMs = 0, neverEnd = false } = reply(received, requests.length - 1);
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(status, { "content-type": "text/plain" });
        if (neverEnd) response.write(body);
        else response.end(body);
      };
      if (delayMs === 0) return send();
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, delayMs);
      timers.add(timer);
    });
  });
  const receiver = { connections: 0 };
  server.on("connection", () => receiver.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    answer(next: (request: Received, index: number) => Reply) {
      reply = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

export type Verify = (rawBody: string, header: string | undefined, secret: string, options?: { toleranceSeconds?: number; now?: number }) => boolean;

/** The first ```js block of README.md's "Webhooks for shops" section, imported as a module. */
export async function readmeVerifier(): Promise<Verify> {
  const readme = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.split(/^## /m).find((part) => part.startsWith("Webhooks for shops\n"));
  if (!section) throw new Error('README.md has no "## Webhooks for shops" section');
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error("the webhooks section of README.md has no ```js block");
  const file = path.join(mkdtempSync(path.join(tmpdir(), "expertline-readme-")), "verify.mjs");
  writeFileSync(file, code);
  const module = (await import(pathToFileURL(file).href)) as { verifyExpertlineSignature?: Verify };
  if (typeof module.verifyExpertlineSignature !== "function") throw new Error("the README snippet does not export verifyExpertlineSignature");
  return module.verifyExpertlineSignature;
}

export interface WebhookWorld extends TestContext {
  clock: MovableClock;
  /** Waits until the outbox is relayed and no webhook job is waiting, running or due. */
  settle(): Promise<void>;
  /** Moves the clock to `at` and runs the webhook jobs that are then due (retries wait in BullMQ by real time). */
  runDueAt(at: Date): Promise<void>;
  /** Records an event for the shop as the product would, in a transaction of its own. */
  emit(shopId: string, type?: WebhookEventType, data?: Record<string, string | number | null>): Promise<string | null>;
}

export function useWebhookWorld(options: { config?: Record<string, string>; workers?: boolean } = {}): () => WebhookWorld {
  let world: WebhookWorld | undefined;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const clock = new MovableClock();
    const inner = await createTestContext({ clock, config: { WEBHOOK_TIMEOUT_MS: String(TEST_WEBHOOK_TIMEOUT_MS), ...options.config } });
    const workers: RunningWorkers | undefined = options.workers === false ? undefined : await startWorkers(inner.deps);
    const connection = createRedis(inner.config.REDIS_URL, "worker");
    const queue = new Queue("webhooks", { connection, prefix: inner.deps.queuePrefix });

    const settle = async () => {
      let quiet = 0;
      for (let round = 0; round < 400 && quiet < 3; round++) {
        const unpublished = await inner.deps.prisma.outboxEvent.count({ where: { publishedAt: null } });
        const counts = await queue.getJobCounts("waiting", "active", "prioritized");
        // Due soon: a delivery waiting for its endpoint's in-flight slot comes back within 2 s (delivery.ts);
        // retries are minutes away and stay out. BullMQ scores the delayed set as runAt * 0x1000 + counter.
        const dueSoon = await inner.deps.redis.zcount(`${inner.deps.queuePrefix}:webhooks:delayed`, 0, (Date.now() + 3_000) * 0x1000);
        const busy = unpublished + Object.values(counts).reduce((sum, count) => sum + count, 0) + dueSoon;
        quiet = busy === 0 ? quiet + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (quiet < 3) throw new Error("webhooks did not settle within 10 s");
    };

    world = {
      ...inner,
      clock,
      settle,
      async runDueAt(at) {
        await settle();
        clock.moveTo(at);
        await queue.promoteJobs();
        await settle();
      },
      emit(shopId, type = "question.created", data = { note: "test" }) {
        return inner.deps.prisma.$transaction((tx) =>
          emitWebhookEvent(tx, { shopId, type, dedupeKey: `test:${randomUUID()}`, at: clock.now(), data: () => data }),
        );
      },
    };
    close = async () => {
      await workers?.close();
      await queue.close();
      await connection.quit();
      await inner.close();
    };
  });
  afterAll(async () => {
    await close?.();
  });
  return () => {
    if (!world) throw new Error("webhook world used outside a test");
    return world;
  };
}
