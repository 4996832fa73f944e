import { z } from "zod";
import { adminAuth, idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import {
  adminListExpertsQuery,
  createExpertBody,
  expertSchema,
  listExpertsQuery,
  updateExpertBody,
  vettingBody,
} from "./schemas.js";
import type { ExpertService } from "./service.js";

export const expertRoutes: RoutesPlugin<{ experts: ExpertService }> = async (app, { experts }) => {
  const tags = ["experts"];
  const security = shopAuth;

  app.post(
    "/experts",
    {
      schema: {
        tags,
        security,
        summary: "Invite an expert by phone number (starts invited, vetting pending)",
        headers: idempotencyHeaders,
        body: createExpertBody,
        response: { 201: expertSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await experts.createExpert(shopIdOf(request), request.body)),
  );

  app.get(
    "/experts",
    {
      schema: {
        tags,
        security,
        summary: "List experts, newest first",
        querystring: listExpertsQuery,
        response: { 200: pageOf(expertSchema), ...commonErrors },
      },
    },
    async (request) => experts.listExperts(shopIdOf(request), request.query),
  );

  app.get(
    "/experts/:id",
    { schema: { tags, security, params: idParams, response: { 200: expertSchema, ...commonErrors } } },
    async (request) => experts.getExpert(shopIdOf(request), request.params.id),
  );

  app.patch(
    "/experts/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change an expert; a new phone number must be verified again",
        params: idParams,
        body: updateExpertBody,
        response: { 200: expertSchema, ...commonErrors },
      },
    },
    async (request) => experts.updateExpert(shopIdOf(request), request.params.id, request.body),
  );

  app.delete(
    "/experts/:id",
    {
      schema: {
        tags,
        security,
        summary: "Remove an expert with no history (otherwise suspend)",
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await experts.deleteExpert(shopIdOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/experts/:id/suspend",
    {
      schema: { tags, security, summary: "Stop all offers to the expert", params: idParams, headers: idempotencyHeaders, response: { 200: expertSchema, ...commonErrors } },
    },
    async (request) => experts.suspendExpert(shopIdOf(request), request.params.id),
  );

  app.post(
    "/experts/:id/reinstate",
    {
      schema: { tags, security, summary: "Undo a suspension", params: idParams, headers: idempotencyHeaders, response: { 200: expertSchema, ...commonErrors } },
    },
    async (request) => experts.reinstateExpert(shopIdOf(request), request.params.id),
  );
};

/** Admin: vetting. Mounted under /v1/admin behind the admin key. */
export const adminExpertRoutes: RoutesPlugin<{ experts: ExpertService }> = async (app, { experts }) => {
  app.get(
    "/experts",
    {
      schema: {
        tags: ["admin"],
        security: adminAuth,
        summary: "Experts of every shop, e.g. ?vettingStatus=pending for the vetting queue",
        querystring: adminListExpertsQuery,
        response: { 200: pageOf(expertSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { shopId, ...query } = request.query;
      return experts.listExperts(shopId, query);
    },
  );

  app.post(
    "/experts/:id/vetting",
    {
      schema: {
        tags: ["admin"],
        security: adminAuth,
        summary: "Approve or reject an expert (decided once)",
        params: idParams,
        headers: idempotencyHeaders,
        body: vettingBody,
        response: { 200: expertSchema, ...commonErrors },
      },
    },
    async (request) => experts.decideVetting(request.params.id, request.body.decision, request.body.note),
  );
};
