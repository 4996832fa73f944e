import { adminAuth, idempotencyHeaders, idParams, shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf } from "../../lib/pagination.js";
import { adminNameOf, shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import type { PayoutService } from "./payout.service.js";
import {
  approveBody,
  holdBody,
  listPayoutsQuery,
  payoutDetailSchema,
  payoutSchema,
  refundBody,
  refundSchema,
  rejectBody,
  retriedClawbackSchema,
  runResultSchema,
} from "./payouts.schemas.js";

/** Admin: payout review. Mounted under /v1/admin behind an admin key. */
export const adminPayoutRoutes: RoutesPlugin<{ payouts: PayoutService }> = async (app, { payouts }) => {
  const tags = ["admin"];
  const security = adminAuth;

  app.post(
    "/payouts/run",
    {
      schema: {
        tags,
        security,
        summary: "Gather unpaid earnings past the review window into payouts for review (the hourly job does the same)",
        headers: idempotencyHeaders,
        response: { 200: runResultSchema, ...commonErrors },
      },
    },
    async () => payouts.run(),
  );

  app.get(
    "/payouts",
    {
      schema: { tags, security, summary: "Payouts, newest first, e.g. ?status=pending_review", querystring: listPayoutsQuery, response: { 200: pageOf(payoutSchema), ...commonErrors } },
    },
    async (request) => payouts.list(request.query),
  );

  app.get(
    "/payouts/:id",
    {
      schema: {
        tags,
        security,
        summary: "One payout with its sessions, ledger lines, risk flags, decisions and clawbacks",
        params: idParams,
        response: { 200: payoutDetailSchema, ...commonErrors },
      },
    },
    async (request) => payouts.detail(request.params.id),
  );

  app.post(
    "/payouts/:id/approve",
    {
      schema: {
        tags,
        security,
        summary: "Approve: the transfer to the expert's Stripe account is queued",
        params: idParams,
        headers: idempotencyHeaders,
        body: approveBody,
        response: { 200: payoutDetailSchema, ...commonErrors },
      },
    },
    async (request) => payouts.decide({ payoutId: request.params.id, action: "approve", actor: adminNameOf(request), note: request.body.note }),
  );

  app.post(
    "/payouts/:id/hold",
    {
      schema: { tags, security, summary: "Hold, with a note (nothing moves until it is approved)", params: idParams, headers: idempotencyHeaders, body: holdBody, response: { 200: payoutDetailSchema, ...commonErrors } },
    },
    async (request) => payouts.decide({ payoutId: request.params.id, action: "hold", actor: adminNameOf(request), note: request.body.note }),
  );

  app.post(
    "/payouts/:id/reject",
    {
      schema: {
        tags,
        security,
        summary: "Reject, with a note: the earnings are released for a later payout, or reversed (the sessions are refunded to the shop)",
        params: idParams,
        headers: idempotencyHeaders,
        body: rejectBody,
        response: { 200: payoutDetailSchema, ...commonErrors },
      },
    },
    async (request) =>
      payouts.decide({ payoutId: request.params.id, action: "reject", actor: adminNameOf(request), note: request.body.note, earnings: request.body.earnings }),
  );
};

/** Admin: clawbacks of refunded, already paid earnings. */
export const adminRefundRoutes: RoutesPlugin<{ payouts: PayoutService }> = async (app, { payouts }) => {
  app.post(
    "/refunds/:id/retry-clawback",
    {
      schema: {
        tags: ["admin"],
        security: adminAuth,
        summary: "Retry a failed clawback (a new attempt), or run a pending one again (the payout's detail lists each clawback and why it failed)",
        params: idParams,
        headers: idempotencyHeaders,
        response: { 202: retriedClawbackSchema, ...commonErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await payouts.retryClawback(request.params.id)),
  );
};

/** Shop: refunds of its own sessions. */
export const refundRoutes: RoutesPlugin<{ payouts: PayoutService }> = async (app, { payouts }) => {
  app.post(
    "/sessions/:id/refund",
    {
      schema: {
        tags: ["ledger"],
        security: shopAuth,
        summary: "Refund a session in full or in part; the expert's share is reversed, or clawed back if already paid",
        params: idParams,
        headers: idempotencyHeaders,
        body: refundBody,
        response: { 201: refundSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await payouts.refund({ shopId: shopIdOf(request), sessionId: request.params.id, amountMinor: request.body.amountMinor, reason: request.body.reason })),
  );
};
