/**
 * Cuts the operations a project calls out of a provider's official OpenAPI
 * spec, with every component they reference (transitively), and writes the
 * subset as JSON. Shared by scripts/extract-twilio-spec.ts and
 * scripts/extract-stripe-spec.ts. The subset keeps the upstream structure and
 * key order, so a diff against a regenerated subset shows only upstream
 * changes; it is checked to be self-contained and a valid OpenAPI document.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPIV3 } from "openapi-types";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface SpecOperation {
  /** The spec's exact path template. */
  path: string;
  method: "get" | "post";
  /** Checked: a renamed operation upstream fails the extraction. */
  operationId: string;
}

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

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

function buildSubset(full: JsonObject, operations: readonly SpecOperation[]): JsonObject {
  const fullPaths = full["paths"];
  const fullComponents = full["components"];
  if (!isObject(fullPaths) || !isObject(fullComponents)) throw new Error("input is not an OpenAPI 3 document");

  const paths: JsonObject = {};
  const securityNames = new Set<string>();
  const tagNames = new Set<string>();
  for (const { path: route, method, operationId } of operations) {
    const item = fullPaths[route];
    const operation = isObject(item) ? item[method] : undefined;
    if (!isObject(item) || !isObject(operation)) throw new Error(`spec has no ${method.toUpperCase()} ${route}`);
    if (operation["operationId"] !== operationId) {
      throw new Error(`${method.toUpperCase()} ${route} is ${JSON.stringify(operation["operationId"])}, expected ${operationId}`);
    }
    // Path-level keys (servers, description, parameters, x-twilio...) are kept; of the operations, only the selected ones.
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
    orderedPaths[route] = Object.fromEntries(Object.keys(upstream).flatMap((key) => (item[key] === undefined ? [] : [[key, item[key]]])));
  }
  const topSecurity = Array.isArray(full["security"]) ? full["security"] : [];
  for (const requirement of topSecurity) {
    if (isObject(requirement)) for (const name of Object.keys(requirement)) securityNames.add(name);
  }

  const refs = new Set<string>();
  collectRefs(full, orderedPaths, refs);
  for (const name of securityNames) refs.add(`#/components/securitySchemes/${name}`);
  // Referenced components, in upstream order; every ref points one level into a section.
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
      subset[key] = value.filter((tag) => isObject(tag) && typeof tag["name"] === "string" && tagNames.has(tag["name"]));
    } else subset[key] = value;
  }
  return subset;
}

/** Reads `input`, writes the subset to `outFile`, and prints what it read (with its sha256, for the contract's README). */
export async function extractSpecSubset(options: { input: string; outFile: string; operations: readonly SpecOperation[] }): Promise<void> {
  const bytes = readFileSync(options.input);
  const full = JSON.parse(bytes.toString("utf8")) as Json;
  if (!isObject(full) || typeof full["openapi"] !== "string") throw new Error(`${options.input} is not an OpenAPI document`);

  const subset = buildSubset(full, options.operations);
  // Self-containment check: every $ref in the subset must resolve inside it.
  const refs = new Set<string>();
  collectRefs(subset, subset, refs);
  // And the result must still be a valid OpenAPI document. validate() mutates
  // (dereferences) its argument, so hand it a copy; circular schemas are allowed.
  await SwaggerParser.validate(structuredClone(subset) as unknown as OpenAPIV3.Document);

  mkdirSync(path.dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, `${JSON.stringify(subset, null, 2)}\n`);

  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const version = isObject(full["info"]) ? full["info"]["version"] : undefined;
  console.log(`read    ${options.input} (${bytes.length} bytes, sha256 ${sha256}, info.version ${JSON.stringify(version)})`);
  console.log(`wrote   ${path.relative(process.cwd(), options.outFile)}`);
  console.log(`        ${options.operations.length} operations, ${refs.size} components`);
}
