/**
 * The idempotency hook stores answers for replay, so a route whose answer
 * carries a secret must say so (`config: { idempotency: secretIssuing(...) }`)
 * or the secret sits in IdempotencyRecord for a day. That is opt-in per
 * route; this walks every registered POST route and fails for any whose
 * success answer has a secret-looking property but which replays a stored
 * success instead of refusing to.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { requestFingerprint } from "../../src/plugins/idempotency.js";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeShop } from "../helpers/factories.js";

const ctx = useTestContext();

interface JsonSchema {
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}
interface Operation {
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const SECRET_WORDS = new Set(["key", "secret", "token", "password", "passwd"]);

/** apiKey, client_secret, statusToken: a name any of whose words is a secret word. */
function soundsSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => SECRET_WORDS.has(word));
}

/** Secret-looking property names anywhere in `schema`, following $refs into the document's components. */
function secretProperties(schema: JsonSchema, document: OpenApiDocument, seen = new Set<string>()): string[] {
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return [];
    seen.add(schema.$ref);
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = document.components?.schemas?.[name];
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    return secretProperties(target, document, seen);
  }
  const found: string[] = [];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (soundsSecret(name)) found.push(name);
    found.push(...secretProperties(property, document, seen));
  }
  const children = [
    ...(Array.isArray(schema.items) ? schema.items : schema.items ? [schema.items] : []),
    ...(typeof schema.additionalProperties === "object" ? [schema.additionalProperties] : []),
    ...(schema.allOf ?? []),
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
  ];
  for (const child of children) found.push(...secretProperties(child, document, seen));
  return found;
}

/** Every route Fastify has registered for `method`, from its route tree (printRoutes with no common prefixes). */
function registeredRoutes(tree: string, method: string): string[] {
  const parents: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    parents.length = depth;
    const url = parents.join("") + (match[2] ?? "");
    parents.push(match[2] ?? "");
    if ((match[3] ?? "").split(", ").includes(method)) routes.push(url);
  }
  return routes;
}

/** "/v1/pools/:id/members" as the OpenAPI document writes it. */
const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, "{$1}");

describe("secret-issuing POST routes", () => {
  it("every POST route whose success answer carries a secret refuses to replay it, not only the ones known today", async () => {
    const { app, deps } = ctx();
    const document = (await app.inject({ method: "GET", url: "/docs/json" })).json<OpenApiDocument>();
    const posts = registeredRoutes(app.printRoutes({ commonPrefix: false }), "POST");
    expect(posts).toContain("/v1/api-keys"); // the route tree was read

    const issuing: { url: string; operation: Operation; secrets: string[] }[] = [];
    for (const url of posts) {
      const operation = document.paths[toOpenApiPath(url)]?.post;
      if (!operation) {
        // Hidden from the document, so its answer cannot be read here. Only
        // Twilio's webhooks are: no caller scope, so the hook never stores them.
        expect(url, `POST ${url} is not in the OpenAPI document`).toMatch(/^\/twilio\//);
        continue;
      }
      const secrets = Object.entries(operation.responses)
        .filter(([status]) => status.startsWith("2"))
        .flatMap(([, response]) => Object.values(response.content ?? {}))
        .flatMap((content) => (content.schema ? secretProperties(content.schema, document) : []));
      if (secrets.length > 0) issuing.push({ url, operation, secrets });
    }
    // The two known today; a new one joins this list by itself.
    expect(issuing.map((route) => route.url)).toEqual(expect.arrayContaining(["/v1/admin/shops", "/v1/api-keys"]));

    const shop = await makeShop(app);
    const failures: string[] = [];
    for (const { url, operation, secrets } of issuing) {
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
      const caller = schemes.includes("adminApiKey")
        ? { headers: adminHeaders, scope: "admin" }
        : schemes.includes("shopApiKey")
          ? { headers: shop.headers, scope: `shop:${shop.id}` }
          : null;
      if (!caller) {
        failures.push(`POST ${url} answers ${secrets.join(", ")} without authentication`);
        continue;
      }
      // A first request with this key "succeeded" earlier; its answer is stored as the hook would store it.
      const path = url.replace(/:\w+/g, randomUUID());
      const key = `secret-walk-${randomUUID()}`;
      await deps.prisma.idempotencyRecord.create({
        data: {
          scope: caller.scope,
          key,
          method: "POST",
          path,
          requestHash: requestFingerprint("POST", path, {}),
          statusCode: 201,
          contentType: "application/json; charset=utf-8",
          body: JSON.stringify({ storedAnswer: "would carry the secret" }),
        },
      });
      const retry = await app.inject({ method: "POST", url: path, headers: { ...caller.headers, "idempotency-key": key }, payload: {} });
      const refused = retry.statusCode === 409 && retry.json<{ code?: string }>().code === "idempotent-secret-not-replayable";
      if (!refused) {
        failures.push(
          `POST ${url} answers ${secrets.join(", ")} but replays a stored success (${retry.statusCode}); ` +
            "give it config: { idempotency: secretIssuing(...) }",
        );
      }
    }
    expect(failures).toEqual([]);
  });
});
