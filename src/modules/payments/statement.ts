/**
 * A shop's monthly statement, pure: the month's ledger entries in, per
 * currency totals, one line per session and the CSV text out. Integer minor
 * units throughout; a decimal only appears in the CSV's display columns.
 *
 * What belongs to a month: every entry created in it (UTC). A refund posted
 * in December of a November session is on December's statement, as on a
 * bank statement. The entries of one posting share their transaction's
 * timestamp, so a charge and its split (or a refund and its reversals) are
 * never cut apart by the month boundary; hence, for every currency,
 * net (charges + refunds) = experts' earnings + platform fees.
 *
 * Signs are the ledger's: charges, earnings and fees are positive, refunds
 * and reversals negative, so net = gross + refunds.
 */

export type LedgerKindName = "shop_charge" | "session_earning" | "platform_fee" | "charge_refund" | "earning_reversal" | "fee_reversal";

export interface StatementEntry {
  kind: LedgerKindName;
  amountMinor: number;
  currency: string;
  sessionId: string | null;
  createdAt: Date;
  /** Of the session, when the entry has one. */
  expertFirstName: string | null;
  mode: "sms" | "voice" | null;
  billableMinutes: number | null;
}

export interface StatementLine {
  sessionId: string | null;
  /** UTC day of the session's (earliest) charge this month, else of its first entry this month. */
  date: string;
  expertFirstName: string | null;
  mode: "sms" | "voice" | null;
  billableMinutes: number | null;
  currency: string;
  /** 1 when the session was charged this month (0: only refunded this month). */
  sessionsCharged: number;
  chargeMinor: number;
  refundsMinor: number;
  netMinor: number;
  earningsMinor: number;
  feesMinor: number;
}

export interface CurrencyTotals {
  currency: string;
  /** Digits after the decimal point (2 for USD, 0 for JPY). */
  exponent: number;
  sessionsCharged: number;
  grossMinor: number;
  refundsMinor: number;
  netMinor: number;
  /** The experts' share of net: earnings minus their reversals. */
  earningsMinor: number;
  /** The platform's share of net: fees minus their reversals. */
  feesMinor: number;
}

export interface Statement {
  month: string;
  /** First instant of the month, UTC. */
  from: Date;
  /** First instant of the next month (exclusive). */
  to: Date;
  totals: CurrencyTotals[];
  lines: StatementLine[];
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const FIRST_YEAR = 2000;

/** "2026-11" -> its UTC bounds; null for anything else (2026-13, 26-11, 1999-12). */
export function parseStatementMonth(value: string): { from: Date; to: Date } | null {
  const match = MONTH.exec(value);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (year < FIRST_YEAR) return null;
  return { from: new Date(Date.UTC(year, month - 1, 1)), to: new Date(Date.UTC(year, month, 1)) };
}

/** ISO 4217 minor-unit digits, as Intl knows them (USD 2, JPY 0, KWD 3). */
export function currencyExponent(currency: string): number {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Minor units as a plain decimal in major units: (-1234, 2) -> "-12.34"; no float is involved. */
export function toDecimal(amountMinor: number, exponent: number): string {
  const digits = Math.abs(amountMinor).toString().padStart(exponent + 1, "0");
  const sign = amountMinor < 0 ? "-" : "";
  if (exponent === 0) return `${sign}${digits}`;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

type Totals = Omit<CurrencyTotals, "currency" | "exponent">;

function zeroTotals(): Totals {
  return { sessionsCharged: 0, grossMinor: 0, refundsMinor: 0, netMinor: 0, earningsMinor: 0, feesMinor: 0 };
}

/** Adds one entry's amount to the figure its kind feeds. */
function post(totals: Totals, entry: StatementEntry): void {
  switch (entry.kind) {
    case "shop_charge":
      totals.sessionsCharged += 1;
      totals.grossMinor += entry.amountMinor;
      totals.netMinor += entry.amountMinor;
      return;
    case "charge_refund":
      totals.refundsMinor += entry.amountMinor;
      totals.netMinor += entry.amountMinor;
      return;
    case "session_earning":
    case "earning_reversal":
      totals.earningsMinor += entry.amountMinor;
      return;
    case "platform_fee":
    case "fee_reversal":
      totals.feesMinor += entry.amountMinor;
      return;
  }
}

/** The month's entries -> totals per currency (alphabetical) and one line per session and currency. */
export function buildStatement(input: { month: string; from: Date; to: Date; entries: readonly StatementEntry[] }): Statement {
  const byCurrency = new Map<string, Totals>();
  const bySession = new Map<string, { line: Totals; first: StatementEntry; charge: StatementEntry | null }>();
  for (const entry of input.entries) {
    const totals = byCurrency.get(entry.currency) ?? zeroTotals();
    byCurrency.set(entry.currency, totals);
    post(totals, entry);

    const key = `${entry.sessionId ?? ""}|${entry.currency}`;
    const group = bySession.get(key) ?? { line: zeroTotals(), first: entry, charge: null };
    bySession.set(key, group);
    post(group.line, entry);
    if (entry.createdAt < group.first.createdAt) group.first = entry;
    if (entry.kind === "shop_charge" && (group.charge === null || entry.createdAt < group.charge.createdAt)) group.charge = entry;
  }

  const totals = [...byCurrency.entries()]
    .map(([currency, sums]) => ({ currency, exponent: currencyExponent(currency), ...sums }))
    .sort((a, b) => (a.currency < b.currency ? -1 : 1));

  const lines = [...bySession.values()]
    .map(({ line, first, charge }): StatementLine => {
      const source = charge ?? first;
      return {
        sessionId: source.sessionId,
        date: utcDay(source.createdAt),
        expertFirstName: source.expertFirstName,
        mode: source.mode,
        billableMinutes: charge ? charge.billableMinutes : null,
        currency: source.currency,
        sessionsCharged: line.sessionsCharged,
        chargeMinor: line.grossMinor,
        refundsMinor: line.refundsMinor,
        netMinor: line.netMinor,
        earningsMinor: line.earningsMinor,
        feesMinor: line.feesMinor,
      };
    })
    .sort((a, b) => compareLines(a, b));

  return { month: input.month, from: input.from, to: input.to, totals, lines };
}

/** Lines are one per (session, currency), so no two keys are equal. */
function compareLines(a: StatementLine, b: StatementLine): number {
  const keyA = `${a.date}|${a.sessionId ?? ""}|${a.currency}`;
  const keyB = `${b.date}|${b.sessionId ?? ""}|${b.currency}`;
  return keyA < keyB ? -1 : 1;
}

// ---------------------------------------------------------------- CSV

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @, and tab or
 * CR, which some spreadsheets strip first) is prefixed with a quote, as
 * OWASP advises. Only text cells: amounts are numbers and keep their sign.
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export const STATEMENT_CSV_COLUMNS = [
  "row",
  "date",
  "session_id",
  "expert_first_name",
  "mode",
  "billable_minutes",
  "sessions_charged",
  "currency",
  "charge",
  "refunds",
  "net",
  "expert_earnings",
  "platform_fees",
  "charge_minor",
  "refunds_minor",
  "net_minor",
  "expert_earnings_minor",
  "platform_fees_minor",
] as const;

interface CsvFigures {
  currency: string;
  sessionsCharged: number;
  chargeMinor: number;
  refundsMinor: number;
  netMinor: number;
  earningsMinor: number;
  feesMinor: number;
}

function amountCells(figures: CsvFigures): string[] {
  const exponent = currencyExponent(figures.currency);
  const amounts = [figures.chargeMinor, figures.refundsMinor, figures.netMinor, figures.earningsMinor, figures.feesMinor];
  return [
    String(figures.sessionsCharged),
    neutralizeFormula(figures.currency),
    ...amounts.map((amount) => toDecimal(amount, exponent)),
    ...amounts.map(String),
  ];
}

/**
 * The statement as CSV: a header row, one `session` row per line, then one
 * `total` row per currency (its figures are the sums of that currency's
 * session rows). CRLF line ends, as RFC 4180 says; amounts twice: in major
 * units with the currency's exponent, and as the integer minor units.
 */
export function statementCsv(statement: Statement): string {
  const rows: string[][] = [[...STATEMENT_CSV_COLUMNS]];
  for (const line of statement.lines) {
    rows.push([
      "session",
      line.date,
      line.sessionId ?? "",
      neutralizeFormula(line.expertFirstName ?? ""),
      line.mode ?? "",
      line.billableMinutes === null ? "" : String(line.billableMinutes),
      ...amountCells(line),
    ]);
  }
  for (const total of statement.totals) {
    rows.push([
      "total",
      statement.month,
      "",
      "",
      "",
      "",
      ...amountCells({ ...total, chargeMinor: total.grossMinor }),
    ]);
  }
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}
