import { pino, type Logger, type LoggerOptions } from "pino";
import { maskPhone } from "./phone.js";

/**
 * Fields that carry secrets or personal data, wherever they appear in a log
 * object (request headers, bodies we choose to log, job payloads). Phone
 * numbers are masked rather than removed so support can still tell two
 * numbers apart; secrets are removed outright.
 */
const SECRET_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'req.headers["idempotency-key"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["stripe-signature"]',
  "*.apiKey",
  "*.key",
  "*.token",
  "*.authToken",
  "*.secret",
  "*.password",
  "*.statusToken",
];
const PHONE_PATHS = ["*.phone", "*.customerPhone", "*.to", "*.from", "*.To", "*.From", "*.Caller", "*.Called"];

export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    base: { service: "expertline" },
    redact: {
      paths: [...SECRET_PATHS, ...PHONE_PATHS],
      censor: (value, path) => {
        const field = path.at(-1) ?? "";
        if (PHONE_PATHS.some((phonePath) => phonePath.endsWith(`.${field}`)) && typeof value === "string") {
          return maskPhone(value);
        }
        return "[redacted]";
      },
    },
    serializers: {
      // Status-page tokens travel in the path; keep them out of access logs.
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.replace(/\/(s|status)\/[^/?]+/, "/$1/[redacted]"),
        reqId: req.id,
      }),
    },
  };
  if (options.pretty) {
    loggerOptions.transport = { target: "pino-pretty", options: { translateTime: "HH:MM:ss.l", ignore: "pid,hostname,service" } };
  }
  return pino(loggerOptions);
}
