import { z } from "zod";
import { MAX_PAGE_SIZE } from "../../lib/pagination.js";
import { parseStatementMonth } from "./statement.js";

/** The ledger kinds a shop sees as its own lines: what it was charged and what it got back. */
export const SHOP_LEDGER_KINDS = ["shop_charge", "charge_refund"] as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
// RFC 3339 with an explicit offset, seconds and fraction optional: 2026-11-01T12:00Z, 2026-11-01T12:00:00.5+01:00
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A date (midnight UTC) or a timestamp with its offset; null when it is neither or does not exist (2026-02-30). */
export function parseInstant(raw: string): Date | null {
  // An unencoded "+01:00" in a query string arrives as " 01:00": read it as the offset it was.
  const value = raw.replace(/ (\d{2}:\d{2})$/, "+$1");
  if (DATE.test(value)) {
    const at = new Date(`${value}T00:00:00Z`);
    return Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value ? null : at;
  }
  if (!TIMESTAMP.test(value)) return null;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return null;
  // Date.parse rolls 2026-02-30 over to March; refuse a calendar date that does not exist.
  const day = value.slice(0, 10);
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day ? at : null;
}

const instant = (what: string) =>
  z
    .string()
    .describe(`${what}: a date (2026-11-01, midnight UTC) or an ISO 8601 timestamp with its offset (2026-11-01T09:30:00Z)`)
    .transform((value, ctx) => {
      const at = parseInstant(value);
      if (!at) {
        ctx.addIssue({ code: "custom", message: "must be a date (2026-11-01) or an ISO 8601 timestamp with offset (2026-11-01T09:30:00Z)" });
        return z.NEVER;
      }
      return at;
    });

export const listLedgerQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
    cursor: z.uuid({ error: "must be a cursor from a previous page" }).optional(),
    from: instant("Entries created at or after this instant").optional(),
    to: instant("Entries created before this instant (exclusive)").optional(),
    sessionId: z.uuid({ error: "must be a session id" }).optional(),
    kind: z.enum(SHOP_LEDGER_KINDS, { error: `must be one of ${SHOP_LEDGER_KINDS.join(", ")}` }).optional(),
  })
  .superRefine((query, ctx) => {
    if (query.from && query.to && query.from >= query.to) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    }
  });

export type ListLedgerQuery = z.output<typeof listLedgerQuery>;

const split = z
  .object({
    earningsMinor: z.number().int().describe("The expert's share of this line (negative on a refund)"),
    feesMinor: z.number().int().describe("The platform's share of this line (negative on a refund)"),
  })
  .nullable()
  .describe("How the line divides between the expert and the platform; null when the ledger cannot tell (a refund posted without its refund record)");

export const ledgerLineSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(SHOP_LEDGER_KINDS),
    amountMinor: z.number().int().describe("Signed, in minor units: a charge is positive, a refund negative"),
    currency: z.string(),
    sessionId: z.uuid().nullable(),
    questionId: z.uuid().nullable(),
    expert: z.object({ id: z.uuid(), firstName: z.string() }).nullable(),
    billableMinutes: z.number().int().nullable().describe("Per-minute pricing: the started minutes billed"),
    refundId: z.uuid().nullable(),
    split,
    createdAt: z.date(),
  })
  .meta({ id: "LedgerLine" });

export type LedgerLine = z.output<typeof ledgerLineSchema>;

export const statementParams = z.object({
  month: z
    .string()
    .describe("The calendar month, UTC: YYYY-MM (2026-11)")
    .refine((value) => parseStatementMonth(value) !== null, "must be a month as YYYY-MM, from 2000-01 (e.g. 2026-11)"),
});

export const statementQuery = z.object({
  format: z.enum(["json", "csv"], { error: "must be json or csv" }).optional().describe("csv: the same as Accept: text/csv"),
});

const figures = {
  sessionsCharged: z.number().int(),
  netMinor: z.number().int().describe("Charges plus refunds"),
  earningsMinor: z.number().int().describe("The experts' share of net"),
  feesMinor: z.number().int().describe("The platform's share of net"),
  refundsMinor: z.number().int().describe("Negative or zero"),
};

export const statementSchema = z
  .object({
    month: z.string(),
    from: z.date(),
    to: z.date().describe("Exclusive"),
    final: z.boolean().describe("false while the month is not over: the figures can still grow"),
    totals: z.array(
      z.object({
        currency: z.string(),
        exponent: z.number().int().describe("Digits after the decimal point of the currency"),
        grossMinor: z.number().int(),
        ...figures,
      }),
    ),
    lines: z.array(
      z.object({
        sessionId: z.uuid().nullable(),
        date: z.string().describe("UTC day of the session's charge (else of its first entry this month)"),
        expertFirstName: z.string().nullable(),
        mode: z.enum(["sms", "voice"]).nullable(),
        billableMinutes: z.number().int().nullable(),
        currency: z.string(),
        chargeMinor: z.number().int(),
        ...figures,
      }),
    ),
  })
  .meta({ id: "Statement" });
