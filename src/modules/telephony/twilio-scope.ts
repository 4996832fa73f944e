/**
 * What every Twilio webhook route shares: form bodies, the X-Twilio-Signature
 * check (403 before anything else looks at the body), the form atoms with
 * their bounds, and the 400 for a form that lacks fields. Modules that answer
 * Twilio (telephony, question intake by voice, voice sessions) register their
 * routes inside one scope that `verifyTwilioWebhooks` has prepared.
 */
import formbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import twilio from "twilio";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { sendProblem } from "../../plugins/errors.js";
import { problem } from "../../plugins/problem.js";

export const TWIML = "text/xml; charset=utf-8";

/** The URL Twilio signed: our public base + the path and query it called. */
function signedUrl(publicBaseUrl: string, request: FastifyRequest): string {
  return `${publicBaseUrl}${request.url}`;
}

/** Adds form parsing and the signature check to `scope`; routes registered in it afterwards are covered. */
export async function verifyTwilioWebhooks(scope: FastifyInstance, { config, logger }: Pick<Deps, "config" | "logger">): Promise<void> {
  await scope.register(formbody);
  // Verify before the body is looked at by anything else.
  scope.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    const signature = request.headers["x-twilio-signature"];
    const params = (request.body ?? {}) as Record<string, string>;
    const valid =
      typeof signature === "string" &&
      twilio.validateRequest(config.TWILIO_AUTH_TOKEN, signature, signedUrl(config.PUBLIC_BASE_URL, request), params);
    if (!valid) {
      logger.warn({ path: request.url.split("?")[0] }, "rejected a webhook with a missing or wrong Twilio signature");
      return sendProblem(request, reply, problem(403, "invalid-signature", "X-Twilio-Signature is missing or does not match"));
    }
  });
}

/** PostgreSQL int columns; a bigger number in a webhook is nonsense, not a reason for a 500. */
export const int4 = z.coerce.number().int().min(0).max(2_147_483_647);
// PostgreSQL text cannot hold NUL; a message is still worth keeping without it.
export const text = z.string().transform((value) => value.replaceAll("\u0000", ""));
/**
 * Twilio's SIDs: two letters and 32 hex digits. Bounded because they land in unique indexes,
 * whose entries PostgreSQL caps at a few kilobytes (a longer value would be a 500).
 */
export const sid = z.string().regex(/^[A-Z]{2}[0-9a-fA-F]{32}$/, "must be a Twilio SID (two letters and 32 hex digits)");
/** A status word ("delivered", "in-progress"): part of a dedupe key, so bounded too. */
export const statusWord = z.string().max(32);
/** Phone numbers, client identifiers (client:alice) or SIP addresses: short in practice. */
export const address = z.string().max(256);
/** What Twilio sends with every call request (the voice URL, a Gather or Dial action, a status callback). */
export const callForm = z
  .object({ CallSid: sid, From: address.default(""), To: address.default(""), CallStatus: statusWord.default("") })
  .loose();

function parseWebhookPart<T extends z.ZodType>(part: "body" | "query", schema: T, request: FastifyRequest, reply: FastifyReply): z.output<T> | undefined {
  const parsed = schema.safeParse(request[part]);
  if (parsed.success) return parsed.data;
  void sendProblem(
    request,
    reply,
    problem(
      400,
      "validation-error",
      part === "body" ? "The webhook body is missing fields" : "The webhook URL's query is not one of ours",
      parsed.error.issues.map((issue) => ({ path: `${part}.${issue.path.join(".")}`, message: issue.message })),
    ),
  );
  return undefined;
}

/**
 * Parses a webhook form; on failure answers 400 (problem+json, field detail) and returns undefined.
 * Usage: `const form = parseForm(schema, request, reply); if (!form) return reply;`
 */
export function parseForm<T extends z.ZodType>(schema: T, request: FastifyRequest, reply: FastifyReply): z.output<T> | undefined {
  return parseWebhookPart("body", schema, request, reply);
}

/** parseForm for the query string of our own action URLs (signed by Twilio with the rest of the URL). */
export function parseQuery<T extends z.ZodType>(schema: T, request: FastifyRequest, reply: FastifyReply): z.output<T> | undefined {
  return parseWebhookPart("query", schema, request, reply);
}
