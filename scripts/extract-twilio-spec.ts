/**
 * Cuts the Twilio operations the project calls out of Twilio's official
 * OpenAPI spec (twilio/twilio-oai, spec/json/twilio_api_v2010.json) and writes
 * them, with every component they reference, to
 * contracts/twilio/api_v2010.subset.json.
 *
 *   npx tsx scripts/extract-twilio-spec.ts [path-to-full-spec]
 *
 * The default input is ../shared/specs/twilio/twilio_api_v2010.json, relative
 * to the working directory. The subset keeps the upstream structure and key
 * order, so a diff against a regenerated subset shows only upstream changes.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPIV3 } from "openapi-types";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Every operation the project sends to Twilio, keyed by the spec's exact path. */
const OPERATIONS: ReadonlyArray<{ path: string; method: "get" | "post"; operationId: string }> = [
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages.json", method: "post", operationId: "CreateMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages.json", method: "get", operationId: "ListMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json", method: "get", operationId: "FetchMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls.json", method: "post", operationId: "CreateCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls.json", method: "get", operationId: "ListCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", method: "get", operationId: "FetchCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", method: "post", operationId: "UpdateCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences.json", method: "get", operationId: "ListConference" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json", method: "get", operationId: "FetchConference" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json", method: "post", operationId: "UpdateConference" },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    method: "post",
    operationId: "CreateIncomingPhoneNumber",
  },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    method: "get",
    operationId: "ListIncomingPhoneNumber",
  },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json",
    method: "get",
    operationId: "ListAvailablePhoneNumberLocal",
  },
];

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(repoRoot, "contracts", "twilio");
const outFile = path.join(outDir, "api_v2010.subset.json");

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

/** Collects every $ref reachable from `node`, following refs into the full spec. */
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
  const tagNames = new Set<string>();
  for (const { path: route, method, operationId } of OPERATIONS) {
    const item = fullPaths[route];
    const operation = isObject(item) ? item[method] : undefined;
    if (!isObject(item) || !isObject(operation)) throw new Error(`spec has no ${method.toUpperCase()} ${route}`);
    if (operation["operationId"] !== operationId) {
      throw new Error(
        `${method.toUpperCase()} ${route} is ${JSON.stringify(operation["operationId"])}, expected ${operationId}`,
      );
    }
    // Path-level keys (servers, description, parameters, x-twilio) are kept; of
    // the operations, only the selected ones.
    let subsetItem = paths[route];
    if (!isObject(subsetItem)) {
      subsetItem = Object.fromEntries(Object.entries(item).filter(([key]) => !HTTP_METHODS.has(key)));
      paths[route] = subsetItem;
    }
    subsetItem[method] = operation;
    for (const requirement of Array.isArray(operation["security"]) ? operation["security"] : []) {
      if (isObject(requirement)) for (const name of Object.keys(requirement)) securityNames.add(name);
    }
    for (const tag of Array.isArray(operation["tags"]) ? operation["tags"] : []) {
      if (typeof tag === "string") tagNames.add(tag);
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

  const refs = new Set<string>();
  collectRefs(full, orderedPaths, refs);
  for (const name of securityNames) refs.add(`#/components/securitySchemes/${name}`);

  // Copy referenced components in upstream order. Twilio's refs all point one
  // level into a component section (#/components/<section>/<name>).
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
    else if (key === "tags" && Array.isArray(value)) {
      subset[key] = value.filter(
        (tag) => isObject(tag) && typeof tag["name"] === "string" && tagNames.has(tag["name"]),
      );
    } else subset[key] = value;
  }
  return subset;
}

async function main(): Promise<void> {
  const input = path.resolve(process.argv[2] ?? "../shared/specs/twilio/twilio_api_v2010.json");
  const bytes = readFileSync(input);
  const full = JSON.parse(bytes.toString("utf8")) as Json;
  if (!isObject(full) || typeof full["openapi"] !== "string") throw new Error(`${input} is not an OpenAPI document`);

  const subset = buildSubset(full);
  // Self-containment check: every $ref in the subset must resolve inside it.
  const refs = new Set<string>();
  collectRefs(subset, subset, refs);
  // And the result must still be a valid OpenAPI document. validate() mutates
  // (dereferences) its argument, so hand it a copy.
  await SwaggerParser.validate(structuredClone(subset) as unknown as OpenAPIV3.Document);

  mkdirSync(outDir, { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(subset, null, 2)}\n`);

  const sha256 = createHash("sha256").update(bytes).digest("hex");
  console.log(`read    ${input} (${bytes.length} bytes, sha256 ${sha256})`);
  console.log(`wrote   ${path.relative(process.cwd(), outFile)}`);
  console.log(`        ${OPERATIONS.length} operations, ${refs.size} components`);
}

await main();
