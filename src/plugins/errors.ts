/**
 * One place turns every failure into application/problem+json. Clients never
 * see a stack trace; malformed input of any kind is a 4xx, never a 500.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { isDatabaseUnavailable, isInvalidTextEncoding, isUniqueViolation } from "../db/errors.js";
import { Prisma } from "../generated/prisma/client.js";
import { DomainError } from "../lib/problems.js";
import { problem, type Problem } from "./problem.js";
import { RouteMethods } from "./route-methods.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

export function sendProblem(request: FastifyRequest, reply: FastifyReply, body: Problem): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url.split("?")[0], requestId: request.id });
}

/** Fastify's own error codes for requests it could not parse. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported-media-type" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "invalid-content-length" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "body-too-large" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "empty-json-body" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "malformed-json" },
  // Raised by the router before any route or hook runs: they reach frameworkErrors.
  FST_ERR_BAD_URL: { status: 400, code: "invalid-url" },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: "uri-too-long" },
};

function zodPath(instancePath: string, params: unknown): string {
  // The validator reports "/skills/0/level" relative to the part it checked.
  const issuePath = (params as { issue?: { path?: PropertyKey[] } } | undefined)?.issue?.path;
  if (issuePath) return issuePath.map(String).join(".");
  return instancePath.replace(/^\//, "").replaceAll("/", ".");
}

export function toProblem(error: FastifyError | Error): { body: Problem; serverFault: boolean } {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext ?? "request";
    const errors = error.validation.map((issue) => {
      const field = zodPath(issue.instancePath, issue.params);
      return {
        path: field ? `${context}.${field}` : context,
        message: issue.message ?? "is invalid",
        code: String(issue.keyword),
      };
    });
    return {
      body: problem(400, "validation-error", `The request ${context} is invalid: ${errors.length} field(s) failed`, errors),
      serverFault: false,
    };
  }
  if (error instanceof DomainError) {
    return { body: problem(error.status, error.code, error.message, error.errors), serverFault: false };
  }
  // Services should catch these; this is the safety net for races they missed.
  if (isUniqueViolation(error)) return { body: problem(409, "conflict", "A conflicting record exists"), serverFault: false };
  if (isInvalidTextEncoding(error)) {
    // The text schemas refuse NUL at the edge; this catches a field that missed them.
    return {
      body: problem(400, "invalid-text", "A text value contains a NUL character (\\u0000) or invalid UTF-8; remove it and retry"),
      serverFault: false,
    };
  }
  if (isDatabaseUnavailable(error)) {
    // Logged as a fault (operators must know), answered as "try again" since it is not the caller's.
    return {
      body: problem(503, "database-unavailable", "The database cannot be reached right now; retry in a few seconds"),
      serverFault: true,
    };
  }
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025") {
    return { body: problem(404, "not-found", "Not found"), serverFault: false };
  }
  if (isResponseSerializationError(error)) {
    return { body: problem(500, "internal", "The server failed to build the response"), serverFault: true };
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (known) return { body: problem(known.status, known.code, fastifyError.message), serverFault: false };
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return { body: problem(status, "bad-request", fastifyError.message), serverFault: false };
  }
  return { body: problem(500, "internal", "Something went wrong on our side; it has been logged"), serverFault: true };
}

/** What a 503 tells clients to wait: long enough for a database restart or a pool to drain. */
const RETRY_AFTER_SECONDS = 5;

function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { body, serverFault } = toProblem(error);
  if (body.status === 503) reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  if (error instanceof DomainError && error.headers) reply.headers(error.headers);
  if (serverFault) request.log.error({ err: error }, "request failed");
  else request.log.info({ code: body.code, status: body.status }, "request rejected");
  return sendProblem(request, reply, body);
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any
 * route, hook or error handler exists for the request (a malformed URL
 * encoding such as /v1/products/%E0%A4%A, an over-long path parameter).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // onRequest hooks have not run, so the request id header is not set yet.
  reply.header("x-request-id", request.id);
  answerError(error, request, reply);
}

/**
 * Fastify's `clientErrorHandler` option: requests Node's HTTP parser refuses
 * (malformed request line or headers, headers too large, a client too slow)
 * never become a Fastify request, so the answer is written to the socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, detail] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "headers-too-large", "The request headers are too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "request-timeout", "The request took too long to arrive"]
        : [400, "malformed-request", "The request is not valid HTTP"];
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => answerError(error, request, reply));

  // Registered before any module, this sees every route, prefixes included.
  const routeMethods = new RouteMethods();
  app.addHook("onRoute", (route) => routeMethods.add(route.url, route.method));

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? request.url;
    const allowed = routeMethods.allowedFor(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header("allow", allowed.join(", "));
      return sendProblem(
        request,
        reply,
        problem(405, "method-not-allowed", `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}`),
      );
    }
    return sendProblem(request, reply, problem(404, "route-not-found", `No route ${request.method} ${path}`));
  });
}

export default fp(errorsPlugin, { name: "errors" });
