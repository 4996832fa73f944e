/**
 * Domain errors with a stable code. Services throw these; the error plugin
 * turns them into RFC 9457 problem+json responses. Nothing else should
 * decide an HTTP status.
 */
export interface FieldError {
  /** Dotted path of the failing field, e.g. "body.skills.0.level". */
  path: string;
  message: string;
  code?: string;
}

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    /** Response headers the problem needs, e.g. Retry-After on a 429. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new DomainError(404, "not-found", `${what} not found`);

export const conflict = (code: string, message: string) => new DomainError(409, code, message);

/** The request is well-formed but refers to things that do not exist or cannot be. */
export const unprocessable = (message: string, errors: FieldError[]) =>
  new DomainError(422, "unprocessable", message, errors);
