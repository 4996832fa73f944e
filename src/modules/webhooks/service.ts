/**
 * A shop's webhook endpoints and their delivery log. Every read and write is
 * scoped by the calling shop: another shop's endpoint or delivery is a 404,
 * exactly like a missing one.
 */
import type { WebhookEndpoint } from "../../generated/prisma/client.js";
import { uuidv7 } from "../../lib/ids.js";
import { afterCursor, pageArgs, toPage, type PageQuery } from "../../lib/pagination.js";
import { conflict, DomainError, notFound } from "../../lib/problems.js";
import { addressesRefusal, hostOf, urlRefusal } from "./address-policy.js";
import { disableEndpoint, enqueueAttempt, eventPayload, type WebhookDeps } from "./delivery.js";
import { publicEventId } from "./event-types.js";
import { MAX_ENDPOINTS_PER_SHOP, type CreateEndpoint, type UpdateEndpoint } from "./schemas.js";
import { webhookSettings } from "./settings.js";
import { deriveSigningSecret, newSecretSalt } from "./signature.js";
import { dnsBudgetMs, resolveWithin, ResolveTimeout, systemResolver } from "./transport.js";

function toEndpointView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabledAt: endpoint.disabledAt,
    disabledReason: endpoint.disabledReason,
    failingSince: endpoint.failingSince,
    lastSuccessAt: endpoint.lastSuccessAt,
    previousSecretExpiresAt: endpoint.previousSecretSalt ? endpoint.previousSecretExpiresAt : null,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

const deliveryInclude = { event: { select: { id: true, type: true, createdAt: true } } } as const;

function toDeliveryView(delivery: {
  id: string;
  endpointId: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastAttemptAt: Date | null;
  lastResponseCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  event: { id: string; type: string; createdAt: Date };
}) {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    event: { id: publicEventId(delivery.event.id), type: delivery.event.type, createdAt: delivery.event.createdAt },
    status: delivery.status,
    attempts: delivery.attempts,
    lastAttemptAt: delivery.lastAttemptAt,
    lastResponseCode: delivery.lastResponseCode,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.nextAttemptAt,
    deliveredAt: delivery.deliveredAt,
    createdAt: delivery.createdAt,
  };
}

/** A URL we will not call: a 400 that names the field and says why. */
function urlRefused(message: string): DomainError {
  return new DomainError(400, "webhook-url-refused", `The webhook URL is refused: it ${message}`, [{ path: "body.url", message }]);
}

export function createWebhookService(deps: WebhookDeps) {
  const { prisma, clock } = deps;
  const settings = webhookSettings(deps.config);
  // Registration waits for DNS no longer than a delivery would: a name that never answers is a 400, not a hung request.
  const dnsBudget = dnsBudgetMs(settings.timeoutMs);
  const resolve = deps.resolveHost ?? systemResolver(dnsBudget);

  const policy = { allowLoopback: settings.allowLoopback };

  /**
   * The URL as stored, or a 400. A name must resolve now, to addresses the
   * policy takes (public ones; loopback too in development); delivery checks
   * again, since DNS answers change. The 400 never says which address a name
   * resolved to (that would map our internal DNS for the shop): the log does.
   */
  async function checkUrl(shopId: string, raw: string): Promise<string> {
    const refusal = urlRefusal(raw, policy);
    if (refusal) throw urlRefused(refusal);
    const url = new URL(raw);
    const host = hostOf(url);
    let addresses: string[];
    try {
      addresses = (await resolveWithin(host, resolve, dnsBudget)).map((entry) => entry.address);
    } catch (error) {
      if (error instanceof ResolveTimeout || (error as NodeJS.ErrnoException).code === "ETIMEOUT") {
        throw urlRefused(`must name a host that resolves in time: ${host} could not be resolved within ${dnsBudget} ms`);
      }
      throw urlRefused(`must name a host that resolves: ${host} does not`);
    }
    const unsafe = addressesRefusal(host, addresses, policy);
    if (unsafe) {
      deps.logger.info({ shopId, host, detail: unsafe.detail }, "webhook URL refused: its host resolves to an address we do not call");
      throw urlRefused(`must point to public addresses only: ${unsafe.reason}`);
    }
    return url.href;
  }

  async function findEndpoint(shopId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await prisma.webhookEndpoint.findFirst({ where: { id, shopId } });
    if (!endpoint) throw notFound("Webhook endpoint");
    return endpoint;
  }

  const secretOf = (endpointId: string, salt: string) => deriveSigningSecret(settings.signingKey, endpointId, salt);

  return {
    async createEndpoint(shopId: string, input: CreateEndpoint) {
      const url = await checkUrl(shopId, input.url);
      const id = uuidv7();
      const salt = newSecretSalt();
      const endpoint = await prisma.$transaction(async (tx) => {
        // Serialises a shop's creations so two at once cannot both pass the limit.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`webhook-endpoints:${shopId}`}))`;
        if ((await tx.webhookEndpoint.count({ where: { shopId } })) >= MAX_ENDPOINTS_PER_SHOP) {
          throw conflict("webhook-endpoint-limit", `A shop may have at most ${MAX_ENDPOINTS_PER_SHOP} webhook endpoints; delete one first`);
        }
        return tx.webhookEndpoint.create({
          data: { id, shopId, url, events: input.events, description: input.description ?? "", secretSalt: salt, createdAt: clock.now() },
        });
      });
      return { ...toEndpointView(endpoint), secret: secretOf(endpoint.id, salt) };
    },

    async listEndpoints(shopId: string, query: PageQuery) {
      const rows = await prisma.webhookEndpoint.findMany({ ...pageArgs(query), where: { shopId, ...afterCursor(query) } });
      const page = toPage(rows, query.limit);
      return { data: page.data.map(toEndpointView), nextCursor: page.nextCursor };
    },

    async getEndpoint(shopId: string, id: string) {
      return toEndpointView(await findEndpoint(shopId, id));
    },

    async updateEndpoint(shopId: string, id: string, input: UpdateEndpoint) {
      await findEndpoint(shopId, id);
      const url = input.url === undefined ? undefined : await checkUrl(shopId, input.url);
      const updated = await prisma.$transaction(async (tx) => {
        const now = clock.now();
        const { count } = await tx.webhookEndpoint.updateMany({
          where: { id, shopId },
          data: {
            ...(url !== undefined ? { url } : {}),
            ...(input.events !== undefined ? { events: input.events } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
          },
        });
        if (count === 0) throw notFound("Webhook endpoint"); // deleted meanwhile
        if (input.enabled === false) await disableEndpoint(tx, { endpointId: id, reason: "Disabled by the shop", at: now, notify: false });
        if (input.enabled === true) {
          // Back on with a clean slate: only new events are delivered; earlier ones can be sent again by hand.
          await tx.webhookEndpoint.updateMany({
            where: { id, enabled: false },
            data: { enabled: true, disabledAt: null, disabledReason: null, failingSince: null },
          });
        }
        return tx.webhookEndpoint.findUniqueOrThrow({ where: { id } });
      });
      return toEndpointView(updated);
    },

    async deleteEndpoint(shopId: string, id: string) {
      const { count } = await prisma.webhookEndpoint.deleteMany({ where: { id, shopId } });
      if (count === 0) throw notFound("Webhook endpoint");
    },

    /**
     * A new secret, shown once. The current one keeps signing beside it for
     * `expiresInSeconds` (0: not at all), so receivers can switch without
     * missing an event. Rotating again within that time drops the oldest.
     */
    async rotateSecret(shopId: string, id: string, { expiresInSeconds }: { expiresInSeconds: number }) {
      const current = await findEndpoint(shopId, id);
      const now = clock.now();
      const salt = newSecretSalt();
      const keepPrevious = expiresInSeconds > 0;
      const { count } = await prisma.webhookEndpoint.updateMany({
        // From the version we read: of two rotations at once, one wins and the other is told.
        where: { id, shopId, secretSalt: current.secretSalt },
        data: {
          secretSalt: salt,
          previousSecretSalt: keepPrevious ? current.secretSalt : null,
          previousSecretExpiresAt: keepPrevious ? new Date(now.getTime() + expiresInSeconds * 1000) : null,
        },
      });
      if (count === 0) throw conflict("webhook-secret-rotated-concurrently", "The secret was rotated by another request at the same time; rotate again if you need a new one");
      const endpoint = await findEndpoint(shopId, id);
      return { ...toEndpointView(endpoint), secret: secretOf(endpoint.id, salt) };
    },

    async listDeliveries(shopId: string, endpointId: string, query: PageQuery & { status?: "pending" | "succeeded" | "failed" | undefined }) {
      await findEndpoint(shopId, endpointId);
      const rows = await prisma.webhookDelivery.findMany({
        ...pageArgs(query),
        where: { endpointId, ...afterCursor(query), ...(query.status ? { status: query.status } : {}) },
        include: deliveryInclude,
      });
      const page = toPage(rows, query.limit);
      return { data: page.data.map(toDeliveryView), nextCursor: page.nextCursor };
    },

    async getDelivery(shopId: string, endpointId: string, deliveryId: string) {
      const delivery = await prisma.webhookDelivery.findFirst({
        where: { id: deliveryId, endpointId, endpoint: { shopId } },
        include: { event: true, history: { orderBy: { number: "asc" } } },
      });
      if (!delivery) throw notFound("Webhook delivery");
      return {
        ...toDeliveryView(delivery),
        payload: { ...eventPayload(delivery.event), data: delivery.event.data as Record<string, unknown> },
        history: delivery.history.map((attempt) => ({
          number: attempt.number,
          trigger: attempt.trigger === "manual" ? ("manual" as const) : ("automatic" as const),
          startedAt: attempt.startedAt,
          durationMs: attempt.durationMs,
          responseCode: attempt.responseCode,
          responseExcerpt: attempt.responseExcerpt,
          error: attempt.error,
        })),
      };
    },

    /** Sends the event again now: a new attempt, with the same event id. */
    async redeliver(shopId: string, endpointId: string, deliveryId: string) {
      const delivery = await prisma.$transaction(async (tx) => {
        const found = await tx.webhookDelivery.findFirst({
          where: { id: deliveryId, endpointId, endpoint: { shopId } },
          include: { endpoint: { select: { enabled: true } } },
        });
        if (!found) throw notFound("Webhook delivery");
        if (!found.endpoint.enabled) {
          throw conflict("webhook-endpoint-disabled", "The endpoint is disabled: turn it back on (PATCH with enabled: true) before sending events to it again");
        }
        // Two clicks before the attempt runs are one attempt: the job id carries its number.
        await enqueueAttempt(tx, { deliveryId, attempt: found.attempts + 1, manual: true });
        return tx.webhookDelivery.update({ where: { id: deliveryId }, data: { nextAttemptAt: clock.now() }, include: deliveryInclude });
      });
      return toDeliveryView(delivery);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
