import { z } from "zod";
import { idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf, pageQuery } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { secretIssuing } from "../../plugins/idempotency.js";
import { commonErrors } from "../../plugins/problem.js";
import {
  createEndpointBody,
  deliveryDetailSchema,
  deliveryParams,
  deliverySchema,
  endpointSchema,
  issuedEndpointSchema,
  listDeliveriesQuery,
  rotateSecretBody,
  updateEndpointBody,
} from "./schemas.js";
import type { WebhookService } from "./service.js";

/** A repeated request may learn which endpoint was made, never its secret. */
const issuesSecret = secretIssuing((issued: { id: string }) => ({ webhookEndpointId: issued.id }));

export const webhookRoutes: RoutesPlugin<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  const tags = ["webhooks"];
  const security = shopAuth;

  app.post(
    "/webhook-endpoints",
    {
      schema: {
        tags,
        security,
        summary: "Register a URL for signed event notifications (the signing secret is shown once)",
        headers: idempotencyHeaders,
        body: createEndpointBody,
        response: { 201: issuedEndpointSchema, ...commonErrors },
      },
      config: { idempotency: issuesSecret },
    },
    async (request, reply) => reply.code(201).send(await webhooks.createEndpoint(shopIdOf(request), request.body)),
  );

  app.get(
    "/webhook-endpoints",
    {
      schema: { tags, security, summary: "List webhook endpoints, newest first", querystring: pageQuery, response: { 200: pageOf(endpointSchema), ...commonErrors } },
    },
    async (request) => webhooks.listEndpoints(shopIdOf(request), request.query),
  );

  app.get(
    "/webhook-endpoints/:id",
    {
      schema: {
        tags,
        security,
        summary: "One webhook endpoint, with why it is disabled when it is",
        params: idParams,
        response: { 200: endpointSchema, ...commonErrors },
      },
    },
    async (request) => webhooks.getEndpoint(shopIdOf(request), request.params.id),
  );

  app.patch(
    "/webhook-endpoints/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change the URL, the events or the description; turn the endpoint off or back on",
        params: idParams,
        body: updateEndpointBody,
        response: { 200: endpointSchema, ...commonErrors },
      },
    },
    async (request) => webhooks.updateEndpoint(shopIdOf(request), request.params.id, request.body),
  );

  app.delete(
    "/webhook-endpoints/:id",
    {
      schema: { tags, security, summary: "Delete an endpoint and its delivery log", params: idParams, response: { 204: z.null(), ...commonErrors } },
    },
    async (request, reply) => {
      await webhooks.deleteEndpoint(shopIdOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/webhook-endpoints/:id/rotate-secret",
    {
      schema: {
        tags,
        security,
        summary: "Issue a new signing secret (shown once); the old one keeps signing beside it for expiresInSeconds",
        params: idParams,
        headers: idempotencyHeaders,
        body: rotateSecretBody,
        response: { 200: issuedEndpointSchema, ...commonErrors },
      },
      config: { idempotency: issuesSecret },
    },
    async (request) => webhooks.rotateSecret(shopIdOf(request), request.params.id, request.body),
  );

  app.get(
    "/webhook-endpoints/:id/deliveries",
    {
      schema: {
        tags,
        security,
        summary: "The delivery log, newest first: status, attempts, last response code, next attempt",
        params: idParams,
        querystring: listDeliveriesQuery,
        response: { 200: pageOf(deliverySchema), ...commonErrors },
      },
    },
    async (request) => webhooks.listDeliveries(shopIdOf(request), request.params.id, request.query),
  );

  app.get(
    "/webhook-endpoints/:id/deliveries/:deliveryId",
    {
      schema: {
        tags,
        security,
        summary: "One delivery: the body as sent and every attempt (response code, timing, first 2 KB of the response)",
        params: deliveryParams,
        response: { 200: deliveryDetailSchema, ...commonErrors },
      },
    },
    async (request) => webhooks.getDelivery(shopIdOf(request), request.params.id, request.params.deliveryId),
  );

  app.post(
    "/webhook-endpoints/:id/deliveries/:deliveryId/redeliver",
    {
      schema: {
        tags,
        security,
        summary: "Send the event again now (same event id); 202: the attempt is queued",
        params: deliveryParams,
        headers: idempotencyHeaders,
        response: { 202: deliverySchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await webhooks.redeliver(shopIdOf(request), request.params.id, request.params.deliveryId)),
  );
};
