import { z } from "zod";
import { idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf, pageQuery } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import {
  addMemberBody,
  createPoolBody,
  listPoolsQuery,
  memberParams,
  poolMemberSchema,
  poolSchema,
  updatePoolBody,
} from "./schemas.js";
import type { PoolService } from "./service.js";

export const poolRoutes: RoutesPlugin<{ pools: PoolService }> = async (app, { pools }) => {
  const tags = ["pools"];
  const security = shopAuth;

  app.post(
    "/pools",
    {
      schema: {
        tags,
        security,
        summary: "Create an expert pool with its pricing and offer policy",
        headers: idempotencyHeaders,
        body: createPoolBody,
        response: { 201: poolSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await pools.createPool(shopIdOf(request), request.body)),
  );

  app.get(
    "/pools",
    {
      schema: { tags, security, summary: "List pools, newest first", querystring: listPoolsQuery, response: { 200: pageOf(poolSchema), ...commonErrors } },
    },
    async (request) => pools.listPools(shopIdOf(request), request.query),
  );

  app.get(
    "/pools/:id",
    { schema: { tags, security, params: idParams, response: { 200: poolSchema, ...commonErrors } } },
    async (request) => pools.getPool(shopIdOf(request), request.params.id),
  );

  app.patch(
    "/pools/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change a pool; pricing, offerPolicy and productIds are replaced as a whole",
        params: idParams,
        body: updatePoolBody,
        response: { 200: poolSchema, ...commonErrors },
      },
    },
    async (request) => pools.updatePool(shopIdOf(request), request.params.id, request.body),
  );

  app.delete(
    "/pools/:id",
    { schema: { tags, security, params: idParams, response: { 204: z.null(), ...commonErrors } } },
    async (request, reply) => {
      await pools.deletePool(shopIdOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/pools/:id/members",
    {
      schema: { tags, security, params: idParams, querystring: pageQuery, response: { 200: pageOf(poolMemberSchema), ...commonErrors } },
    },
    async (request) => pools.listMembers(shopIdOf(request), request.params.id, request.query),
  );

  app.post(
    "/pools/:id/members",
    {
      schema: {
        tags,
        security,
        summary: "Add an expert to the pool (201 when added, 200 when already a member)",
        params: idParams,
        headers: idempotencyHeaders,
        body: addMemberBody,
        response: { 200: poolMemberSchema, 201: poolMemberSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { created, member } = await pools.addMember(shopIdOf(request), request.params.id, request.body.expertId);
      return reply.code(created ? 201 : 200).send(member);
    },
  );

  app.delete(
    "/pools/:id/members/:expertId",
    { schema: { tags, security, params: memberParams, response: { 204: z.null(), ...commonErrors } } },
    async (request, reply) => {
      await pools.removeMember(shopIdOf(request), request.params.id, request.params.expertId);
      return reply.code(204).send(null);
    },
  );
};
