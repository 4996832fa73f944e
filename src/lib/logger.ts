import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { maskPhone } from "./phone.js";

/**
 * Fields that carry secrets or personal data, wherever they appear in a log
 * object (request headers, bodies we choose to log, job payloads). Phone
 * numbers are masked rather than removed so support can still tell two
 * numbers apart; secrets are removed outright.
 */
const SECRET_FIELDS = ["apiKey", "key", "token", "authToken", "secret", "password", "statusToken"];
const PHONE_FIELDS = ["phone", "customerPhone", "to", "from", "To", "From", "Caller", "Called"];
const SECRET_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'req.headers["idempotency-key"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["stripe-signature"]',
  // top level and one level down ({ expert: { phone } }); pino paths match exactly
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
];
const PHONE_PATHS = [...PHONE_FIELDS, ...PHONE_FIELDS.map((field) => `*.${field}`)];

/**
 * HTTP client errors (axios, under the Twilio SDK) carry the whole request:
 * the Authorization header with the account's auth token, and the form body
 * with phone numbers and message text. Keep what explains the failure.
 */
const REQUEST_CARRYING_FIELDS = ["config", "request", "response", "headers", "data", "body"];

function serializeError(error: Error): Record<string, unknown> {
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of REQUEST_CARRYING_FIELDS) delete serialized[field];
  if (serialized.cause instanceof Error) serialized.cause = serializeError(serialized.cause);
  else if (typeof serialized.cause === "object" && serialized.cause !== null) {
    for (const field of REQUEST_CARRYING_FIELDS) delete (serialized.cause as Record<string, unknown>)[field];
  }
  return serialized;
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
    redact: {
      paths: [...SECRET_PATHS, ...PHONE_PATHS],
      censor: (value, path) => {
        const field = path.at(-1) ?? "";
        if (PHONE_FIELDS.includes(String(field)) && typeof value === "string") {
          return maskPhone(value);
        }
        return "[redacted]";
      },
    },
    serializers: {
      err: serializeError,
      // Status-page tokens travel in the path; keep them out of access logs.
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.replace(/\/(s|status)\/[^/?]+/, "/$1/[redacted]"),
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
