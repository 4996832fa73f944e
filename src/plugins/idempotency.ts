/**
 * Idempotency-Key for mutating POSTs: the first response to a key is stored
 * and replayed for retries with the same body; the same key with a different
 * request is 422. While the first request is still running a retry gets 409
 * (retry later) rather than a second effect.
 *
 * Register inside an authenticated scope: keys are scoped per caller, so two
 * shops using the same key never see each other's responses.
 *
 * A route whose answer carries a secret shown once (an API key) says so with
 * `config: { idempotency: secretIssuing(describe) }`. Its answer is never
 * stored, since the table would then hold the secret in plain text for a day
 * and hand it to anyone holding another key of the caller. Only what
 * `describe` picks (ids, prefixes) is kept, and a repeat gets a 409 problem
 * naming what was created instead of a replay.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Deps } from "../deps.js";
import { sha256Hex } from "../lib/tokens.js";
import { sendProblem } from "./errors.js";
import { problem } from "./problem.js";

export interface IdempotencyPolicy {
  /** What a repeat may be told about the first answer: never its secret. */
  describeSecretIssued(responseBody: unknown): Record<string, string>;
}

declare module "fastify" {
  interface FastifyRequest {
    idempotencyRecordId: string | null;
  }
  interface FastifyContextConfig {
    idempotency?: IdempotencyPolicy;
  }
}

/** Route config for a route whose success answer carries a secret shown once. */
export function secretIssuing<Body>(describe: (responseBody: Body) => Record<string, string>): IdempotencyPolicy {
  return { describeSecretIssued: (responseBody) => describe(responseBody as Body) };
}

function isSuccess(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 300;
}

function parseStored(body: string | null): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(body ?? "");
    return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Only the described metadata of a secret-issuing answer, or nothing when it cannot be read. */
function metadataOf(policy: IdempotencyPolicy, payload: string): string {
  try {
    return JSON.stringify(policy.describeSecretIssued(JSON.parse(payload)));
  } catch {
    return "{}";
  }
}

/** A first attempt that has not finished within this is presumed dead (crashed process). */
const IN_FLIGHT_TTL_MS = 60_000;
/** Stored responses are kept this long (the worker purges older ones). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/**
 * Bodies nested deeper than this are refused before they are fingerprinted.
 * No request of this API comes close, and the parser accepts bodies nested
 * tens of thousands deep within the body limit: walking those would
 * overflow the stack (a 500) for a request that is only malformed.
 */
export const MAX_FINGERPRINT_DEPTH = 64;

/** Thrown by requestFingerprint for a body nested deeper than MAX_FINGERPRINT_DEPTH. */
export class BodyTooDeepError extends Error {
  constructor() {
    super(`The request body is nested deeper than ${MAX_FINGERPRINT_DEPTH} levels`);
  }
}

/** JSON with sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} are the same request. */
function canonicalJson(value: unknown, depth: number): string {
  if (depth > MAX_FINGERPRINT_DEPTH) throw new BodyTooDeepError();
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, depth + 1)).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item, depth + 1)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** What makes two requests "the same" for an Idempotency-Key. Throws BodyTooDeepError. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return sha256Hex(`${method} ${path}\n${canonicalJson(body ?? null, 0)}`);
}

/** The fingerprint, or null (after answering 400) for a body too deep to take one. */
function fingerprintOrRefuse(request: FastifyRequest, reply: FastifyReply, path: string): string | null {
  try {
    return requestFingerprint(request.method, path, request.body);
  } catch (error) {
    if (!(error instanceof BodyTooDeepError)) throw error;
    sendProblem(
      request,
      reply,
      problem(400, "validation-error", error.message, [
        { path: "body", message: `must not be nested deeper than ${MAX_FINGERPRINT_DEPTH} levels` },
      ]),
    );
    return null;
  }
}

function scopeOf(request: FastifyRequest): string | null {
  const caller = request.caller;
  if (!caller) return null;
  return caller.kind === "admin" ? "admin" : `shop:${caller.shopId}`;
}

async function idempotencyPlugin(app: FastifyInstance, { prisma, clock }: Pick<Deps, "prisma" | "clock">) {
  app.decorateRequest("idempotencyRecordId", null);

  // preValidation: fingerprint the body as sent, before zod applies defaults and transforms.
  app.addHook("preValidation", async (request, reply) => {
    const header = request.headers["idempotency-key"];
    if (request.method !== "POST" || header === undefined) return;
    const scope = scopeOf(request);
    if (!scope) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (!key || !KEY_FORMAT.test(key)) {
      return sendProblem(
        request,
        reply,
        problem(400, "validation-error", "Idempotency-Key must be 1-255 visible ASCII characters", [
          { path: "headers.idempotency-key", message: "must be 1-255 visible ASCII characters" },
        ]),
      );
    }
    const path = request.url.split("?")[0] ?? request.url;
    const requestHash = fingerprintOrRefuse(request, reply, path);
    if (requestHash === null) return reply;

    for (let attempt = 0; attempt < 3; attempt++) {
      // Look first: a replay is the common case for a retried request, and a
      // failed INSERT (unique violation) costs several times a lookup.
      const existing = await prisma.idempotencyRecord.findUnique({ where: { scope_key: { scope, key } } });
      if (!existing) {
        const [created] = await prisma.idempotencyRecord.createManyAndReturn({
          data: [{ scope, key, method: request.method, path, requestHash }],
          skipDuplicates: true, // ON CONFLICT DO NOTHING: a concurrent first attempt won; look again
          select: { id: true },
        });
        if (created) {
          request.idempotencyRecordId = created.id;
          return;
        }
        continue;
      }
      if (existing.requestHash !== requestHash) {
        return sendProblem(
          request,
          reply,
          problem(422, "idempotency-key-reused", "This Idempotency-Key was used with a different request; use a new key"),
        );
      }
      if (existing.statusCode === null) {
        const stale = clock.now().getTime() - existing.createdAt.getTime() > IN_FLIGHT_TTL_MS;
        if (!stale) {
          reply.header("retry-after", "1");
          return sendProblem(
            request,
            reply,
            problem(409, "idempotency-key-in-use", "A request with this Idempotency-Key is still being processed"),
          );
        }
        // The first attempt died without answering; let this one take over.
        await prisma.idempotencyRecord.deleteMany({ where: { id: existing.id, statusCode: null } });
        continue;
      }
      const policy = request.routeOptions.config.idempotency;
      if (policy && isSuccess(existing.statusCode)) {
        return sendProblem(request, reply, {
          ...problem(
            409,
            "idempotent-secret-not-replayable",
            "The first request with this Idempotency-Key created a secret that was shown once and is not kept, so it " +
              "cannot be replayed. Use the secret from the first answer, or revoke what was created (see `created`) " +
              "and send a new request with a new Idempotency-Key.",
          ),
          created: parseStored(existing.body),
        });
      }
      return reply
        .code(existing.statusCode)
        .header("content-type", existing.contentType ?? "application/json; charset=utf-8")
        .header("idempotent-replayed", "true")
        .send(existing.body ?? "");
    }
    throw new Error("idempotency record kept changing under us");
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const recordId = request.idempotencyRecordId;
    if (!recordId) return payload;
    request.idempotencyRecordId = null;
    if (reply.statusCode >= 500 || (typeof payload !== "string" && payload !== null && payload !== undefined)) {
      // Not a final answer (or not one we can store): let a retry run again.
      await prisma.idempotencyRecord.deleteMany({ where: { id: recordId } });
      return payload;
    }
    const contentType = reply.getHeader("content-type");
    const policy = request.routeOptions.config.idempotency;
    const stored = policy && isSuccess(reply.statusCode) ? metadataOf(policy, String(payload ?? "")) : (payload ?? "");
    // updateMany: if a retry took the key over (we were presumed dead), there is nothing left to update.
    await prisma.idempotencyRecord.updateMany({
      where: { id: recordId, statusCode: null },
      data: {
        statusCode: reply.statusCode,
        contentType: typeof contentType === "string" ? contentType : null,
        body: stored,
      },
    });
    return payload;
  });
}

export default fp(idempotencyPlugin, { name: "idempotency" });
