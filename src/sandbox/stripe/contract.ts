/**
 * Checks requests meant for Stripe against Stripe's official OpenAPI spec
 * (the subset in contracts/stripe/, see its README). Like the Twilio checker,
 * it is driven by the spec: operations, parameters, required fields, types,
 * enums and anyOf/oneOf alternatives all come from the JSON; nothing here is
 * per-operation.
 *
 * Unlike the Twilio checker, a parameter the spec does not declare is not a
 * violation but an `unknownParam`: the spec dates from 2023-08-16 while the
 * SDK speaks API version 2026-10-28, so a parameter added since (for example
 * `controller` on POST /v1/accounts) is expected to be missing from it. What
 * the spec does declare is held to it: a wrong type, enum or a missing
 * required field is a violation.
 *
 * Bodies and query strings are Stripe's form encoding: nested objects as
 * `a[b][c]=x`, arrays as `a[0]=x` (what stripe-node sends) or `a[]=x`, and
 * every value a string. `decodeStripeForm` turns a raw body into the nested
 * shape; `checkStripeRequest` also accepts flat bracketed keys (as
 * URLSearchParams gives them) or an already nested object (as qs gives it).
 */
import type { OpenAPIV3 } from "openapi-types";
import { HTTP_METHODS, openApiSubset, type CompiledPath } from "../openapi-subset.js";

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export interface StripeRequest {
  method: string;
  /** e.g. /v1/transfers; a query string here is merged into `query` */
  path: string;
  query?: FormObject;
  /** the form-decoded body, nested or with bracketed keys */
  body?: FormObject;
}

export interface StripeCheck {
  /** null when no operation of the contract matches the method and path */
  operationId: string | null;
  /** what the spec forbids: unknown operation, missing required, wrong type, enum or format */
  violations: string[];
  /** parameters the 2023 spec does not declare, e.g. "body.controller": reported, not failed */
  unknownParams: string[];
}

export interface StripeOperation {
  operationId: string;
  method: string;
  pathTemplate: string;
}

const METHODS = HTTP_METHODS;
type Method = (typeof METHODS)[number];
const FORM = "application/x-www-form-urlencoded";

// src/sandbox/stripe/ and dist/sandbox/stripe/ are both three levels below the repo root.
const SPEC_URL = new URL("../../../contracts/stripe/spec3.subset.json", import.meta.url);

const { deref, compiledPaths, listOperations } = openApiSubset(SPEC_URL, "Stripe");

/** The operations in the contract subset, in spec order. */
export function listStripeOperations(): StripeOperation[] {
  return listOperations();
}

// --- form decoding --------------------------------------------------------------

/** "a[b][0][]" -> ["a", "b", "0", ""]; a key without brackets is one segment. */
function keySegments(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || !key.endsWith("]")) return [key];
  const inner = key.slice(open + 1, -1).split("][");
  // "a[b]c]" and the like are not bracket notation: keep the key whole.
  if (inner.some((part) => part.includes("[") || part.includes("]"))) return [key];
  return [key.slice(0, open), ...inner];
}

function isFormObject(value: FormValue | undefined): value is FormObject {
  return typeof value === "object" && !Array.isArray(value);
}

/**
 * Puts `value` at `segments` under `target`. An index segment ("0") makes an
 * object keyed by the index: whether it is an array is the schema's call
 * (metadata[0]=x is a metadata key), so the checker converts it. "" appends.
 */
function insert(target: FormObject | FormValue[], segments: string[], value: FormValue, problems: string[], whole: string): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  const children = rest.length === 0 ? undefined : rest[0] === "" ? ([] as FormValue[]) : ({} as FormObject);
  if (Array.isArray(target)) {
    if (head !== "") {
      problems.push(`${whole}: mixes appended ([]) and named or indexed entries`);
      return;
    }
    if (children === undefined) target.push(value);
    else {
      target.push(children);
      insert(children, rest, value, problems, whole);
    }
    return;
  }
  const existing = target[head];
  if (children === undefined) {
    if (existing === undefined) target[head] = value;
    else if (typeof existing === "string" && typeof value === "string") target[head] = [existing, value];
    else if (Array.isArray(existing) && typeof value === "string") existing.push(value);
    else problems.push(`${whole}: given both as a value and as nested fields`);
    return;
  }
  if (existing === undefined) {
    target[head] = children;
    insert(children, rest, value, problems, whole);
  } else if (typeof existing === "string" || Array.isArray(existing) !== Array.isArray(children)) {
    problems.push(`${whole}: given both as a value and as nested fields`);
  } else {
    insert(existing, rest, value, problems, whole);
  }
}

/** Expands bracketed keys at every level; nested input passes through. */
function normalize(input: FormObject, problems: string[], prefix: string): FormObject {
  const out: FormObject = {};
  const add = (key: string, value: FormValue): void => {
    const normalized: FormValue = isFormObject(value)
      ? normalize(value, problems, `${prefix}${key}.`)
      : Array.isArray(value)
        ? value.map((item) => (isFormObject(item) ? normalize(item, problems, `${prefix}${key}.`) : item))
        : value;
    // A repeated flat key (URLSearchParams-style string[]) with "[]" appends each value.
    const segments = keySegments(key);
    if (Array.isArray(normalized) && segments.at(-1) === "" && normalized.every((v) => typeof v === "string")) {
      for (const item of normalized) insert(out, segments, item, problems, `${prefix}${key}`);
    } else {
      insert(out, segments, normalized, problems, `${prefix}${key}`);
    }
  };
  for (const [key, value] of Object.entries(input)) add(key, value);
  return out;
}

/** Decodes a raw application/x-www-form-urlencoded body or query string into the nested shape. */
export function decodeStripeForm(raw: string): FormObject {
  const out: FormObject = {};
  const problems: string[] = [];
  for (const [key, value] of new URLSearchParams(raw)) insert(out, keySegments(key), value, problems, key);
  if (problems.length > 0) throw new Error(`malformed Stripe form: ${problems.join("; ")}`);
  return out;
}

// --- schema walk ----------------------------------------------------------------

type Schema = OpenAPIV3.SchemaObject;
type SchemaRef = OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject;

interface Findings {
  violations: string[];
  unknown: string[];
}

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function child(where: string, key: string): string {
  // body.a, then Stripe's own notation below it: body.a[b][0]
  return where.endsWith(".") ? `${where}${key}` : `${where}[${key}]`;
}

function label(where: string): string {
  return where.endsWith(".") ? where.slice(0, -1) : where;
}

function describe(value: FormValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  return Array.isArray(value) ? "a list of values" : "nested fields";
}

function checkScalar(where: string, value: string, schema: Schema): string[] {
  const at = label(where);
  switch (schema.type) {
    case "integer":
      if (!INTEGER.test(value)) return [`${at}: expected an integer, got ${JSON.stringify(value)}`];
      break;
    case "number":
      if (!NUMBER.test(value)) return [`${at}: expected a number, got ${JSON.stringify(value)}`];
      break;
    case "boolean":
      if (value !== "true" && value !== "false") return [`${at}: expected "true" or "false", got ${JSON.stringify(value)}`];
      break;
    default:
      break;
  }
  // x-stripeBypassValidation on an enum tells SDK generators to type it as an
  // open string; the values the spec lists are still the ones it knows, and a
  // typo'd enum is exactly what this check is for.
  if (schema.enum && !schema.enum.some((allowed) => String(allowed) === value)) {
    return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`];
  }
  const violations: string[] = [];
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    violations.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  // JSON Schema counts string length in code points, not UTF-16 units.
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    violations.push(`${at}: shorter than ${schema.minLength} characters`);
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    violations.push(`${at}: longer than ${schema.maxLength} characters`);
  }
  if (schema.type === "integer" || schema.type === "number") {
    const n = Number(value);
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? n <= schema.minimum : n < schema.minimum)) {
      violations.push(`${at}: ${value} is below the minimum ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? n >= schema.maximum : n > schema.maximum)) {
      violations.push(`${at}: ${value} is above the maximum ${schema.maximum}`);
    }
  }
  // Formats: the only one in these request bodies is unix-time, on integers,
  // which the integer check covers.
  return violations;
}

/**
 * An object keyed "0", "1", ... is how an indexed array decodes when the
 * decoder leaves the call to the schema; anything else is not an array.
 */
function asArray(value: FormValue): FormValue[] | undefined {
  if (Array.isArray(value)) return value;
  if (!isFormObject(value)) return undefined;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return undefined;
  return keys
    .map(Number)
    .sort((a, b) => a - b)
    .map((k) => value[String(k)] as FormValue);
}

function checkAlternatives(where: string, value: FormValue, alternatives: SchemaRef[], kind: string): Findings {
  const results = alternatives.map((alternative) => checkNode(where, value, alternative));
  // Stripe's oneOf/anyOf branches overlap (a string, or the enum [""] that
  // unsets): both are read as "at least one matches". Of the matches, the one
  // that explains the most parameters is reported.
  const matches = results.filter((r) => r.violations.length === 0);
  if (matches.length > 0) {
    return matches.reduce((best, r) => (r.unknown.length < best.unknown.length ? r : best));
  }
  const reasons = results.map((r, i) => `(${i + 1}) ${r.violations[0] ?? "?"}`).join("; ");
  return { violations: [`${label(where)}: matches none of the ${kind} alternatives: ${reasons}`], unknown: [] };
}

function checkNode(where: string, value: FormValue, schemaOrRef: SchemaRef): Findings {
  const schema = deref(schemaOrRef);
  const at = label(where);
  if (schema.not) return { violations: [`${at}: schema uses "not", which this checker does not support`], unknown: [] };
  if (schema.anyOf) return checkAlternatives(where, value, schema.anyOf, "anyOf");
  if (schema.oneOf) return checkAlternatives(where, value, schema.oneOf, "oneOf");
  if (schema.allOf) {
    const results = schema.allOf.map((part) => checkNode(where, value, part));
    return {
      violations: results.flatMap((r) => r.violations),
      unknown: [...new Set(results.flatMap((r) => r.unknown))],
    };
  }

  if (schema.type === "array") {
    const items = asArray(value);
    if (!items) return { violations: [`${at}: expected a list (${at}[0]=...), got ${describe(value)}`], unknown: [] };
    const findings: Findings = { violations: [], unknown: [] };
    if (schema.minItems !== undefined && items.length < schema.minItems) {
      findings.violations.push(`${at}: expected at least ${schema.minItems} values`);
    }
    if (schema.maxItems !== undefined && items.length > schema.maxItems) {
      findings.violations.push(`${at}: expected at most ${schema.maxItems} values`);
    }
    items.forEach((item, i) => {
      const r = checkNode(child(where, String(i)), item, schema.items);
      findings.violations.push(...r.violations);
      findings.unknown.push(...r.unknown);
    });
    return findings;
  }

  if (schema.type === "object" || schema.properties || schema.additionalProperties !== undefined) {
    // A decoder that reads metadata[0]=x as a list: for an object it is key "0".
    if (Array.isArray(value)) value = Object.fromEntries(value.map((item, i) => [String(i), item]));
    if (!isFormObject(value)) return { violations: [`${at}: expected nested fields (${at}[...]), got ${describe(value)}`], unknown: [] };
    const findings: Findings = { violations: [], unknown: [] };
    const properties = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (value[name] === undefined) findings.violations.push(`${label(child(where, name))}: required parameter is missing`);
    }
    for (const [name, fieldValue] of Object.entries(value)) {
      const property = properties[name];
      const extra = schema.additionalProperties;
      const fieldSchema = property ?? (typeof extra === "object" ? extra : undefined);
      if (fieldSchema) {
        const r = checkNode(child(where, name), fieldValue, fieldSchema);
        findings.violations.push(...r.violations);
        findings.unknown.push(...r.unknown);
      } else if (extra !== true) {
        // Stripe rejects undeclared parameters, but this spec is older than the
        // API the SDK speaks: report the parameter and let it through.
        findings.unknown.push(label(child(where, name)));
      }
    }
    return findings;
  }

  if (schema.type === undefined) return { violations: [], unknown: [] }; // free-form
  if (typeof value !== "string") return { violations: [`${at}: expected a single value, got ${describe(value)}`], unknown: [] };
  return { violations: checkScalar(where, value, schema), unknown: [] };
}

// --- request checks -------------------------------------------------------------

/** Operation parameters override path-item parameters with the same name and location. */
function parametersOf(item: OpenAPIV3.PathItemObject, operation: OpenAPIV3.OperationObject): OpenAPIV3.ParameterObject[] {
  const byKey = new Map<string, OpenAPIV3.ParameterObject>();
  for (const p of [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((ref) => deref(ref))) {
    byKey.set(`${p.in}:${p.name}`, p);
  }
  return [...byKey.values()];
}

function checkParameters(
  location: "path" | "query",
  declared: OpenAPIV3.ParameterObject[],
  values: FormObject,
): Findings {
  const findings: Findings = { violations: [], unknown: [] };
  const params = declared.filter((p) => p.in === location);
  for (const param of params) {
    const value = values[param.name];
    if (value === undefined) {
      if (param.required) findings.violations.push(`${location}.${param.name}: required parameter is missing`);
    } else if (param.schema) {
      const r = checkNode(`${location}.${param.name}`, value, param.schema);
      findings.violations.push(...r.violations);
      findings.unknown.push(...r.unknown);
    }
  }
  const known = new Set(params.map((p) => p.name));
  for (const name of Object.keys(values)) if (!known.has(name)) findings.unknown.push(`${location}.${name}`);
  return findings;
}

function checkBody(method: string, operation: OpenAPIV3.OperationObject, body: FormObject): Findings {
  const fields = Object.keys(body);
  if (method === "get" || method === "delete") {
    // stripe-node puts a GET's or DELETE's parameters in the query string.
    return { violations: fields.length > 0 ? [`body: a ${method.toUpperCase()} sends no body, got ${fields.join(", ")}`] : [], unknown: [] };
  }
  const schema = operation.requestBody ? deref(operation.requestBody).content[FORM]?.schema : undefined;
  if (!schema) return { violations: fields.length > 0 ? ["body: operation takes no form body"] : [], unknown: [] };
  return checkNode("body.", body, schema);
}

export function checkStripeRequest(request: StripeRequest): StripeCheck {
  const problems: string[] = [];
  const [rawPath = "", rawQuery] = request.path.split("?", 2);
  const query = normalize(
    { ...(rawQuery === undefined ? {} : decodeStripeForm(rawQuery)), ...(request.query ?? {}) },
    problems,
    "query.",
  );
  const body = normalize(request.body ?? {}, problems, "body.");
  const method = request.method.toLowerCase();

  const candidates = compiledPaths()
    .map((compiled) => ({ compiled, captures: compiled.regex.exec(rawPath) }))
    .filter((c): c is { compiled: CompiledPath; captures: RegExpExecArray } => c.captures !== null);
  const found = candidates.find((c) => (METHODS as readonly string[]).includes(method) && c.compiled.item[method as Method]);
  if (!found) {
    return {
      operationId: null,
      violations: [`no such operation in the Stripe contract: ${request.method.toUpperCase()} ${rawPath}`],
      unknownParams: [],
    };
  }

  const { compiled, captures } = found;
  const operation = compiled.item[method as Method] as OpenAPIV3.OperationObject;
  const pathParams: FormObject = {};
  compiled.paramNames.forEach((name, i) => {
    const raw = captures[i + 1] ?? "";
    try {
      pathParams[name] = decodeURIComponent(raw);
    } catch {
      pathParams[name] = raw;
    }
  });

  const parameters = parametersOf(compiled.item, operation);
  const parts = [
    checkParameters("path", parameters, pathParams),
    checkParameters("query", parameters, query),
    checkBody(method, operation, body),
  ];
  return {
    operationId: operation.operationId ?? `${method.toUpperCase()} ${compiled.template}`,
    violations: [...problems, ...parts.flatMap((p) => p.violations)],
    unknownParams: [...new Set(parts.flatMap((p) => p.unknown))],
  };
}

/** Throws if the request breaks the Stripe contract; returns the check (with its unknown parameters) otherwise. */
export function assertStripeRequest(request: StripeRequest): StripeCheck {
  const check = checkStripeRequest(request);
  if (check.violations.length > 0) {
    const lines = check.violations.map((v) => `  ${v}`).join("\n");
    throw new Error(`${request.method.toUpperCase()} ${request.path} breaks the Stripe API contract:\n${lines}`);
  }
  return check;
}
