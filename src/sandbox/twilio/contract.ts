/**
 * Checks requests meant for Twilio against Twilio's official OpenAPI spec
 * (the subset in contracts/twilio/, see its README). The checker is driven by
 * the spec: operations, parameters, required fields, types, enums, formats
 * and patterns all come from the JSON; nothing here is per-operation.
 *
 * It is stricter than the real API in one way on purpose: form fields and
 * query parameters the spec does not declare are violations. Twilio ignores
 * some unknown fields, but the SDK only sends declared ones, so an unknown
 * field means our code built the request by hand and got it wrong.
 */
import type { OpenAPIV3 } from "openapi-types";
import { HTTP_METHODS, openApiSubset, type CompiledPath } from "../openapi-subset.js";

export interface TwilioRequest {
  method: string;
  /** e.g. /2010-04-01/Accounts/AC.../Messages.json, without the query string */
  path: string;
  query: Record<string, string | string[]>;
  /** parsed application/x-www-form-urlencoded body; repeated keys become arrays */
  form: Record<string, string | string[]>;
  contentType?: string;
}

export interface ContractViolation {
  /** e.g. "body.To", "query.PageSize", "path.AccountSid", "path", "method", "contentType" */
  where: string;
  message: string;
}

export interface ContractMatch {
  operationId: string;
  pathTemplate: string;
  pathParams: Record<string, string>;
}

export interface TwilioOperation {
  operationId: string;
  method: string;
  pathTemplate: string;
}

const FORM = "application/x-www-form-urlencoded";
const METHODS = HTTP_METHODS;
type Method = (typeof METHODS)[number];

// src/sandbox/twilio/ and dist/sandbox/twilio/ are both three levels below the repo root.
const SPEC_URL = new URL("../../../contracts/twilio/api_v2010.subset.json", import.meta.url);

const { deref, compiledPaths, listOperations } = openApiSubset(SPEC_URL, "Twilio");

/** The operations in the contract subset, in spec order. */
export function listTwilioOperations(): TwilioOperation[] {
  return listOperations();
}

// --- value checks -------------------------------------------------------------

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const E164ISH = /^\+?[1-9]\d{1,14}$/;
// RFC 3339 date-time, as the SDK writes Dates (YYYY-MM-DDTHH:mm:ssZ). A bare
// date is accepted too: the spec's own examples for the date-time list
// filters (StartTime, DateSent, ...) are dates like "2008-01-02".
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/i;

/**
 * Twilio's custom string formats. Formats not listed (twiml, int64, http-method,
 * which always comes with an enum) carry nothing a form value can be checked
 * against beyond its type.
 */
const FORMATS: Record<string, { test: (value: string) => boolean; expected: string }> = {
  uri: { test: isHttpUrl, expected: "an absolute http(s) URL" },
  "date-time": { test: (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)), expected: "an ISO 8601 date-time" },
  // Descriptions of phone-number fields: "E.164 format ... or channel address,
  // e.g. whatsapp:+15552229999" (short codes are plain digits). From also allows
  // alphanumeric sender IDs, but the format does not distinguish From from To,
  // so those are rejected; the project sends E.164 only.
  "phone-number": {
    test: (v) => E164ISH.test(v) || /^[a-z][a-z0-9-]*:\S+$/.test(v),
    expected: "an E.164 phone number or a channel address (whatsapp:+1...)",
  },
  // CreateCall To/From: "The phone number, SIP address, or client identifier to call."
  endpoint: {
    test: (v) => E164ISH.test(v) || /^(client|sip):\S+$/i.test(v),
    expected: "an E.164 phone number, sip: address or client: identifier",
  },
  "iso-country-code": { test: (v) => /^[A-Z]{2}$/.test(v), expected: "an ISO 3166-1 alpha-2 country code" },
};

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function checkScalar(
  where: string,
  value: string,
  schemaOrRef: OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject,
): ContractViolation[] {
  const schema = deref(schemaOrRef);
  const fail = (message: string): ContractViolation[] => [{ where, message }];
  if (schema.allOf ?? schema.anyOf ?? schema.oneOf ?? schema.not) {
    // Not used by the operations we call; fail closed rather than pass silently.
    return fail("schema uses allOf/anyOf/oneOf/not, which this checker does not support");
  }
  switch (schema.type) {
    case "integer":
      if (!INTEGER.test(value)) return fail(`expected an integer, got ${JSON.stringify(value)}`);
      break;
    case "number":
      if (!NUMBER.test(value)) return fail(`expected a number, got ${JSON.stringify(value)}`);
      break;
    case "boolean":
      if (value !== "true" && value !== "false")
        return fail(`expected "true" or "false", got ${JSON.stringify(value)}`);
      break;
    case "array":
    case "object":
      return fail(`a form value cannot be a nested ${schema.type}`);
    default:
      break;
  }
  if (schema.enum && !schema.enum.some((allowed) => String(allowed) === value)) {
    return fail(`${JSON.stringify(value)} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  const violations: ContractViolation[] = [];
  const format = schema.format === undefined ? undefined : FORMATS[schema.format];
  if (format && !format.test(value))
    violations.push({ where, message: `expected ${format.expected}, got ${JSON.stringify(value)}` });
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    violations.push({ where, message: `${JSON.stringify(value)} does not match ${schema.pattern}` });
  }
  // JSON Schema counts string length in code points, not UTF-16 units.
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    violations.push({ where, message: `shorter than ${schema.minLength} characters` });
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    violations.push({ where, message: `longer than ${schema.maxLength} characters` });
  }
  if (schema.type === "integer" || schema.type === "number") {
    const n = Number(value);
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? n <= schema.minimum : n < schema.minimum)) {
      violations.push({ where, message: `${value} is below the minimum ${schema.minimum}` });
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? n >= schema.maximum : n > schema.maximum)) {
      violations.push({ where, message: `${value} is above the maximum ${schema.maximum}` });
    }
  }
  return violations;
}

/** A form or query value: arrays take one value or repeated keys; scalars exactly one. */
function checkValue(
  where: string,
  value: string | string[],
  schemaOrRef: OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject,
): ContractViolation[] {
  const schema = deref(schemaOrRef);
  if (schema.type !== "array") {
    if (Array.isArray(value)) return [{ where, message: `expected a single value, got ${value.length}` }];
    return checkScalar(where, value, schema);
  }
  const values = Array.isArray(value) ? value : [value];
  const violations: ContractViolation[] = [];
  if (schema.minItems !== undefined && values.length < schema.minItems) {
    violations.push({ where, message: `expected at least ${schema.minItems} values` });
  }
  if (schema.maxItems !== undefined && values.length > schema.maxItems) {
    violations.push({ where, message: `expected at most ${schema.maxItems} values` });
  }
  values.forEach((item, i) =>
    violations.push(...checkScalar(values.length > 1 ? `${where}[${i}]` : where, item, schema.items)),
  );
  return violations;
}

// --- request checks -----------------------------------------------------------

/** Operation parameters override path-item parameters with the same name and location. */
function parametersOf(
  item: OpenAPIV3.PathItemObject,
  operation: OpenAPIV3.OperationObject,
): OpenAPIV3.ParameterObject[] {
  const byKey = new Map<string, OpenAPIV3.ParameterObject>();
  for (const p of [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((ref) => deref(ref))) {
    byKey.set(`${p.in}:${p.name}`, p);
  }
  return [...byKey.values()];
}

function checkParameters(
  location: "path" | "query",
  declared: OpenAPIV3.ParameterObject[],
  values: Record<string, string | string[]>,
): ContractViolation[] {
  const violations: ContractViolation[] = [];
  const params = declared.filter((p) => p.in === location);
  const known = new Set(params.map((p) => p.name));
  for (const param of params) {
    const value = values[param.name];
    if (value === undefined) {
      if (param.required)
        violations.push({ where: `${location}.${param.name}`, message: "required parameter is missing" });
    } else if (param.schema) {
      violations.push(...checkValue(`${location}.${param.name}`, value, param.schema));
    }
  }
  for (const name of Object.keys(values)) {
    if (!known.has(name))
      violations.push({ where: `${location}.${name}`, message: "parameter is not declared by the operation" });
  }
  return violations;
}

function checkBody(operation: OpenAPIV3.OperationObject, request: TwilioRequest): ContractViolation[] {
  const hasFields = Object.keys(request.form).length > 0;
  if (!operation.requestBody) {
    return hasFields ? [{ where: "body", message: "operation takes no request body" }] : [];
  }
  const body = deref(operation.requestBody);
  const mediaType = request.contentType?.split(";")[0]?.trim().toLowerCase();
  const content = body.content[FORM];
  if (!content)
    return [{ where: "body", message: `operation has no ${FORM} body; this checker handles form bodies only` }];
  if (mediaType !== FORM) {
    return [{ where: "contentType", message: `expected ${FORM}, got ${request.contentType ?? "no content type"}` }];
  }
  const schema = content.schema ? deref(content.schema) : undefined;
  if (!schema) return [];
  const properties = schema.properties ?? {};
  const violations: ContractViolation[] = [];
  for (const name of schema.required ?? []) {
    if (request.form[name] === undefined)
      violations.push({ where: `body.${name}`, message: "required field is missing" });
  }
  for (const [name, value] of Object.entries(request.form)) {
    const property = properties[name];
    if (property) violations.push(...checkValue(`body.${name}`, value, property));
    else violations.push({ where: `body.${name}`, message: "field is not declared by the operation" });
  }
  return violations;
}

export function checkTwilioRequest(request: TwilioRequest): {
  match: ContractMatch | null;
  violations: ContractViolation[];
} {
  const method = request.method.toLowerCase();
  const candidates = compiledPaths()
    .map((compiled) => ({ compiled, captures: compiled.regex.exec(request.path) }))
    .filter((c): c is { compiled: CompiledPath; captures: RegExpExecArray } => c.captures !== null);
  const first = candidates[0];
  if (!first) {
    return {
      match: null,
      violations: [{ where: "path", message: `no such operation: no path template matches ${request.path}` }],
    };
  }
  const found = candidates.find(
    (c) => (METHODS as readonly string[]).includes(method) && c.compiled.item[method as Method],
  );
  if (!found) {
    return {
      match: null,
      violations: [
        { where: "method", message: `no such operation: ${request.method.toUpperCase()} ${first.compiled.template}` },
      ],
    };
  }

  const { compiled, captures } = found;
  const operation = compiled.item[method as Method] as OpenAPIV3.OperationObject;
  const pathParams: Record<string, string> = {};
  compiled.paramNames.forEach((name, i) => {
    const raw = captures[i + 1] ?? "";
    try {
      pathParams[name] = decodeURIComponent(raw);
    } catch {
      pathParams[name] = raw; // malformed %-escape: the pattern check below reports it
    }
  });

  const parameters = parametersOf(compiled.item, operation);
  const violations = [
    ...checkParameters("path", parameters, pathParams),
    ...checkParameters("query", parameters, request.query),
    ...checkBody(operation, request),
  ];
  return {
    match: {
      operationId: operation.operationId ?? `${method.toUpperCase()} ${compiled.template}`,
      pathTemplate: compiled.template,
      pathParams,
    },
    violations,
  };
}

/** Throws if the request breaks the Twilio contract; returns the matched operation otherwise. */
export function assertTwilioRequest(request: TwilioRequest): ContractMatch {
  const { match, violations } = checkTwilioRequest(request);
  if (!match || violations.length > 0) {
    const lines = violations.map((v) => `  ${v.where}: ${v.message}`).join("\n");
    throw new Error(`${request.method.toUpperCase()} ${request.path} breaks the Twilio API contract:\n${lines}`);
  }
  return match;
}
