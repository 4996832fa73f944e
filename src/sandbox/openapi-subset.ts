/**
 * A provider's OpenAPI contract subset (contracts/<provider>/), loaded once:
 * its document, local $ref resolution, and its path templates compiled for
 * matching a request's path. The Twilio and Stripe request checkers build on
 * it; each knows its own encoding (flat forms vs Stripe's bracket notation).
 */
import { readFileSync } from "node:fs";
import type { OpenAPIV3 } from "openapi-types";

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

export interface CompiledPath {
  template: string;
  regex: RegExp;
  paramNames: string[];
  item: OpenAPIV3.PathItemObject;
}

export interface SubsetOperation {
  operationId: string;
  method: string;
  pathTemplate: string;
}

export function openApiSubset(specUrl: URL, label: string) {
  let cachedSpec: OpenAPIV3.Document | undefined;
  let cachedPaths: CompiledPath[] | undefined;

  function spec(): OpenAPIV3.Document {
    if (!cachedSpec) {
      const doc = JSON.parse(readFileSync(specUrl, "utf8")) as OpenAPIV3.Document;
      if (typeof doc.openapi !== "string" || !doc.openapi.startsWith("3.") || typeof doc.paths !== "object") {
        throw new Error(`${specUrl.pathname} is not an OpenAPI 3 document`);
      }
      cachedSpec = doc;
    }
    return cachedSpec;
  }

  /** Resolves a local "#/components/..." $ref; the subset is self-contained, so a miss is a broken subset. */
  function deref<T extends object>(value: T | OpenAPIV3.ReferenceObject): T {
    let node: unknown = value;
    for (let hops = 0; typeof node === "object" && node !== null && "$ref" in node; hops++) {
      const ref = (node as OpenAPIV3.ReferenceObject).$ref;
      if (hops > 32 || !ref.startsWith("#/")) throw new Error(`cannot resolve $ref ${ref}`);
      node = ref
        .slice(2)
        .split("/")
        .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
        .reduce<unknown>((parent, key) => (typeof parent === "object" && parent !== null ? (parent as Record<string, unknown>)[key] : undefined), spec());
      if (node === undefined) throw new Error(`dangling $ref ${ref} in the ${label} contract subset`);
    }
    return node as T;
  }

  /** Path templates as regexes; templates with more literal text win (/Calls/Feedback.json before /Calls/{Sid}.json). */
  function compiledPaths(): CompiledPath[] {
    if (!cachedPaths) {
      cachedPaths = Object.entries(spec().paths).flatMap(([template, item]) => {
        if (!item) return [];
        const paramNames: string[] = [];
        const source = template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const name = /^\{([^}]+)\}$/.exec(part)?.[1];
            if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            paramNames.push(name);
            return "([^/]+)";
          })
          .join("");
        return [{ template, regex: new RegExp(`^${source}$`), paramNames, item }];
      });
      cachedPaths.sort((a, b) => b.template.replace(/\{[^}]+\}/g, "").length - a.template.replace(/\{[^}]+\}/g, "").length);
    }
    return cachedPaths;
  }

  /** The operations in the subset, in spec order. */
  function listOperations(): SubsetOperation[] {
    return Object.entries(spec().paths).flatMap(([pathTemplate, item]) =>
      HTTP_METHODS.flatMap((method) => {
        const operation = item?.[method];
        return operation?.operationId ? [{ operationId: operation.operationId, method: method.toUpperCase(), pathTemplate }] : [];
      }),
    );
  }

  return { spec, deref, compiledPaths, listOperations };
}
