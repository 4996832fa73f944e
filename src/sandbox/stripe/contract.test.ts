import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertStripeRequest,
  checkStripeRequest,
  decodeStripeForm,
  listStripeOperations,
  type StripeRequest,
} from "./contract.js";

const SUBSET_URL = new URL("../../../contracts/stripe/spec3.subset.json", import.meta.url);
const ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK";

// Requests are the ones the real stripe SDK sends: a local server records
// each request and answers `{}`, so the shapes (indexed arrays, nested
// brackets, booleans as "true") are stripe-node's, not ours.
interface Captured {
  request: StripeRequest;
  raw: string;
  stripeAccount: string | undefined;
}
let server: http.Server;
let stripe: Stripe;
const captured: Captured[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const header = req.headers["stripe-account"];
      captured.push({
        request: {
          method: req.method ?? "GET",
          path: url.pathname,
          query: decodeStripeForm(url.search.slice(1)),
          body: decodeStripeForm(raw),
        },
        raw,
        stripeAccount: typeof header === "string" ? header : undefined,
      });
      res.writeHead(200, { "content-type": "application/json", "request-id": "req_test" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  stripe = new Stripe("sk_test_contract", {
    host: "127.0.0.1",
    port,
    protocol: "http",
    maxNetworkRetries: 0,
    telemetry: false,
  });
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

/** Runs one SDK call and returns what reached the wire. */
async function sent(call: (client: Stripe) => Promise<unknown>): Promise<Captured> {
  const before = captured.length;
  await call(stripe);
  expect(captured.length).toBe(before + 1);
  return captured[before] as Captured;
}

describe("Stripe contract subset", () => {
  it("contains exactly the operations the project calls", () => {
    const operations = listStripeOperations().map((op) => `${op.operationId} ${op.method} ${op.pathTemplate}`);
    expect(operations.sort()).toEqual(
      [
        "PostAccounts POST /v1/accounts",
        "GetAccountsAccount GET /v1/accounts/{account}",
        "PostAccountLinks POST /v1/account_links",
        "GetBalance GET /v1/balance",
        "GetTransfers GET /v1/transfers",
        "PostTransfers POST /v1/transfers",
        "GetTransfersTransfer GET /v1/transfers/{transfer}",
        "GetTransfersIdReversals GET /v1/transfers/{id}/reversals",
        "PostTransfersIdReversals POST /v1/transfers/{id}/reversals",
        "PostPayouts POST /v1/payouts",
        "GetPayoutsPayout GET /v1/payouts/{payout}",
        "GetEventsId GET /v1/events/{id}",
      ].sort(),
    );
  });

  it("is self-contained and is the 2023-08-16 spec", () => {
    const raw = readFileSync(SUBSET_URL, "utf8");
    const doc = JSON.parse(raw);
    const refs = [...raw.matchAll(/"\$ref":\s*"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const target = ref
        .slice(2)
        .split("/")
        .reduce((node, key) => node?.[key], doc);
      expect(target, ref).toBeDefined();
    }
    // Nothing unreferenced: every schema kept is the target of some $ref.
    const referenced = new Set(refs.map((ref) => ref.split("/").at(-1)));
    expect(Object.keys(doc.components.schemas).filter((name) => !referenced.has(name))).toEqual([]);
    expect(doc.info.version).toBe("2023-08-16");
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["basicAuth", "bearerAuth"]);
  });

  it("has no controller on POST /v1/accounts: the SDK's recommended account create is the reported case", () => {
    const doc = JSON.parse(readFileSync(SUBSET_URL, "utf8"));
    const properties = doc.paths["/v1/accounts"].post.requestBody.content["application/x-www-form-urlencoded"].schema
      .properties as Record<string, unknown>;
    expect(Object.keys(properties)).toContain("capabilities");
    expect(Object.keys(properties)).not.toContain("controller");
  });
});

describe("decodeStripeForm", () => {
  it("decodes stripe-node's bracket notation into nested objects", () => {
    expect(
      decodeStripeForm(
        "amount=1200&metadata[payout_id]=po%201&expand[0]=destination&expand[1]=balance_transaction" +
          "&capabilities[transfers][requested]=true&a[]=x&a[]=y",
      ),
    ).toEqual({
      amount: "1200",
      metadata: { payout_id: "po 1" },
      expand: { "0": "destination", "1": "balance_transaction" },
      capabilities: { transfers: { requested: "true" } },
      a: ["x", "y"],
    });
  });

  it("refuses a key given both as a value and as nested fields", () => {
    expect(() => decodeStripeForm("metadata=&metadata[a]=b")).toThrow(/both as a value and as nested fields/);
  });
});

describe("checkStripeRequest on what the SDK sends", () => {
  it("accepts transfers.create with transfer_group, metadata and an Idempotency-Key", async () => {
    const { request, raw } = await sent((s) =>
      s.transfers.create(
        {
          amount: 1200,
          currency: "usd",
          destination: ACCOUNT,
          transfer_group: "po_01JD3X",
          description: "expertline payout",
          metadata: { payout_id: "po_01JD3X", expert_id: "ex_42" },
        },
        { idempotencyKey: "payout-po_01JD3X" },
      ),
    );
    expect(raw).toContain("metadata[payout_id]=po_01JD3X");
    expect(checkStripeRequest(request)).toEqual({ operationId: "PostTransfers", violations: [], unknownParams: [] });
  });

  it("reports a transfer without destination as a violation", async () => {
    const { request } = await sent((s) =>
      s.transfers.create({ amount: 1200, currency: "usd" } as Stripe.TransferCreateParams),
    );
    const check = checkStripeRequest(request);
    expect(check.operationId).toBe("PostTransfers");
    expect(check.violations).toEqual(["body.destination: required parameter is missing"]);
  });

  it("reports a bad account link type as a violation", async () => {
    const { request } = await sent((s) =>
      s.accountLinks.create({
        account: ACCOUNT,
        type: "account_onboardin",
        refresh_url: "https://expertline.test/e/onboard/t1?refresh=1",
        return_url: "https://expertline.test/e/onboard/t1/done",
      }),
    );
    expect(checkStripeRequest(request).violations).toEqual([
      'body.type: "account_onboardin" is not one of "account_onboarding", "account_update"',
    ]);
  });

  it("accepts an account_onboarding link, reporting collection_options (newer than the spec)", async () => {
    const { request } = await sent((s) =>
      s.accountLinks.create({
        account: ACCOUNT,
        type: "account_onboarding",
        refresh_url: "https://expertline.test/e/onboard/t1?refresh=1",
        return_url: "https://expertline.test/e/onboard/t1/done",
        collection_options: { fields: "eventually_due" },
      }),
    );
    expect(checkStripeRequest(request)).toEqual({
      operationId: "PostAccountLinks",
      violations: [],
      unknownParams: ["body.collection_options"],
    });
  });

  it("lets a controller-properties account through, reporting controller as unknown to the 2023 spec", async () => {
    const { request } = await sent((s) =>
      s.accounts.create({
        controller: {
          stripe_dashboard: { type: "express" },
          fees: { payer: "application" },
          losses: { payments: "application" },
        },
        country: "US",
        email: "dan@example.com",
        capabilities: { transfers: { requested: true } },
        business_profile: { product_description: "Answers homebrewing questions" },
        metadata: { expert_id: "ex_42" },
      }),
    );
    expect(checkStripeRequest(request)).toEqual({
      operationId: "PostAccounts",
      violations: [],
      unknownParams: ["body.controller"],
    });
  });

  it("still checks what the spec declares on an account create: a boolean must be true or false", () => {
    const check = checkStripeRequest({
      method: "POST",
      path: "/v1/accounts",
      body: decodeStripeForm("type=express&capabilities[transfers][requested]=yes&metadata=&tos_acceptance[date]=soon"),
    });
    expect(check.violations).toEqual([
      'body.capabilities[transfers][requested]: expected "true" or "false", got "yes"',
      'body.tos_acceptance[date]: expected an integer, got "soon"',
    ]);
    // metadata="" is Stripe's way to unset, which the spec allows (anyOf with enum [""]).
    expect(check.unknownParams).toEqual([]);
  });

  it("explains an anyOf that no alternative matches", () => {
    const check = checkStripeRequest({
      method: "POST",
      path: "/v1/accounts",
      body: decodeStripeForm("individual[dob][day]=1&individual[dob][month]=2"),
    });
    expect(check.violations).toHaveLength(1);
    expect(check.violations[0]).toMatch(/^body\.individual\[dob\]: matches none of the anyOf alternatives: /);
    expect(check.violations[0]).toContain("body.individual[dob][year]: required parameter is missing");
  });

  it("accepts the reads, with expand in the query string", async () => {
    const calls: Array<[(s: Stripe) => Promise<unknown>, string]> = [
      [(s) => s.accounts.retrieve(ACCOUNT, { expand: ["capabilities"] }), "GetAccountsAccount"],
      [(s) => s.balance.retrieve(), "GetBalance"],
      [(s) => s.transfers.retrieve("tr_1NvX", { expand: ["destination", "balance_transaction"] }), "GetTransfersTransfer"],
      [(s) => s.payouts.retrieve("po_1NvX", {}, { stripeAccount: ACCOUNT }), "GetPayoutsPayout"],
      [(s) => s.events.retrieve("evt_1NvX"), "GetEventsId"],
      [(s) => s.transfers.list({ transfer_group: "po_123", destination: ACCOUNT, limit: 100, starting_after: "tr_1NvX" }), "GetTransfers"],
      [(s) => s.transfers.listReversals("tr_1NvX", { limit: 100, starting_after: "trr_1NvX" }), "GetTransfersIdReversals"],
    ];
    for (const [call, operationId] of calls) {
      const { request } = await sent(call);
      expect(checkStripeRequest(request), operationId).toEqual({ operationId, violations: [], unknownParams: [] });
    }
    expect(captured.at(-calls.length)?.request.query).toEqual({ expand: { "0": "capabilities" } });
    expect(captured.at(-1)?.request).toMatchObject({ method: "GET", path: "/v1/transfers/tr_1NvX/reversals", query: { limit: "100", starting_after: "trr_1NvX" } });
  });

  it("accepts a reversal and a payout on the connected account", async () => {
    const reversal = await sent((s) =>
      s.transfers.createReversal("tr_1NvX", { amount: 500, metadata: { refund_id: "rf_1" } }, { idempotencyKey: "k1" }),
    );
    expect(checkStripeRequest(reversal.request)).toEqual({
      operationId: "PostTransfersIdReversals",
      violations: [],
      unknownParams: [],
    });
    const payout = await sent((s) =>
      s.payouts.create({ amount: 1200, currency: "usd", method: "standard" }, { stripeAccount: ACCOUNT }),
    );
    expect(payout.stripeAccount).toBe(ACCOUNT);
    expect(checkStripeRequest(payout.request)).toEqual({ operationId: "PostPayouts", violations: [], unknownParams: [] });
  });
});

describe("checkStripeRequest on what the SDK should never send", () => {
  it("reports an operation outside the contract, including one the full spec has", () => {
    for (const [method, path] of [
      ["POST", "/v1/charges"],
      ["DELETE", `/v1/accounts/${ACCOUNT}`],
      ["GET", "/v2/core/accounts"],
    ] as const) {
      expect(checkStripeRequest({ method, path })).toEqual({
        operationId: null,
        violations: [`no such operation in the Stripe contract: ${method} ${path}`],
        unknownParams: [],
      });
    }
  });

  it("reports wrong types, enums and shapes", () => {
    const check = checkStripeRequest({
      method: "POST",
      path: "/v1/transfers",
      body: decodeStripeForm(
        "amount=12.50&currency=usd&destination=acct_1&source_type=wire&expand=destination&metadata[a][b]=c",
      ),
    });
    expect(check.violations).toEqual([
      'body.amount: expected an integer, got "12.50"',
      'body.source_type: "wire" is not one of "bank_account", "card", "fpx"',
      'body.expand: expected a list (body.expand[0]=...), got "destination"',
      "body.metadata[a]: expected a single value, got nested fields",
    ]);
  });

  it("accepts flat bracketed keys, as URLSearchParams gives them, the same as nested ones", () => {
    const flat = checkStripeRequest({
      method: "POST",
      path: "/v1/transfers",
      body: { amount: "100", currency: "usd", destination: ACCOUNT, "metadata[k]": "v", "expand[]": ["destination"] },
    });
    expect(flat).toEqual({ operationId: "PostTransfers", violations: [], unknownParams: [] });
  });

  it("reports a GET with a body, and an unknown query parameter as unknown", () => {
    expect(checkStripeRequest({ method: "GET", path: "/v1/balance", body: { expand: ["x"] } }).violations).toEqual([
      "body: a GET sends no body, got expand",
    ]);
    expect(checkStripeRequest({ method: "GET", path: "/v1/balance?limit=3" })).toEqual({
      operationId: "GetBalance",
      violations: [],
      unknownParams: ["query.limit"],
    });
  });

  it("assertStripeRequest throws with every violation, and passes unknown parameters through", () => {
    expect(() => assertStripeRequest({ method: "POST", path: "/v1/transfers", body: { amount: "x" } })).toThrow(
      /breaks the Stripe API contract:\n {2}body\.currency: required parameter is missing\n {2}body\.destination/,
    );
    expect(
      assertStripeRequest({
        method: "POST",
        path: "/v1/accounts",
        body: { "controller[fees][payer]": "application" },
      }).unknownParams,
    ).toEqual(["body.controller"]);
  });
});
