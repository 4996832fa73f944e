import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { maskPhone, maskPhonesInText } from "./phone.js";

/**
 * Fields that carry secrets or personal data, wherever they appear in a log
 * object (request headers, bodies we choose to log, job payloads, error
 * properties), at any depth up to MAX_DEPTH. Phone numbers are masked rather
 * than removed so support can still tell two numbers apart; secrets are
 * removed outright. Names compare case-insensitively (axios says
 * "Authorization", Twilio says "To").
 */
const SECRET_FIELDS = new Set(
  [
    "apiKey",
    "key",
    "token",
    "authToken",
    "secret",
    "password",
    "statusToken",
    "authorization",
    "cookie",
    "x-api-key",
    "idempotency-key",
    "x-twilio-signature",
    "stripe-signature",
  ].map((field) => field.toLowerCase()),
);
const PHONE_FIELDS = new Set(
  ["phone", "customerPhone", "expertPhone", "to", "from", "caller", "called", "e164"].map((field) => field.toLowerCase()),
);

/**
 * Log objects are walked this deep and no deeper: a cyclic or huge object
 * must not stall the process that logs it. What lies below is dropped.
 */
const MAX_DEPTH = 8;
const TOO_DEEP = "[too deep to log]";

/**
 * HTTP client errors (axios, under the Twilio SDK) carry the whole request:
 * the Authorization header with the account's auth token, and the form body
 * with phone numbers and message text. Keep what explains the failure.
 */
const REQUEST_CARRYING_FIELDS = ["config", "request", "response", "headers", "data", "body"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * pino's err serializer builds its output (and that of an error's `cause`)
 * on a prototype of its own, not Object.prototype. Such objects are data
 * like plain ones, so they are walked too.
 */
const SERIALIZED_ERROR_PROTOTYPE: unknown = Object.getPrototypeOf(stdSerializers.err(new Error("probe")));

function isWalkable(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) || (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === SERIALIZED_ERROR_PROTOTYPE);
}

/**
 * Inside an error, any string may quote a phone number in prose (a pg
 * error's `detail`: 'Key ("shopId", phone)=(…, +1415…) already exists'), so
 * every string there is masked, not only fields named like a phone.
 */
interface ScrubMode {
  inError: boolean;
}
const LOG_OBJECT: ScrubMode = { inError: false };
const ERROR_PROPERTIES: ScrubMode = { inError: true };

function scrubField(field: string, value: unknown, depth: number, mode: ScrubMode = LOG_OBJECT): unknown {
  const name = field.toLowerCase();
  if (SECRET_FIELDS.has(name)) return "[redacted]";
  if (PHONE_FIELDS.has(name) && typeof value === "string") return maskPhone(value);
  return scrub(value, depth + 1, mode);
}

/**
 * A copy of `value` with secrets removed and phone numbers masked at every
 * depth. Only plain objects, arrays and errors are walked: class instances
 * (Fastify's request and reply) have serializers of their own.
 */
function scrub(value: unknown, depth: number, mode: ScrubMode = LOG_OBJECT): unknown {
  if (value instanceof Error) return depth > MAX_DEPTH ? TOO_DEEP : serializeError(value, depth);
  if (typeof value === "string") return mode.inError ? maskPhonesInText(value) : value;
  if (!Array.isArray(value) && !isWalkable(value)) return value;
  if (depth > MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, mode));
  const copy: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(value)) copy[field] = scrubField(field, item, depth, mode);
  return copy;
}

/**
 * The standard error shape, without request-carrying fields, with phone
 * numbers masked in every string of it: the message and stack (a Twilio
 * error says "The 'To' number +1415... is not valid") and the error's own
 * properties at any depth (a pg error's `detail`, a Twilio error's `details`).
 */
function serializeError(error: Error, depth = 0): Record<string, unknown> {
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  const clean: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(serialized)) {
    if (REQUEST_CARRYING_FIELDS.includes(field)) continue;
    clean[field] = scrubField(field, value, depth, ERROR_PROPERTIES);
  }
  return clean;
}

/** Status-page and onboarding tokens are secrets that travel in the path: /q/<token> (the status page), /s/<token>, /status/<token>, /e/onboard/<token>. */
const STATUS_TOKEN_IN_PATH = /\/(q|s|status|onboard)\/[A-Za-z0-9_-]{16,}(?=[/?#]|$)/g;
const SECRET_QUERY_PARAMS = new Set(["token", "statustoken", "key", "apikey", "api_key", "secret", "signature", "password", "access_token"]);

/**
 * The URL as access logs may show it: tokens in the path and secret query
 * parameters are redacted; path words (/twilio/status/call) are kept so two
 * routes stay distinguishable.
 */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf("?");
  const path = (queryStart === -1 ? url : url.slice(0, queryStart)).replace(STATUS_TOKEN_IN_PATH, "/$1/[redacted]");
  if (queryStart === -1) return path;
  const query = url
    .slice(queryStart + 1)
    .split("&")
    .map((pair) => {
      const name = pair.split("=", 1)[0] ?? "";
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name);
      } catch {
        // a malformed name is logged as sent
      }
      return SECRET_QUERY_PARAMS.has(decodedName.toLowerCase()) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${path}?${query}`;
}

export interface LoggerSettings {
  level: string;
  /** Human-readable output for development (pino-pretty). */
  pretty?: boolean;
  /** Where lines go (stdout by default); tests capture them. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerSettings): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    base: { service: "expertline" },
    formatters: {
      // Runs before the serializers: `err` at the top is left to the err serializer.
      log: (object) => {
        const copy: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(object)) {
          copy[field] = field === "err" && value instanceof Error ? value : scrubField(field, value, 0);
        }
        return copy;
      },
      bindings: (bindings) => scrub(bindings, 0) as Record<string, unknown>,
    },
    hooks: {
      // The message itself: a string with a phone number in it, or an error whose message pino would copy.
      logMethod(args, method) {
        const log: (...parts: unknown[]) => void = method;
        const parts = args as unknown[];
        if (parts.length === 1 && parts[0] instanceof Error) {
          log.apply(this, [{ err: parts[0] }, maskPhonesInText(parts[0].message)]);
          return;
        }
        log.apply(this, parts.map((part) => (typeof part === "string" ? maskPhonesInText(part) : part)));
      },
    },
    serializers: {
      err: (error: Error) => serializeError(error),
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        reqId: req.id,
      }),
    },
  };
  if (options.destination) return pino(loggerOptions, options.destination);
  if (options.pretty) {
    loggerOptions.transport = { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname,service" } };
  }
  return pino(loggerOptions);
}
