/**
 * The Stripe API v1 subset the project calls, answering as Stripe does
 * (fact sheet): bearer auth with the secret key, form bodies in bracket
 * notation, a Request-Id on every response, errors as `{ error: {...} }`,
 * v1 idempotency, a rate limit and injected faults.
 *
 * Order of a request: Request-Id, auth (401), rate limit (429), contract
 * check (findings recorded), injected fault, idempotency claim (replay / 400
 * / 409), parameter validation then contract violations (refused, not
 * saved), execution (saved, errors included).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { unixSeconds } from "./clock.js";
import { invalidRequest, resourceMissing, StripeApiError } from "./errors.js";
import { canonicalParams, FormSyntaxError, parseStripeForm, type FormObject } from "./form.js";
import { newId } from "./ids.js";
import { accountLinkObject, accountObject, balanceObject, payoutObject, reversalListObject, reversalObject, transferObject } from "./objects.js";
import { Params, pathOf } from "./params.js";
import type { DashboardType, ListPage, StripeSandboxState } from "./state.js";

/**
 * The hook point for the Stripe contract (contract.ts's `checkStripeRequest`
 * has this shape): what the official spec says of a request. Violations
 * refuse it, as the real API would; parameters the 2023 spec does not know
 * are only reported (the SDK speaks a newer API version).
 */
export type StripeContractCheck = (request: { method: string; path: string; query?: FormObject; body?: FormObject }) => {
  violations: string[];
  unknownParams: string[];
};

export interface StripeRestOptions {
  state: StripeSandboxState;
  /** Where browsers reach the sandbox (account link URLs); defaults to the request's own host. */
  publicBaseUrl?: string;
  checkRequest?: StripeContractCheck;
}

interface Endpoint<Input> {
  /** Whether the Stripe-Account header (acting on a connected account) is taken: not at all (default), optionally, or required. */
  connect?: "optional" | "required";
  /** Reads and checks the parameters; a failure here is not saved under the idempotency key. */
  validate(params: Params, path: Record<string, string>): Input;
  /** Does the work; its answer, error or not, is what a replay gets. */
  execute(input: Input, context: { request: FastifyRequest; account: string | undefined }): { status?: number; body: unknown };
}

const AUTH_HELP =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

function stringAt(form: FormObject | undefined, ...path: string[]): string | undefined {
  const value = pathOf(form, ...path);
  return typeof value === "string" ? value : undefined;
}

function isDashboard(value: string): value is DashboardType {
  return value === "express" || value === "full" || value === "none";
}

function sendError(reply: FastifyReply, error: StripeApiError) {
  return reply.code(error.status).headers(error.headers).type("application/json").send(error.toJSON());
}

/** The key from `Bearer sk_...` or basic auth with the key as user name (both work at Stripe). */
function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value.trim();
  if (scheme?.toLowerCase() === "basic") return Buffer.from(value, "base64").toString("utf8").split(":")[0];
  return undefined;
}

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only the last 4 characters are shown back, as Stripe does; the key is never logged. */
function maskKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? "";
  return `${prefix}${"*".repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`;
}

/** A list endpoint's `limit` (1 to 100, default 10), `starting_after` and `ending_before`. */
function listPage(params: Params): ListPage {
  const limit = params.positiveInteger("limit");
  if (limit !== undefined && limit > 100) {
    // Stripe's range is 1 to 100 (spec); wording UNCONFIRMED.
    throw invalidRequest("This value must be less than or equal to 100.", { code: "parameter_invalid_integer", param: "limit" });
  }
  const startingAfter = params.string("starting_after");
  const endingBefore = params.string("ending_before");
  if (startingAfter !== undefined && endingBefore !== undefined) {
    // Wording UNCONFIRMED.
    throw invalidRequest("You may only specify one of these parameters: ending_before, starting_after.", { param: "starting_after" });
  }
  return {
    ...(limit !== undefined ? { limit } : {}),
    ...(startingAfter !== undefined ? { startingAfter } : {}),
    ...(endingBefore !== undefined ? { endingBefore } : {}),
  };
}

export async function registerStripeRest(app: FastifyInstance, options: StripeRestOptions) {
  const { state } = options;

  await app.register(async (api) => {
    // The raw text is kept; bracket notation is parsed by form.ts, not by querystring.
    api.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, body));

    api.addHook("onRequest", async (request, reply) => {
      const key = presentedKey(request.headers.authorization);
      if (!key) return sendError(reply, new StripeApiError(401, { type: "invalid_request_error", message: AUTH_HELP }));
      if (!sameKey(key, state.secretKey)) {
        return sendError(reply, new StripeApiError(401, { type: "invalid_request_error", message: `Invalid API Key provided: ${maskKey(key)}` }));
      }
      const idempotencyKey = request.headers["idempotency-key"];
      state.requests.push({ method: request.method, path: request.url.split("?")[0] ?? "", idempotencyKey: typeof idempotencyKey === "string" ? idempotencyKey : undefined });
      if (!state.takeRateToken()) {
        state.log("rate-limited", { method: request.method, path: request.url.split("?")[0] });
        // Real rate limits are not to be retried by the libraries (stripe-dotnet issue 1886);
        // that Stripe sends an explicit `false` here is UNCONFIRMED. Wording UNCONFIRMED.
        return sendError(
          reply,
          new StripeApiError(
            429,
            {
              type: "invalid_request_error",
              code: "rate_limit",
              message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
              doc_url: "https://stripe.com/docs/error-codes/rate-limit",
            },
            { "Stripe-Should-Retry": "false" },
          ),
        );
      }
    });

    api.setNotFoundHandler(async (request, reply) =>
      sendError(
        reply,
        invalidRequest(
          `Unrecognized request URL (${request.method}: ${request.url.split("?")[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          { status: 404 },
        ),
      ),
    );

    function route<Input>(method: "GET" | "POST", url: string, endpoint: Endpoint<Input>) {
      api.route({ method, url, handler: async (request, reply) => handle(request, reply, endpoint) });
    }

    async function handle<Input>(request: FastifyRequest, reply: FastifyReply, endpoint: Endpoint<Input>) {
      const [path = "", search = ""] = request.url.split("?");
      let form: FormObject;
      let query: FormObject;
      try {
        query = parseStripeForm(search);
        form = request.method === "GET" ? query : parseStripeForm(typeof request.body === "string" ? request.body : "");
      } catch (error) {
        if (error instanceof FormSyntaxError) return sendError(reply, invalidRequest(error.message));
        throw error;
      }

      // Every request is checked and its findings kept, whatever happens next; a
      // violation refuses the request only after the endpoint's own validation,
      // so what Stripe would say (parameter_missing, ...) comes first.
      const contract = options.checkRequest?.({ method: request.method, path, query, body: request.method === "GET" ? {} : form });
      if (contract && contract.unknownParams.length > 0) {
        state.contractUnknownParams.push({ method: request.method, path, unknownParams: contract.unknownParams });
      }
      if (contract && contract.violations.length > 0) {
        state.contractViolations.push({ method: request.method, path, violations: contract.violations });
        state.log("contract-violation", { method: request.method, path, violations: contract.violations });
      }

      // Injected faults strike before execution begins (like a failure in front of
      // the API), so they are not saved under an idempotency key and a retry can succeed.
      const fault = state.takeFault(path);
      if (fault) {
        state.log("fault-injected", { method: request.method, path, status: fault.status });
        return sendError(reply, fault);
      }

      const stripeAccount = typeof request.headers["stripe-account"] === "string" ? request.headers["stripe-account"] : undefined;
      if (stripeAccount !== undefined) {
        if (!endpoint.connect) {
          return sendError(reply, invalidRequest(`The Stripe sandbox does not model ${request.method} ${path} on a connected account (Stripe-Account).`));
        }
        if (!state.accounts.has(stripeAccount)) {
          // Status and wording UNCONFIRMED (recalled from the API).
          return sendError(
            reply,
            invalidRequest(`The provided key '${maskKey(state.secretKey)}' does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`, {
              status: 403,
            }),
          );
        }
      } else if (endpoint.connect === "required") {
        return sendError(reply, invalidRequest(`The Stripe sandbox only models ${request.method} ${path} on a connected account: send the Stripe-Account header.`));
      }

      const key = request.headers["idempotency-key"];
      const claim =
        request.method === "POST" && typeof key === "string" && key !== ""
          ? state.idempotency.claim(key, `${request.method} ${path}`, canonicalParams(form), stripeAccount ?? "")
          : undefined;
      if (claim?.kind === "replay") {
        state.log("idempotent-replay", { path, status: claim.response.status });
        return reply.code(claim.response.status).header("Idempotent-Replayed", "true").type("application/json").send(claim.response.body);
      }

      let input: Input;
      try {
        input = endpoint.validate(new Params(form), request.params as Record<string, string>);
      } catch (error) {
        claim?.abandon();
        throw error;
      }
      if (contract && contract.violations.length > 0) {
        claim?.abandon();
        return sendError(reply, invalidRequest(`Request does not match the API: ${contract.violations.join("; ")}`));
      }

      await state.passHold(path);
      let status: number;
      let body: unknown;
      const requestId = reply.getHeader("request-id");
      state.currentRequest = { id: typeof requestId === "string" ? requestId : "", idempotencyKey: typeof key === "string" && key !== "" ? key : undefined };
      try {
        const result = endpoint.execute(input, { request, account: stripeAccount });
        status = result.status ?? 200;
        body = result.body;
      } catch (error) {
        if (!(error instanceof StripeApiError)) {
          claim?.abandon();
          throw error;
        }
        claim?.save({ status: error.status, body: error.toJSON() });
        return sendError(reply, error);
      } finally {
        state.currentRequest = undefined;
      }
      claim?.save({ status, body });

      if (request.method === "POST" && path === "/v1/transfers" && state.dropAfterTransferCreated > 0) {
        state.dropAfterTransferCreated -= 1;
        state.log("connection-dropped", { path, transfer: (body as { id?: string }).id });
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      return reply.code(status).type("application/json").send(body);
    }

    api.setErrorHandler(async (error, request, reply) => {
      if (error instanceof StripeApiError) return sendError(reply, error);
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== undefined && status >= 400 && status < 500) return sendError(reply, invalidRequest(error instanceof Error ? error.message : "Invalid request", { status }));
      request.log.error({ err: error }, "the Stripe sandbox failed");
      return sendError(reply, new StripeApiError(500, { type: "api_error", message: "An unknown error occurred" }));
    });

    // ---- accounts ----

    route("POST", "/v1/accounts", {
      validate(params) {
        params.only(["type", "controller", "capabilities", "country", "email", "metadata", "business_type", "business_profile", "default_currency", "settings", "tos_acceptance"]);
        const type = params.oneOf("type", ["standard", "express", "custom"] as const);
        const controller = params.object("controller");
        if (!type && !controller) {
          // UNCONFIRMED wording; the API needs one of the two to know the account's kind.
          throw invalidRequest("You must provide either `type` or `controller` when creating an account.", { param: "controller" });
        }
        if (type && controller) throw invalidRequest("You cannot specify both `type` and `controller`.", { param: "type" }); // UNCONFIRMED
        const dashboard = type === "express" ? "express" : type === "standard" ? "full" : type === "custom" ? "none" : (stringAt(controller, "stripe_dashboard", "type") ?? "full");
        if (!isDashboard(dashboard)) throw invalidRequest("Invalid controller[stripe_dashboard][type]", { param: "controller[stripe_dashboard][type]" });
        const requested = pathOf(params.object("capabilities"), "transfers", "requested");
        const email = params.string("email");
        return {
          type: type ?? ("none" as const),
          dashboard,
          // `type=express` reads fees.payer "application_express" (fact sheet §1).
          feesPayer: type === "express" ? "application_express" : type ? "account" : stringAt(controller, "fees", "payer") ?? "account",
          lossesPayments: type === "express" || type === "custom" ? "application" : stringAt(controller, "losses", "payments") ?? "stripe",
          requirementCollection: type === "custom" || pathOf(controller, "requirement_collection") === "application" ? ("application" as const) : ("stripe" as const),
          country: (params.string("country") ?? "US").toUpperCase(),
          email: email ?? null,
          metadata: params.metadata(),
          transfersRequested: requested === "true",
        };
      },
      execute(input) {
        return { body: accountObject(state.addAccount(input)) };
      },
    });

    route("GET", "/v1/accounts/:id", {
      validate: (_params, path) => path.id ?? "",
      execute: (id) => ({ body: accountObject(state.account(id)) }),
    });

    // ---- account links ----

    route("POST", "/v1/account_links", {
      validate(params) {
        params.only(["account", "type", "refresh_url", "return_url", "collection_options", "collect"]);
        const account = params.requiredString("account");
        const type = params.oneOf("type", ["account_onboarding", "account_update"] as const);
        if (!type) throw invalidRequest("Missing required param: type.", { code: "parameter_missing", param: "type" });
        return { account, type, refreshUrl: params.requiredString("refresh_url"), returnUrl: params.requiredString("return_url") };
      },
      execute(input, { request }) {
        const account = state.account(input.account, "account");
        if (input.type === "account_update" && account.dashboard === "express") {
          // Not allowed for Express (fact sheet §1 [C][F]); wording UNCONFIRMED.
          throw invalidRequest("You cannot create `account_update` type Account Links for accounts with access to the Express Dashboard. Use `account_onboarding` instead.", { param: "type" });
        }
        const created = unixSeconds(state.clock);
        const link = state.addAccountLink({ id: newId("link", 20), ...input, created, expiresAt: created + 300, visited: false, finished: false });
        const base = options.publicBaseUrl ?? `${request.protocol}://${request.headers.host ?? "127.0.0.1"}`;
        return { body: accountLinkObject(link, base.replace(/\/$/, "")) };
      },
    });

    // ---- balance ----

    route("GET", "/v1/balance", {
      connect: "optional",
      validate: (params) => params.only([]),
      execute: (_input, { account }) => ({ body: balanceObject(state, account ? state.account(account) : undefined) }),
    });

    // ---- events (re-reading a webhook's event from the API) ----

    route("GET", "/v1/events/:id", {
      validate: (_params, path) => path.id ?? "",
      execute(id) {
        const event = state.eventLog.events.find((candidate) => candidate.id === id);
        if (!event) throw resourceMissing("event", id, "id");
        return { body: event };
      },
    });

    // ---- payouts (on connected accounts) ----

    route("POST", "/v1/payouts", {
      connect: "required",
      validate(params) {
        params.only(["amount", "currency", "description", "destination", "metadata", "method", "source_type", "statement_descriptor"]);
        const amount = params.positiveInteger("amount");
        if (amount === undefined) throw invalidRequest("Missing required param: amount.", { code: "parameter_missing", param: "amount" });
        return {
          amount,
          currency: params.currency("currency"),
          description: params.string("description") ?? null,
          metadata: params.metadata(),
          method: params.oneOf("method", ["standard", "instant"] as const) ?? "standard",
          statementDescriptor: params.string("statement_descriptor") ?? null,
        };
      },
      execute: (input, { account }) => ({ body: payoutObject(state.createPayout(account ?? "", input)) }),
    });

    route("GET", "/v1/payouts/:id", {
      connect: "required",
      validate: (_params, path) => path.id ?? "",
      execute: (id, { account }) => ({ body: payoutObject(state.payout(account ?? "", id)) }),
    });

    // ---- transfers ----

    route("POST", "/v1/transfers", {
      validate(params) {
        params.only(["amount", "currency", "destination", "description", "metadata", "source_transaction", "source_type", "transfer_group"]);
        const currency = params.currency("currency");
        const destination = params.requiredString("destination");
        const amount = params.positiveInteger("amount");
        // Without source_transaction the amount is needed (UNCONFIRMED wording); the sandbox has no charges to draw on.
        if (amount === undefined) throw invalidRequest("Missing required param: amount.", { code: "parameter_missing", param: "amount" });
        if (params.has("source_transaction")) throw invalidRequest("The Stripe sandbox does not model charges: source_transaction is not supported.", { param: "source_transaction" });
        return { amount, currency, destination, description: params.string("description") ?? null, metadata: params.metadata(), transferGroup: params.string("transfer_group") ?? null };
      },
      execute: (input) => ({ body: transferObject(state.createTransfer(input)) }),
    });

    // Newest first; the product finds a payout's transfer by transfer_group after an ambiguous failure.
    route("GET", "/v1/transfers", {
      validate(params) {
        params.only(["created", "destination", "ending_before", "limit", "starting_after", "transfer_group"]);
        if (params.has("created")) throw invalidRequest("The Stripe sandbox does not filter transfers by created.", { param: "created" });
        const destination = params.string("destination");
        const transferGroup = params.string("transfer_group");
        return {
          ...listPage(params),
          ...(destination !== undefined ? { destination } : {}),
          ...(transferGroup !== undefined ? { transferGroup } : {}),
        };
      },
      execute(filter) {
        // A cursor that is not a transfer is refused, as Stripe does (status 400 and wording UNCONFIRMED).
        for (const [param, id] of [["starting_after", filter.startingAfter], ["ending_before", filter.endingBefore]] as const) {
          if (id !== undefined && !state.transfers.has(id)) throw invalidRequest(`No such transfer: '${id}'`, { code: "resource_missing", param });
        }
        const page = state.listTransfers(filter);
        return { body: { object: "list", data: page.data.map(transferObject), has_more: page.hasMore, url: "/v1/transfers" } };
      },
    });

    route("GET", "/v1/transfers/:id", {
      validate: (_params, path) => path.id ?? "",
      execute: (id) => ({ body: transferObject(state.transfer(id)) }),
    });

    // Newest first. A transfer object embeds only its 10 most recent reversals; the product pages
    // through this list to find a refund's earlier reversal before retrying a clawback under a new key.
    route("GET", "/v1/transfers/:id/reversals", {
      validate: (params, path) => {
        params.only(["ending_before", "limit", "starting_after"]);
        return { id: path.id ?? "", ...listPage(params) };
      },
      execute({ id, ...page }) {
        const transfer = state.transfer(id);
        // A cursor that is not one of this transfer's reversals is refused (status 400 and wording UNCONFIRMED).
        for (const [param, cursor] of [["starting_after", page.startingAfter], ["ending_before", page.endingBefore]] as const) {
          if (cursor !== undefined && !transfer.reversals.some((reversal) => reversal.id === cursor)) {
            throw invalidRequest(`No such transfer_reversal: '${cursor}'`, { code: "resource_missing", param });
          }
        }
        return { body: reversalListObject(transfer, state.listReversals(id, page)) };
      },
    });

    route("POST", "/v1/transfers/:id/reversals", {
      validate(params, path) {
        params.only(["amount", "description", "metadata", "refund_application_fee"]);
        const amount = params.positiveInteger("amount");
        return { id: path.id ?? "", description: params.string("description") ?? null, metadata: params.metadata(), ...(amount !== undefined ? { amount } : {}) };
      },
      execute({ id, ...input }) {
        const reversal = state.reverseTransfer(id, input);
        return { body: reversalObject(reversal, state.transfer(id)) };
      },
    });
  });
}
