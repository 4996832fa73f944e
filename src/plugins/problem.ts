import { z } from "zod";

/** RFC 9457 problem details, as every error response of this API is shaped. */
export const problemSchema = z
  .object({
    type: z.string().describe("Stable identifier of the kind of problem, e.g. urn:expertline:problem:validation-error"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().describe("Same as the last segment of type; convenient for switch statements"),
    requestId: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional()
      .describe("One entry per failing field, for validation errors"),
    created: z
      .record(z.string(), z.string())
      .optional()
      .describe("For a repeated request whose first answer carried a secret: what it created (ids, prefix), never the secret"),
  })
  .meta({ id: "Problem" });

export type Problem = z.infer<typeof problemSchema>;

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problem(status: number, code: string, detail: string, errors?: Problem["errors"]): Problem {
  return {
    type: `urn:expertline:problem:${code}`,
    title: TITLES[status] ?? (status >= 500 ? "Server Error" : "Client Error"),
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  400: problemSchema,
  401: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
} as const;
