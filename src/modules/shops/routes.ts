import { adminAuth, idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf, pageQuery } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { secretIssuing } from "../../plugins/idempotency.js";
import { commonErrors } from "../../plugins/problem.js";
import {
  adminUpdateShopBody,
  apiKeySchema,
  createApiKeyBody,
  createShopBody,
  createShopResponse,
  issuedApiKeySchema,
  shopSchema,
  updateShopBody,
} from "./schemas.js";
import type { ShopService } from "./service.js";

/** Admin: onboard shops. Mounted under /v1/admin behind the admin key. */
export const adminShopRoutes: RoutesPlugin<{ shops: ShopService }> = async (app, { shops }) => {
  const tags = ["admin"];
  app.post(
    "/shops",
    {
      schema: {
        tags,
        security: adminAuth,
        summary: "Create a shop and its first API key (the key is shown once)",
        headers: idempotencyHeaders,
        body: createShopBody,
        response: { 201: createShopResponse, ...commonErrors },
      },
      config: {
        idempotency: secretIssuing((created: { shop: { id: string }; apiKey: { id: string; prefix: string } }) => ({
          shopId: created.shop.id,
          apiKeyId: created.apiKey.id,
          prefix: created.apiKey.prefix,
        })),
      },
    },
    async (request, reply) => reply.code(201).send(await shops.createShop(request.body)),
  );

  app.get(
    "/shops",
    {
      schema: {
        tags,
        security: adminAuth,
        summary: "List shops, newest first",
        querystring: pageQuery,
        response: { 200: pageOf(shopSchema), ...commonErrors },
      },
    },
    async (request) => shops.listShops(request.query),
  );

  app.get(
    "/shops/:id",
    {
      schema: { tags, security: adminAuth, summary: "One shop", params: idParams, response: { 200: shopSchema, ...commonErrors } },
    },
    async (request) => shops.getShop(request.params.id),
  );

  app.patch(
    "/shops/:id",
    {
      schema: {
        tags,
        security: adminAuth,
        summary: "Change a shop's SMS pumping guard (countries, daily cap on new customer numbers), country or status",
        params: idParams,
        body: adminUpdateShopBody,
        response: { 200: shopSchema, ...commonErrors },
      },
    },
    async (request) => shops.adminUpdateShop(request.params.id, request.body),
  );
};

/** The calling shop and its API keys. Mounted under /v1 behind a shop key. */
export const shopRoutes: RoutesPlugin<{ shops: ShopService }> = async (app, { shops }) => {
  app.get(
    "/shop",
    { schema: { tags: ["shop"], security: shopAuth, summary: "The calling shop", response: { 200: shopSchema, ...commonErrors } } },
    async (request) => shops.getShop(shopIdOf(request)),
  );

  app.patch(
    "/shop",
    {
      schema: {
        tags: ["shop"],
        security: shopAuth,
        summary: "Change the calling shop's name or the origins that may frame its status pages",
        body: updateShopBody,
        response: { 200: shopSchema, ...commonErrors },
      },
    },
    async (request) => shops.updateShop(shopIdOf(request), request.body),
  );

  const tags = ["api-keys"];
  app.get(
    "/api-keys",
    {
      schema: {
        tags,
        security: shopAuth,
        summary: "List this shop's API keys (never the secrets)",
        querystring: pageQuery,
        response: { 200: pageOf(apiKeySchema), ...commonErrors },
      },
    },
    async (request) => shops.listApiKeys(shopIdOf(request), request.query),
  );

  app.post(
    "/api-keys",
    {
      schema: {
        tags,
        security: shopAuth,
        summary: "Create an API key (the key is shown once)",
        headers: idempotencyHeaders,
        body: createApiKeyBody,
        response: { 201: issuedApiKeySchema, ...commonErrors },
      },
      config: {
        idempotency: secretIssuing((created: { id: string; prefix: string }) => ({ apiKeyId: created.id, prefix: created.prefix })),
      },
    },
    async (request, reply) => reply.code(201).send(await shops.createApiKey(shopIdOf(request), request.body.name)),
  );

  app.delete(
    "/api-keys/:id",
    {
      schema: {
        tags,
        security: shopAuth,
        summary: "Revoke an API key (permanent; the last active key cannot be revoked)",
        params: idParams,
        response: { 200: apiKeySchema, ...commonErrors },
      },
    },
    async (request) => shops.revokeApiKey(shopIdOf(request), request.params.id),
  );
};

