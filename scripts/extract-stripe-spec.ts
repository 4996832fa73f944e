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
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPIV3 } from "openapi-types";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * Every operation the project sends to Stripe, keyed by the spec's exact path
 * (the spec names path parameters its own way: GET /v1/transfers/{transfer}
 * but POST /v1/transfers/{id}/reversals).
 */
const OPERATIONS: ReadonlyArray<{ path: string; method: "get" | "post"; operationId: string }> = [
  { path: "/v1/accounts", method: "post", operationId: "PostAccounts" },
  { path: "/v1/accounts/{account}", method: "get", operationId: "GetAccountsAccount" },
  { path: "/v1/account_links", method: "post", operationId: "PostAccountLinks" },
  { path: "/v1/balance", method: "get", operationId: "GetBalance" },
  { path: "/v1/transfers", method: "post", operationId: "PostTransfers" },
  { path: "/v1/transfers/{transfer}", method: "get", operationId: "GetTransfersTransfer" },
  { path: "/v1/transfers/{id}/reversals", method: "post", operationId: "PostTransfersIdReversals" },
  { path: "/v1/payouts", method: "post", operationId: "PostPayouts" },
  { path: "/v1/payouts/{payout}", method: "get", operationId: "GetPayoutsPayout" },
  { path: "/v1/events/{id}", method: "get", operationId: "GetEventsId" },
];

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(repoRoot, "contracts", "stripe");
const outFile = path.join(outDir, "spec3.subset.json");

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Follows a local JSON pointer ("#/components/schemas/x"), unescaping ~1 and ~0. */
function resolvePointer(doc: JsonObject, ref: string): Json | undefined {
  if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported, got ${ref}`);
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) ? node[key] : undefined;
  }
  return node;
}

/** Collects every $ref reachable from `node`, following refs into the full spec (cycles end at `seen`). */
function collectRefs(doc: JsonObject, node: Json | undefined, seen: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(doc, item, seen);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      if (seen.has(value)) continue;
      seen.add(value);
      const target = resolvePointer(doc, value);
      if (target === undefined) throw new Error(`dangling $ref ${value}`);
      collectRefs(doc, target, seen);
    } else {
      collectRefs(doc, value, seen);
    }
  }
}

function buildSubset(full: JsonObject): JsonObject {
  const fullPaths = full["paths"];
  const fullComponents = full["components"];
  if (!isObject(fullPaths) || !isObject(fullComponents)) throw new Error("input is not an OpenAPI 3 document");

  const paths: JsonObject = {};
  const securityNames = new Set<string>();
  for (const { path: route, method, operationId } of OPERATIONS) {
    const item = fullPaths[route];
    const operation = isObject(item) ? item[method] : undefined;
    if (!isObject(item) || !isObject(operation)) throw new Error(`spec has no ${method.toUpperCase()} ${route}`);
    if (operation["operationId"] !== operationId) {
      throw new Error(
        `${method.toUpperCase()} ${route} is ${JSON.stringify(operation["operationId"])}, expected ${operationId}`,
      );
    }
    // Path-level keys (none in Stripe's spec today) are kept; of the
    // operations, only the selected ones.
    let subsetItem = paths[route];
    if (!isObject(subsetItem)) {
      subsetItem = Object.fromEntries(Object.entries(item).filter(([key]) => !HTTP_METHODS.has(key)));
      paths[route] = subsetItem;
    }
    subsetItem[method] = operation;
    for (const requirement of Array.isArray(operation["security"]) ? operation["security"] : []) {
      if (isObject(requirement)) for (const name of Object.keys(requirement)) securityNames.add(name);
    }
  }
  // Paths, and methods inside each path item, in upstream order (stable diffs).
  const orderedPaths: JsonObject = {};
  for (const [route, upstream] of Object.entries(fullPaths)) {
    const item = paths[route];
    if (!isObject(item) || !isObject(upstream)) continue;
    orderedPaths[route] = Object.fromEntries(
      Object.keys(upstream).flatMap((key) => (item[key] === undefined ? [] : [[key, item[key]]])),
    );
  }

  const topSecurity = Array.isArray(full["security"]) ? full["security"] : [];
  for (const requirement of topSecurity) {
    if (isObject(requirement)) for (const name of Object.keys(requirement)) securityNames.add(name);
  }

  // The request bodies are inline; the responses reference the resource
  // schemas (account, transfer, event, error...), which reference the objects
  // they can expand to, hence a large closure (event.data.object can be any
  // resource, but only as a free-form object: it pulls in nothing).
  const refs = new Set<string>();
  collectRefs(full, orderedPaths, refs);
  for (const name of securityNames) refs.add(`#/components/securitySchemes/${name}`);

  const components: JsonObject = {};
  for (const [section, entries] of Object.entries(fullComponents)) {
    if (!isObject(entries)) continue;
    const picked = Object.entries(entries).filter(([name]) => refs.has(`#/components/${section}/${name}`));
    if (picked.length > 0) components[section] = Object.fromEntries(picked);
  }
  for (const ref of refs) {
    if (!/^#\/components\/[^/]+\/[^/]+$/.test(ref)) throw new Error(`unexpected $ref shape ${ref}`);
  }

  const subset: JsonObject = {};
  for (const [key, value] of Object.entries(full)) {
    if (key === "paths") subset[key] = orderedPaths;
    else if (key === "components") subset[key] = components;
    else subset[key] = value;
  }
  return subset;
}

async function main(): Promise<void> {
  const input = path.resolve(process.argv[2] ?? "../shared/specs/stripe/spec3.json");
  const bytes = readFileSync(input);
  const full = JSON.parse(bytes.toString("utf8")) as Json;
  if (!isObject(full) || typeof full["openapi"] !== "string") throw new Error(`${input} is not an OpenAPI document`);

  const subset = buildSubset(full);
  // Self-containment check: every $ref in the subset must resolve inside it.
  const refs = new Set<string>();
  collectRefs(subset, subset, refs);
  // And the result must still be a valid OpenAPI document. validate() mutates
  // (dereferences) its argument, so hand it a copy. Stripe's schemas are
  // circular (account -> ... -> account), which swagger-parser allows.
  await SwaggerParser.validate(structuredClone(subset) as unknown as OpenAPIV3.Document);

  mkdirSync(outDir, { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(subset, null, 2)}\n`);

  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const version = isObject(full["info"]) ? full["info"]["version"] : undefined;
  console.log(`read    ${input} (${bytes.length} bytes, sha256 ${sha256}, info.version ${JSON.stringify(version)})`);
  console.log(`wrote   ${path.relative(process.cwd(), outFile)}`);
  console.log(`        ${OPERATIONS.length} operations, ${refs.size} components`);
}

await main();
