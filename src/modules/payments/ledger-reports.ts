/**
 * What a shop reads of the ledger: its charges and refunds, a line at a
 * time, and its monthly statement. Read-only; every query is scoped by the
 * caller's shop id, and nothing here posts an entry.
 */
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { DomainError } from "../../lib/problems.js";
import { firstName } from "../sessions/copy.js";
import { SHOP_LEDGER_KINDS, type LedgerLine, type ListLedgerQuery } from "./ledger.schemas.js";
import { buildStatement, parseStatementMonth, statementCsv, type Statement, type StatementEntry } from "./statement.js";

type ReportDeps = Pick<Deps, "prisma" | "clock">;

const badQuery = (path: string, message: string) =>
  new DomainError(400, "validation-error", `The request querystring is invalid: ${path} ${message}`, [{ path: `querystring.${path}`, message }]);

const SPLIT_KINDS = { shop_charge: ["session_earning", "platform_fee"], charge_refund: ["earning_reversal", "fee_reversal"] } as const;

export function createLedgerReportService({ prisma, clock }: ReportDeps) {
  /**
   * Newest first by (createdAt, id), the order of the (shopId, createdAt, id)
   * index; the cursor is the last line's id, looked up in the caller's shop.
   */
  async function listLedger(shopId: string, query: ListLedgerQuery): Promise<{ data: LedgerLine[]; nextCursor: string | null }> {
    let after: Prisma.LedgerEntryWhereInput = {};
    if (query.cursor) {
      const cursor = await prisma.ledgerEntry.findFirst({
        where: { id: query.cursor, shopId, kind: { in: [...SHOP_LEDGER_KINDS] } },
        select: { id: true, createdAt: true },
      });
      if (!cursor) throw badQuery("cursor", "must be a cursor from a previous page");
      after = { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] };
    }
    const rows = await prisma.ledgerEntry.findMany({
      where: {
        shopId,
        kind: query.kind ?? { in: [...SHOP_LEDGER_KINDS] },
        ...(query.sessionId ? { sessionId: query.sessionId } : {}),
        ...(query.from || query.to ? { createdAt: { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) } } : {}),
        ...after,
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
      include: { expert: { select: { id: true, name: true } }, session: { select: { questionId: true } } },
    });
    const page = rows.slice(0, query.limit);
    const splits = await splitsOf(shopId, page);
    return {
      data: page.map((row) => ({
        id: row.id,
        kind: row.kind as LedgerLine["kind"],
        amountMinor: row.amountMinor,
        currency: row.currency,
        sessionId: row.sessionId,
        questionId: row.session?.questionId ?? null,
        expert: row.expert ? { id: row.expert.id, firstName: firstName(row.expert.name, "Expert") } : null,
        billableMinutes: row.billableMinutes,
        refundId: row.refundId,
        split: splits.get(row.id) ?? null,
        createdAt: row.createdAt,
      })),
      nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /**
   * The expert/platform split of each line, in one query: a charge's are its
   * session's earning and fee (the originals, not reversals); a refund's are
   * the reversals posted with the same refund record. A refund without one
   * cannot be told apart from another refund of the session: no split.
   */
  async function splitsOf(
    shopId: string,
    page: { id: string; kind: string; sessionId: string | null; refundId: string | null }[],
  ): Promise<Map<string, { earningsMinor: number; feesMinor: number }>> {
    const charges = page.filter((row) => row.kind === "shop_charge" && row.sessionId);
    const refunds = page.filter((row) => row.kind === "charge_refund" && row.refundId);
    if (charges.length === 0 && refunds.length === 0) return new Map();
    const parts = await prisma.ledgerEntry.findMany({
      where: {
        shopId,
        OR: [
          { sessionId: { in: charges.map((row) => row.sessionId!) }, kind: { in: [...SPLIT_KINDS.shop_charge] } },
          { refundId: { in: refunds.map((row) => row.refundId!) }, kind: { in: [...SPLIT_KINDS.charge_refund] } },
        ],
      },
      select: { kind: true, amountMinor: true, sessionId: true, refundId: true },
    });
    const sum = (kinds: readonly string[], match: (part: (typeof parts)[number]) => boolean) => {
      const matched = parts.filter((part) => kinds.includes(part.kind) && match(part));
      return {
        earningsMinor: matched.filter((part) => part.kind === kinds[0]).reduce((acc, part) => acc + part.amountMinor, 0),
        feesMinor: matched.filter((part) => part.kind === kinds[1]).reduce((acc, part) => acc + part.amountMinor, 0),
      };
    };
    const splits = new Map<string, { earningsMinor: number; feesMinor: number }>();
    for (const row of charges) splits.set(row.id, sum(SPLIT_KINDS.shop_charge, (part) => part.sessionId === row.sessionId));
    for (const row of refunds) splits.set(row.id, sum(SPLIT_KINDS.charge_refund, (part) => part.refundId === row.refundId));
    return splits;
  }

  /** The calendar month's statement (UTC). A month not over yet is answered with what is posted so far, `final: false`. */
  async function monthlyStatement(shopId: string, month: string): Promise<Statement & { final: boolean }> {
    const bounds = parseStatementMonth(month);
    if (!bounds) throw new DomainError(400, "validation-error", "The month must be YYYY-MM", [{ path: "params.month", message: "must be a month as YYYY-MM" }]);
    const rows = await prisma.ledgerEntry.findMany({
      where: { shopId, createdAt: { gte: bounds.from, lt: bounds.to } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: {
        kind: true,
        amountMinor: true,
        currency: true,
        sessionId: true,
        billableMinutes: true,
        createdAt: true,
        expert: { select: { name: true } },
        session: { select: { mode: true, expert: { select: { name: true } } } },
      },
    });
    const entries: StatementEntry[] = rows.map((row) => {
      const expertName = row.session?.expert.name ?? row.expert?.name ?? null;
      return {
        kind: row.kind,
        amountMinor: row.amountMinor,
        currency: row.currency,
        sessionId: row.sessionId,
        createdAt: row.createdAt,
        expertFirstName: expertName === null ? null : firstName(expertName, "Expert"),
        mode: row.session?.mode ?? null,
        billableMinutes: row.billableMinutes,
      };
    });
    const statement = buildStatement({ month, ...bounds, entries });
    return { ...statement, final: clock.now() >= bounds.to };
  }

  return { listLedger, monthlyStatement, statementCsv };
}

export type LedgerReportService = ReturnType<typeof createLedgerReportService>;
