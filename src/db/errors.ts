/**
 * What a database error means, whichever road it came by: Prisma wraps
 * PostgreSQL's errors (through the pg driver adapter) in its own codes, while
 * the hot paths' raw SQL on the pg pool raises them as they are. Services and
 * the error handler ask here instead of reading error shapes themselves.
 */
import { Prisma } from "../generated/prisma/client.js";

/** The PostgreSQL error under a Prisma error, as the pg driver adapter records it. */
interface AdapterCause {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  constraint?: { index?: unknown; fields?: unknown };
}

function adapterCause(error: Prisma.PrismaClientKnownRequestError): AdapterCause | undefined {
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined;
  return meta?.driverAdapterError?.cause;
}

/** The SQLSTATE of a raw pg error (pg's DatabaseError carries it as `code`). */
function pgCode(error: unknown): string | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = adapterCause(error);
    const code = cause?.originalCode ?? cause?.code;
    return typeof code === "string" ? code : undefined;
  }
  // pg's DatabaseError: an Error with the server's severity and SQLSTATE on it.
  if (error instanceof Error && "severity" in error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/**
 * True when the error is a unique-constraint violation; with `constraint`
 * (the unique index's name, e.g. "Shop_slug_key"), only when it is that one,
 * so a clash on another unique column is not reported as the wrong conflict.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (error.code !== "P2002") return false;
    if (constraint === undefined) return true;
    return adapterCause(error)?.constraint?.index === constraint;
  }
  if (pgCode(error) !== "23505") return false;
  return constraint === undefined || (error as { constraint?: unknown }).constraint === constraint;
}

/**
 * 22021: a NUL byte (or invalid UTF-8) in a text value; 22P05: "\u0000" in
 * jsonb. Both are bad input that slipped past validation, never a server fault.
 */
const TEXT_ENCODING_CODES = new Set(["22021", "22P05"]);

export function isInvalidTextEncoding(error: unknown): boolean {
  const code = pgCode(error);
  return code !== undefined && TEXT_ENCODING_CODES.has(code);
}

/** Prisma's codes for "could not reach or keep a connection", including a pool that is full. */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024", "P2028"]);
const UNAVAILABLE_ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);

/** SQLSTATE class 08 (connection exception), server shutting down or starting, too many connections. */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300";
}

/**
 * True when the database could not be reached (down, restarting, pool
 * exhausted): the request may succeed later, so it is a 503, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNAVAILABLE_PRISMA_CODES.has(error.code)) return true;
    const kind = adapterCause(error)?.kind;
    if (typeof kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
  }
  const sqlState = pgCode(error);
  if (sqlState !== undefined && isUnavailableSqlState(sqlState)) return true;
  if (!(error instanceof Error)) return false;
  // The pg pool's own errors: a refused socket, or a connection that dropped mid-query.
  const nodeCode = "code" in error && typeof error.code === "string" ? error.code : undefined;
  return (nodeCode !== undefined && UNAVAILABLE_NODE_CODES.has(nodeCode)) || error.message.startsWith("Connection terminated");
}
