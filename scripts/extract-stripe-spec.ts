/**
 * Cuts the Stripe operations the project calls out of Stripe's official
 * OpenAPI spec (stripe/openapi, spec3.json) and writes them, with every
 * component they reference, to contracts/stripe/spec3.subset.json.
 *
 *   npx tsx scripts/extract-stripe-spec.ts [path-to-full-spec]
 *
 * The default input is ../shared/specs/stripe/spec3.json, relative to the
 * working directory. Same approach as scripts/extract-twilio-spec.ts: the
 * subset keeps the upstream structure and key order, so a diff against a
 * regenerated subset shows only upstream changes.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { extractSpecSubset, type SpecOperation } from "./lib/spec-subset.js";

/**
 * Every operation the project sends to Stripe, keyed by the spec's exact path
 * (the spec names path parameters its own way: GET /v1/transfers/{transfer}
 * but POST /v1/transfers/{id}/reversals).
 */
const OPERATIONS: readonly SpecOperation[] = [
  { path: "/v1/accounts", method: "post", operationId: "PostAccounts" },
  { path: "/v1/accounts/{account}", method: "get", operationId: "GetAccountsAccount" },
  { path: "/v1/account_links", method: "post", operationId: "PostAccountLinks" },
  { path: "/v1/balance", method: "get", operationId: "GetBalance" },
  { path: "/v1/transfers", method: "get", operationId: "GetTransfers" },
  { path: "/v1/transfers", method: "post", operationId: "PostTransfers" },
  { path: "/v1/transfers/{transfer}", method: "get", operationId: "GetTransfersTransfer" },
  { path: "/v1/transfers/{id}/reversals", method: "get", operationId: "GetTransfersIdReversals" },
  { path: "/v1/transfers/{id}/reversals", method: "post", operationId: "PostTransfersIdReversals" },
  { path: "/v1/payouts", method: "post", operationId: "PostPayouts" },
  { path: "/v1/payouts/{payout}", method: "get", operationId: "GetPayoutsPayout" },
  { path: "/v1/events/{id}", method: "get", operationId: "GetEventsId" },
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

await extractSpecSubset({
  input: path.resolve(process.argv[2] ?? "../shared/specs/stripe/spec3.json"),
  outFile: path.join(repoRoot, ...["contracts", "stripe", "spec3.subset.json"]),
  operations: OPERATIONS,
});
