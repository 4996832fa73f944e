/**
 * Delivering events: fan-out to the endpoints, then one job per attempt.
 *
 * - Fan-out creates one delivery per enabled endpoint that wants the event
 *   (unique per endpoint and event) and queues its first attempt, in one
 *   transaction, so a replayed fan-out adds nothing.
 * - Attempt n of a delivery is the job `webhook-attempt-<deliveryId>-<n>`. Its
 *   result is recorded only if the delivery still has n - 1 attempts, so a job
 *   run twice (a worker that died mid-POST) records once; the POST itself may
 *   then have gone out twice, which is why events carry an id for dedupe
 *   (at-least-once, as Stripe's webhooks are).
 * - A failure schedules attempt n + 1 through the outbox, at a time taken from
 *   the injected clock (backoff.ts); the job waits for it in BullMQ, and if it
 *   runs early (a moved clock, a promoted job) it puts itself back.
 * - At most MAX_IN_FLIGHT_PER_ENDPOINT POSTs to one endpoint are out at once,
 *   across workers (inflight.ts): an attempt that finds its endpoint full puts
 *   itself back a moment later, using no attempt and leaving its worker slot
 *   to other shops' deliveries.
 * - 3 days after a delivery was first due its retries end; if the endpoint has
 *   not had a single success since then, it is disabled and the shop is told
 *   (a webhook_endpoint.disabled event to its other endpoints, a warning in
 *   the log, the reason on the endpoint).
 */
import type { Deps } from "../../deps.js";
import type { Prisma, WebhookDelivery, WebhookEndpoint, WebhookEvent } from "../../generated/prisma/client.js";
import type { JobContext } from "../../jobs/define.js";
import { QUEUES } from "../../jobs/define.js";
import { enqueue, type OutboxJob } from "../outbox/outbox.js";
import { nextRetryAt } from "./backoff.js";
import { emitWebhookEvent } from "./emit.js";
import { ALL_EVENTS, publicEventId } from "./event-types.js";
import { acquireSlot, slotLeaseMs } from "./inflight.js";
import { webhookSettings } from "./settings.js";
import { signatureHeader, signingSecrets } from "./signature.js";
import { dnsBudgetMs, postWebhook, systemResolver, type PostOutcome, type ResolveHost } from "./transport.js";

type Tx = Prisma.TransactionClient;

export type WebhookDeps = Pick<Deps, "prisma" | "config" | "clock" | "logger" | "redis" | "queuePrefix"> & {
  /** How host names resolve; the system resolver unless a test acts out DNS. */
  resolveHost?: ResolveHost;
  /** The backoff's jitter, in [0, 1); Math.random unless a test fixes it. */
  random?: () => number;
};

export const WEBHOOK_ATTEMPT = "webhook-attempt";
export const USER_AGENT = "Expertline-Webhooks/1.0";
/** An attempt whose endpoint is full tries again after this, plus up to as much again (jitter, so waiters do not move in step). */
export const ENDPOINT_BUSY_RETRY_MS = 1_000;

export interface AttemptJob {
  deliveryId: string;
  /** 1 for the first try; the delivery must have made attempt - 1 so far. */
  attempt: number;
  /** Sent again by the shop (redeliver): runs at once, and a failure of a settled delivery is not retried. */
  manual: boolean;
}

/** Attempt n of a delivery: one job id per attempt (and per kind), so a replayed enqueue is the same job. */
export function attemptJobId(job: Pick<AttemptJob, "deliveryId" | "attempt" | "manual">): string {
  return `webhook-${job.manual ? "redeliver" : "attempt"}-${job.deliveryId}-${job.attempt}`;
}

export function attemptOutboxJob(job: AttemptJob & { runAt?: Date }): OutboxJob {
  return {
    queue: QUEUES.webhooks,
    name: WEBHOOK_ATTEMPT,
    payload: { deliveryId: job.deliveryId, attempt: job.attempt, manual: job.manual },
    jobId: attemptJobId(job),
    ...(job.runAt ? { runAt: job.runAt } : {}),
  };
}

export async function enqueueAttempt(tx: Tx, job: AttemptJob & { runAt?: Date }): Promise<void> {
  await enqueue(tx, attemptOutboxJob(job));
}

/** The body of every POST of this event: the same bytes on every retry. */
export function eventPayload(event: Pick<WebhookEvent, "id" | "type" | "createdAt" | "data">) {
  return { id: publicEventId(event.id), type: event.type, createdAt: event.createdAt.toISOString(), data: event.data };
}

/**
 * One delivery per enabled endpoint that wants the event, each with its first
 * attempt queued, and the event marked fanned out (sweep.ts looks for events
 * that never were). Returns how many were created.
 */
export async function fanOutEvent(deps: Pick<WebhookDeps, "prisma" | "clock">, eventId: string): Promise<number> {
  return deps.prisma.$transaction(async (tx) => {
    const now = deps.clock.now();
    const event = await tx.webhookEvent.findUnique({ where: { id: eventId }, select: { shopId: true, type: true, fannedOutAt: true } });
    if (!event) return 0;
    if (!event.fannedOutAt) await tx.webhookEvent.update({ where: { id: eventId }, data: { fannedOutAt: now } });
    const endpoints = await tx.webhookEndpoint.findMany({
      where: { shopId: event.shopId, enabled: true, events: { hasSome: [event.type, ALL_EVENTS] } },
      select: { id: true },
    });
    if (endpoints.length === 0) return 0;
    const created = await tx.webhookDelivery.createManyAndReturn({
      data: endpoints.map((endpoint) => ({ endpointId: endpoint.id, eventId, nextAttemptAt: now, createdAt: now })),
      skipDuplicates: true,
      select: { id: true },
    });
    for (const delivery of created) await enqueueAttempt(tx, { deliveryId: delivery.id, attempt: 1, manual: false });
    return created.length;
  });
}

const GAVE_UP_DISABLED = "given up: the endpoint was disabled";

/**
 * Turns an endpoint off: its pending deliveries are given up. When we do it
 * (not the shop), the shop's other endpoints that want it hear of it.
 * Returns false when it was already disabled.
 */
export async function disableEndpoint(tx: Tx, input: { endpointId: string; reason: string; at: Date; notify: boolean }): Promise<boolean> {
  const { count } = await tx.webhookEndpoint.updateMany({
    where: { id: input.endpointId, enabled: true },
    data: { enabled: false, disabledAt: input.at, disabledReason: input.reason },
  });
  if (count === 0) return false;
  await tx.webhookDelivery.updateMany({
    where: { endpointId: input.endpointId, status: "pending" },
    data: { status: "failed", nextAttemptAt: null, lastError: GAVE_UP_DISABLED },
  });
  if (input.notify) {
    const endpoint = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: input.endpointId }, select: { shopId: true, url: true } });
    await emitWebhookEvent(tx, {
      shopId: endpoint.shopId,
      type: "webhook_endpoint.disabled",
      dedupeKey: `webhook_endpoint.disabled:${input.endpointId}:${input.at.getTime()}`,
      at: input.at,
      // A record of it stays in the shop's events even with no other endpoint to tell.
      always: true,
      data: () => ({ endpointId: input.endpointId, url: endpoint.url, reason: input.reason, disabledAt: input.at.toISOString() }),
    });
  }
  return true;
}

type LoadedDelivery = WebhookDelivery & { endpoint: WebhookEndpoint; event: WebhookEvent };

/** Runs attempt `job.attempt` of a delivery: sign, POST, record. */
export async function attemptDelivery(deps: WebhookDeps, job: AttemptJob, context: Pick<JobContext, "delayUntil">): Promise<void> {
  const { prisma, clock } = deps;
  const delivery = await prisma.webhookDelivery.findUnique({ where: { id: job.deliveryId }, include: { endpoint: true, event: true } });
  // Gone (endpoint deleted), already made (a replayed job), or overtaken by a redelivery.
  if (!delivery || delivery.attempts !== job.attempt - 1) return;
  if (!job.manual) {
    if (delivery.status !== "pending") return; // delivered, or given up
    if (delivery.nextAttemptAt && delivery.nextAttemptAt > clock.now()) await context.delayUntil(delivery.nextAttemptAt);
  }
  if (!delivery.endpoint.enabled) {
    await prisma.webhookDelivery.updateMany({
      where: { id: delivery.id, status: "pending" },
      data: { status: "failed", nextAttemptAt: null, lastError: GAVE_UP_DISABLED },
    });
    return;
  }
  const settings = webhookSettings(deps.config);
  const release = await acquireSlot(deps, delivery.endpointId, { leaseMs: slotLeaseMs(settings.timeoutMs) });
  if (!release) {
    // Real time, as BullMQ's delays are: the slot frees on the wall clock, whatever the injected one says.
    await context.delayUntil(new Date(Date.now() + ENDPOINT_BUSY_RETRY_MS * (1 + (deps.random ?? Math.random)())));
  }
  let outcome: PostOutcome;
  const startedAt = clock.now();
  try {
    outcome = await post(deps, delivery, job, settings, startedAt);
  } finally {
    // A release that fails (Redis gone) costs the slot until its lease runs out, not the outcome.
    await release?.().catch((error: unknown) => deps.logger.warn({ endpointId: delivery.endpointId, err: error }, "could not release a webhook endpoint's in-flight slot"));
  }
  if (outcome.refusalDetail) {
    // The shop sees only that the name does not resolve to a public address; which address it was is for us.
    deps.logger.warn(
      { deliveryId: delivery.id, endpointId: delivery.endpointId, shopId: delivery.endpoint.shopId, host: new URL(delivery.endpoint.url).host, detail: outcome.refusalDetail },
      "webhook delivery refused: the endpoint's host resolves to an address we do not call",
    );
  }
  await recordOutcome(deps, { delivery, job, outcome, startedAt });
}

function post(deps: WebhookDeps, delivery: LoadedDelivery, job: AttemptJob, settings: ReturnType<typeof webhookSettings>, startedAt: Date): Promise<PostOutcome> {
  const body = JSON.stringify(eventPayload(delivery.event));
  return postWebhook({
    url: delivery.endpoint.url,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "expertline-event-id": publicEventId(delivery.event.id),
      "expertline-event-type": delivery.event.type,
      "expertline-delivery-id": delivery.id,
      "expertline-delivery-attempt": String(job.attempt),
      "expertline-signature": signatureHeader({
        timestamp: Math.floor(startedAt.getTime() / 1000),
        body,
        secrets: signingSecrets(settings.signingKey, delivery.endpoint, startedAt),
      }),
    },
    timeoutMs: settings.timeoutMs,
    policy: { allowLoopback: settings.allowLoopback },
    resolve: deps.resolveHost ?? systemResolver(dnsBudgetMs(settings.timeoutMs)),
  });
}

async function recordOutcome(
  deps: WebhookDeps,
  { delivery, job, outcome, startedAt }: { delivery: LoadedDelivery; job: AttemptJob; outcome: PostOutcome; startedAt: Date },
): Promise<void> {
  const { prisma, clock, logger } = deps;
  const finishedAt = clock.now();
  const endpointId = delivery.endpointId;
  const disabledFor = await prisma.$transaction(async (tx) => {
    // A redelivery of a delivered (or given-up) event is one try; a pending delivery keeps its retries.
    const retrying = !outcome.ok && delivery.status === "pending";
    const retryAt = retrying ? nextRetryAt({ firstDueAt: delivery.createdAt, attemptsMade: job.attempt, now: finishedAt, random: (deps.random ?? Math.random)() }) : null;
    const { count } = await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, attempts: job.attempt - 1 },
      data: {
        attempts: job.attempt,
        status: outcome.ok ? "succeeded" : retryAt ? "pending" : "failed",
        lastAttemptAt: startedAt,
        lastResponseCode: outcome.responseCode,
        lastError: outcome.error,
        nextAttemptAt: retryAt,
        ...(outcome.ok ? { deliveredAt: finishedAt } : {}),
      },
    });
    if (count === 0) return null; // another run of this attempt recorded it first
    await tx.webhookAttempt.createMany({
      data: [
        {
          deliveryId: delivery.id,
          number: job.attempt,
          trigger: job.manual ? "manual" : "automatic",
          startedAt,
          durationMs: outcome.durationMs,
          responseCode: outcome.responseCode,
          responseExcerpt: outcome.responseExcerpt,
          error: outcome.error,
        },
      ],
      skipDuplicates: true,
    });
    if (outcome.ok) {
      await tx.webhookEndpoint.update({ where: { id: endpointId }, data: { lastSuccessAt: finishedAt, failingSince: null } });
      return null;
    }
    await tx.$executeRaw`UPDATE "WebhookEndpoint" SET "failingSince" = COALESCE("failingSince", ${startedAt}) WHERE "id" = ${endpointId}::uuid`;
    if (retryAt) {
      await enqueueAttempt(tx, { deliveryId: delivery.id, attempt: job.attempt + 1, manual: false, runAt: retryAt });
      return null;
    }
    if (!retrying) return null;
    // Out of retries: 3 days since this event was due. Without one success since then, the endpoint is off.
    const endpoint = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId }, select: { lastSuccessAt: true } });
    if (endpoint.lastSuccessAt && endpoint.lastSuccessAt >= delivery.createdAt) return null;
    const reason = `Disabled after 3 days of failed deliveries with no success (last attempt: ${outcome.error ?? "failed"})`;
    return (await disableEndpoint(tx, { endpointId, reason, at: finishedAt, notify: true })) ? reason : null;
  });
  if (disabledFor) {
    // The host only: a query string may carry something the shop considers private.
    logger.warn({ endpointId, shopId: delivery.endpoint.shopId, host: new URL(delivery.endpoint.url).host, reason: disabledFor }, "webhook endpoint disabled");
  }
}
