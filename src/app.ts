/**
 * Builds the HTTP application from its dependencies, without listening, so
 * tests can `inject` requests or listen on a port of their choosing.
 * Modules are registered explicitly here: this file is the dependency graph.
 */
import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Deps } from "./deps.js";
import { healthRoutes } from "./modules/health/routes.js";
import { adminExpertRoutes, expertRoutes } from "./modules/experts/routes.js";
import { createExpertService } from "./modules/experts/service.js";
import { poolRoutes } from "./modules/pools/routes.js";
import { createPoolService } from "./modules/pools/service.js";
import { createLedgerReportService } from "./modules/payments/ledger-reports.js";
import { ledgerRoutes } from "./modules/payments/ledger.routes.js";
import { productRoutes } from "./modules/products/routes.js";
import { questionRoutes } from "./modules/questions/routes.js";
import { createQuestionService } from "./modules/questions/service.js";
import { statusPageRoutes } from "./modules/questions/status.routes.js";
import { voiceSessionRoutes } from "./modules/sessions/voice.routes.js";
import { voiceIntakeRoutes } from "./modules/questions/voice.routes.js";
import { createProductService } from "./modules/products/service.js";
import { onboardingRoutes } from "./modules/payments/onboarding.routes.js";
import { createPayoutService } from "./modules/payments/payout.service.js";
import { adminPayoutRoutes, adminRefundRoutes, refundRoutes } from "./modules/payments/payouts.routes.js";
import { stripeWebhookRoutes } from "./modules/payments/stripe-webhook.routes.js";
import { adminShopRoutes, shopRoutes } from "./modules/shops/routes.js";
import { createShopService } from "./modules/shops/service.js";
import { tagRoutes } from "./modules/tags/routes.js";
import { createNumberService } from "./modules/telephony/numbers.js";
import { phoneNumberRoutes } from "./modules/telephony/numbers.routes.js";
import { verifyTwilioWebhooks } from "./modules/telephony/twilio-scope.js";
import { twilioWebhookRoutes } from "./modules/telephony/webhooks.routes.js";
import { createTagService } from "./modules/tags/service.js";
import { webhookRoutes } from "./modules/webhooks/routes.js";
import { createWebhookService } from "./modules/webhooks/service.js";
import { authHooks } from "./plugins/auth.js";
import errors, { clientErrorHandler, frameworkErrors } from "./plugins/errors.js";
import idempotency from "./plugins/idempotency.js";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export type App = Awaited<ReturnType<typeof buildApp>>;

export async function buildApp(deps: Deps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    // Accept a caller's X-Request-Id (proxies, the shop's own tracing) when it is sane.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Errors the router raises before any hook runs (a malformed URL encoding) are problems too.
    frameworkErrors,
    // ...and so are requests Node's HTTP parser refuses before Fastify sees them.
    clientErrorHandler,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.decorateRequest("caller", null);

  await app.register(errors);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "expertline API",
        version: "1.0.0",
        description:
          "Shops route their customers' product questions to vetted expert customers, by SMS and voice. " +
          "Errors are application/problem+json (RFC 9457). Lists are cursor-paginated: pass nextCursor as ?cursor=.",
      },
      servers: [{ url: deps.config.PUBLIC_BASE_URL }],
      components: {
        securitySchemes: {
          shopApiKey: { type: "http", scheme: "bearer", description: "A shop API key (el_live_...)" },
          adminApiKey: { type: "http", scheme: "bearer", description: "The platform admin key" },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(idempotency, { prisma: deps.prisma, clock: deps.clock });

  const shops = createShopService(deps);
  const products = createProductService(deps);
  const tags = createTagService(deps);
  const pools = createPoolService(deps);
  const experts = createExpertService(deps);
  const numbers = createNumberService(deps);
  const questions = createQuestionService(deps);
  const webhooks = createWebhookService(deps);
  const ledgerReports = createLedgerReportService(deps);
  const payouts = createPayoutService(deps);
  const { requireAdmin, requireShop } = authHooks(deps);

  await app.register(healthRoutes, { deps });
  // Public, no key: the customer's virtual ticket.
  await app.register(statusPageRoutes, { deps });
  // Public, no key: the expert's payout set-up link (the token is the credential).
  await app.register(onboardingRoutes, { deps });
  // Stripe's webhook: the raw JSON body (for Stripe-Signature), in its own scope.
  await app.register(stripeWebhookRoutes, { deps });
  // Twilio webhooks: form bodies, signature-verified, in their own scope.
  await app.register(async (twilioScope) => {
    await verifyTwilioWebhooks(twilioScope, deps);
    await twilioScope.register(twilioWebhookRoutes, { deps });
    await twilioScope.register(voiceSessionRoutes, { deps });
    await twilioScope.register(voiceIntakeRoutes, { deps });
  });

  await app.register(
    async (admin) => {
      admin.addHook("onRequest", requireAdmin);
      await admin.register(adminShopRoutes, { shops });
      await admin.register(adminExpertRoutes, { experts });
      await admin.register(phoneNumberRoutes, { numbers });
      await admin.register(adminPayoutRoutes, { payouts });
      await admin.register(adminRefundRoutes, { payouts });
    },
    { prefix: "/v1/admin" },
  );

  await app.register(
    async (shop) => {
      shop.addHook("onRequest", requireShop);
      await shop.register(shopRoutes, { shops });
      await shop.register(productRoutes, { products });
      await shop.register(tagRoutes, { tags });
      await shop.register(poolRoutes, { pools });
      await shop.register(expertRoutes, { experts });
      await shop.register(questionRoutes, { questions });
      await shop.register(webhookRoutes, { webhooks });
      await shop.register(refundRoutes, { payouts });
      await shop.register(ledgerRoutes, { ledgerReports });
    },
    { prefix: "/v1" },
  );

  return app;
}
