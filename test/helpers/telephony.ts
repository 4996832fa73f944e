/**
 * The app, its workers and the Twilio and Stripe sandboxes wired together as
 * in development: the SDKs talk HTTP to the sandboxes, the sandboxes deliver
 * signed webhooks into the app. `settle()` waits until every queued job,
 * outbox row and sandbox callback has run.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { createStripeSandbox, type StripeSandbox } from "../../src/sandbox/stripe/server.js";
import { createTwilioSandbox, type TwilioSandbox } from "../../src/sandbox/twilio/server.js";
import type { WebhookSender } from "../../src/sandbox/twilio/transport.js";
import { startWorkers, type RunningWorkers } from "../../src/workers.js";
import { createTestContext, type TestContext } from "./context.js";
import { testConfig } from "./config.js";

export interface TelephonyContext extends TestContext {
  sandbox: TwilioSandbox;
  /** Where the sandbox's REST API listens (TWILIO_API_BASE_URL for a worker in another process). */
  sandboxUrl: string;
  /** The Stripe sandbox the app's Stripe client talks to; its signed events go to POST /stripe/webhook. */
  stripe: StripeSandbox;
  stripeUrl: string;
  /** Waits until nothing is left to do (jobs, outbox, callbacks). */
  settle: () => Promise<void>;
  /** A simulated phone texts a platform number, then everything settles. */
  text: (from: string, to: string, body: string) => Promise<void>;
  /** Bodies the phone received, oldest first. */
  inbox: (phone: string) => string[];
  /** Webhook answers by path that stand in for app routes a test needs (e.g. TwiML another module will own). */
  fakeRoutes: Map<string, string>;
  /** Every request the sandbox sent to a fake route, oldest first (what the "app" was told). */
  fakeRequests: { path: string; method: "GET" | "POST"; params: Record<string, string> }[];
}

export interface TelephonyContextOptions {
  /**
   * Run the outbox relay and the job runners in this process (default). Off for
   * a test that runs them in child processes it starts and kills itself;
   * settle() still works, since it watches the queues and the outbox.
   */
  workers?: boolean;
}

export function useTelephonyContext(config: Record<string, string> = {}, options: TelephonyContextOptions = {}): () => TelephonyContext {
  let context: (TelephonyContext & { close(): Promise<void> }) | undefined;
  let workers: RunningWorkers | undefined;
  let queues: Queue[] = [];
  let queueConnection: ReturnType<typeof createRedis> | undefined;

  beforeAll(async () => {
    const base = testConfig();
    let deliver: WebhookSender = () => Promise.reject(new Error("app not started"));
    const fakeRoutes = new Map<string, string>();
    const fakeRequests: TelephonyContext["fakeRequests"] = [];
    const sandbox = await createTwilioSandbox({
      accountSid: base.TWILIO_ACCOUNT_SID,
      authToken: base.TWILIO_AUTH_TOKEN,
      clock: { now: () => new Date() },
      sender: (request) => deliver(request),
    });
    const url = await sandbox.app.listen({ port: 0, host: "127.0.0.1" });
    let deliverStripe: (request: { body: string; headers: Record<string, string> }) => Promise<{ status: number }> = () =>
      Promise.reject(new Error("app not started"));
    const stripe = await createStripeSandbox({
      secretKey: base.STRIPE_SECRET_KEY,
      clock: { now: () => new Date() },
      webhookSecret: base.STRIPE_WEBHOOK_SECRET[0] ?? "",
      webhookUrl: `${base.PUBLIC_BASE_URL}/stripe/webhook`,
      webhookSender: (request) => deliverStripe(request),
    });
    const stripeUrl = await stripe.app.listen({ port: 0, host: "127.0.0.1" });
    const inner = await createTestContext({
      config: { TWILIO_API_BASE_URL: url, STRIPE_API_BASE_URL: stripeUrl, SMS_MESSAGES_PER_SECOND: "100", ...config },
    });
    deliverStripe = async ({ body, headers }) => {
      const response = await inner.app.inject({ method: "POST", url: "/stripe/webhook", headers, payload: body });
      return { status: response.statusCode };
    };
    deliver = async ({ url: target, method, params, headers }) => {
      const { pathname, search } = new URL(target);
      const fake = fakeRoutes.get(pathname);
      if (fake !== undefined) {
        fakeRequests.push({ path: pathname, method, params: method === "GET" ? Object.fromEntries(new URL(target).searchParams) : params });
        return { status: 200, contentType: "text/xml", body: fake };
      }
      const response = await inner.app.inject({
        method,
        url: `${pathname}${search}`,
        headers,
        ...(method === "POST" ? { payload: new URLSearchParams(params).toString() } : {}),
      });
      return { status: response.statusCode, contentType: String(response.headers["content-type"] ?? ""), body: response.body };
    };
    if (options.workers ?? true) workers = await startWorkers(inner.deps);
    queueConnection = createRedis(base.REDIS_URL, "worker");
    const connection = queueConnection;
    queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: inner.deps.queuePrefix }));

    const settle = async () => {
      let quietRounds = 0;
      for (let round = 0; round < 400 && quietRounds < 3; round++) {
        await Promise.all([sandbox.idle(), stripe.idle()]);
        let busy = await inner.deps.prisma.outboxEvent.count({ where: { publishedAt: null, runAt: { lte: new Date(Date.now() + 3_000) } } });
        for (const queue of queues) {
          const counts = await queue.getJobCounts("waiting", "active", "prioritized", "waiting-children");
          // Delayed jobs count only when due soon: a message held for quiet hours, or a timer
          // for later (an offer's timeout, an idle session), is settled, not busy.
          // BullMQ scores the delayed set as runAt * 0x1000 + counter.
          const dueSoon = await inner.deps.redis.zcount(`${inner.deps.queuePrefix}:${queue.name}:delayed`, 0, (Date.now() + 3_000) * 0x1000);
          busy += Object.values(counts).reduce((sum, count) => sum + count, 0) + dueSoon;
        }
        quietRounds = busy === 0 ? quietRounds + 1 : 0;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (quietRounds < 3) throw new Error("telephony did not settle within 10 s");
    };

    context = {
      ...inner,
      sandbox,
      sandboxUrl: url,
      stripe,
      stripeUrl,
      settle,
      fakeRoutes,
      fakeRequests,
      async text(from, to, body) {
        await sandbox.messaging.receive(from, to, body);
        await settle();
      },
      inbox(phone) {
        return (sandbox.state.phones.get(phone)?.messages ?? []).filter((message) => message.direction === "received").map((message) => message.body);
      },
      async close() {
        await workers?.close();
        await Promise.all(queues.map((queue) => queue.close()));
        await queueConnection?.quit();
        await inner.close();
        await sandbox.app.close();
        await stripe.app.close();
      },
    };
  });

  afterAll(async () => {
    await context?.close();
  });

  return () => {
    if (!context) throw new Error("telephony context used outside a test");
    return context;
  };
}
