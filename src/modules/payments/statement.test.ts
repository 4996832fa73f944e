import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildStatement,
  csvField,
  currencyExponent,
  neutralizeFormula,
  parseStatementMonth,
  STATEMENT_CSV_COLUMNS,
  statementCsv,
  toDecimal,
  type StatementEntry,
} from "./statement.js";

const NOV = parseStatementMonth("2026-11")!;
const S1 = "0190a000-0000-7000-8000-000000000001";
const S2 = "0190a000-0000-7000-8000-000000000002";
const S3 = "0190a000-0000-7000-8000-000000000003";

function entry(fields: Partial<StatementEntry> & Pick<StatementEntry, "kind" | "amountMinor">): StatementEntry {
  return {
    currency: "USD",
    sessionId: S1,
    createdAt: new Date("2026-11-05T10:00:00Z"),
    expertFirstName: "Dan",
    mode: "sms",
    billableMinutes: null,
    ...fields,
  };
}

/** A session's three entries: charge = earning + fee. */
function session(fields: Partial<StatementEntry>, charge: number, fee: number): StatementEntry[] {
  return [
    entry({ ...fields, kind: "shop_charge", amountMinor: charge }),
    entry({ ...fields, kind: "session_earning", amountMinor: charge - fee, billableMinutes: null }),
    entry({ ...fields, kind: "platform_fee", amountMinor: fee, billableMinutes: null }),
  ];
}

/** A refund's three negative entries: refund = earning reversal + fee reversal. */
function refund(fields: Partial<StatementEntry>, amount: number, feePart: number): StatementEntry[] {
  return [
    entry({ ...fields, kind: "charge_refund", amountMinor: -amount }),
    entry({ ...fields, kind: "earning_reversal", amountMinor: -(amount - feePart) }),
    entry({ ...fields, kind: "fee_reversal", amountMinor: -feePart }),
  ];
}

const build = (entries: StatementEntry[]) => buildStatement({ month: "2026-11", ...NOV, entries });

/** RFC 4180 reader, enough to check what statementCsv writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 1;
    } else field += char;
  }
  if (field !== "" || row.length > 0) throw new Error("CSV does not end with CRLF");
  return rows;
}

function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header!.map((name, i) => [name, row[i] ?? "<missing>"])));
}

describe("parseStatementMonth", () => {
  it("gives the month's UTC bounds, the end exclusive", () => {
    expect(parseStatementMonth("2026-11")).toEqual({ from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") });
    expect(parseStatementMonth("2026-12")).toEqual({ from: new Date("2026-12-01T00:00:00Z"), to: new Date("2027-01-01T00:00:00Z") });
    expect(parseStatementMonth("2028-02")).toEqual({ from: new Date("2028-02-01T00:00:00Z"), to: new Date("2028-03-01T00:00:00Z") });
    expect(parseStatementMonth("2000-01")).toEqual({ from: new Date("2000-01-01T00:00:00Z"), to: new Date("2000-02-01T00:00:00Z") });
  });

  it.each(["2026-13", "2026-00", "2026-1", "2026-011", "26-11", " 2026-11", "2026-11 ", "2026/11", "1999-12", "", "2026-11-01"])(
    "refuses %j",
    (value) => {
      expect(parseStatementMonth(value)).toBeNull();
    },
  );
});

describe("money as decimals", () => {
  it("knows each currency's exponent", () => {
    expect(currencyExponent("USD")).toBe(2);
    expect(currencyExponent("EUR")).toBe(2);
    expect(currencyExponent("JPY")).toBe(0);
    expect(currencyExponent("KWD")).toBe(3);
  });

  it.each([
    [0, 2, "0.00"],
    [5, 2, "0.05"],
    [-5, 2, "-0.05"],
    [100, 2, "1.00"],
    [-100, 2, "-1.00"],
    [123456, 2, "1234.56"],
    [-1234, 0, "-1234"],
    [0, 0, "0"],
    [1, 3, "0.001"],
    [12345, 3, "12.345"],
    [9_007_199_254_740_991, 2, "90071992547409.91"],
  ])("%d minor units with exponent %d is %s", (minor, exponent, text) => {
    expect(toDecimal(minor, exponent)).toBe(text);
  });

  it("round-trips every integer without a float", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 4 }), (minor, exponent) => {
        const text = toDecimal(minor, exponent);
        expect(text).toMatch(exponent === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${exponent}}$`));
        expect(Number(text.replace(".", ""))).toBe(minor);
      }),
    );
  });
});

describe("CSV cells", () => {
  it.each(["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR"])("neutralizes the formula %j", (value) => {
    expect(neutralizeFormula(value)).toBe(`'${value}`);
  });

  it.each(["Dan", "", "a=b", "Ann-Marie", "'quoted", " =space first"])("leaves %j alone", (value) => {
    expect(neutralizeFormula(value)).toBe(value);
  });

  it.each([
    ["plain", "plain"],
    ["", ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["line\nbreak", '"line\nbreak"'],
    ["carriage\rreturn", '"carriage\rreturn"'],
    ["'=1", "'=1"],
  ])("quotes %j as %j", (value, field) => {
    expect(csvField(value)).toBe(field);
  });
});

describe("buildStatement", () => {
  it("an empty month: no totals, no lines, a header-only CSV", () => {
    const statement = build([]);
    expect(statement).toEqual({ month: "2026-11", from: NOV.from, to: NOV.to, totals: [], lines: [] });
    expect(statementCsv(statement)).toBe(`${STATEMENT_CSV_COLUMNS.join(",")}\r\n`);
  });

  it("a charged session and a partial refund: net is earnings plus fees", () => {
    const statement = build([
      ...session({ billableMinutes: 7, mode: "voice" }, 1500, 300),
      ...refund({ createdAt: new Date("2026-11-20T09:00:00Z") }, 500, 100),
    ]);
    expect(statement.totals).toEqual([
      { currency: "USD", exponent: 2, sessionsCharged: 1, grossMinor: 1500, refundsMinor: -500, netMinor: 1000, earningsMinor: 800, feesMinor: 200 },
    ]);
    expect(statement.lines).toEqual([
      {
        sessionId: S1,
        date: "2026-11-05",
        expertFirstName: "Dan",
        mode: "voice",
        billableMinutes: 7,
        currency: "USD",
        sessionsCharged: 1,
        chargeMinor: 1500,
        refundsMinor: -500,
        netMinor: 1000,
        earningsMinor: 800,
        feesMinor: 200,
      },
    ]);
  });

  it("a session charged last month and refunded this month: a line dated by the refund, nothing charged", () => {
    const statement = build([
      ...refund({ sessionId: S2, createdAt: new Date("2026-11-12T23:59:59Z"), expertFirstName: "Eve", mode: "sms", billableMinutes: 3 }, 1500, 300),
      // a second refund of it, earlier in the month, dates the line
      ...refund({ sessionId: S2, createdAt: new Date("2026-11-02T08:00:00Z"), expertFirstName: "Eve" }, 100, 0),
    ]);
    expect(statement.totals).toEqual([
      { currency: "USD", exponent: 2, sessionsCharged: 0, grossMinor: 0, refundsMinor: -1600, netMinor: -1600, earningsMinor: -1300, feesMinor: -300 },
    ]);
    expect(statement.lines).toEqual([
      expect.objectContaining({ sessionId: S2, date: "2026-11-02", sessionsCharged: 0, billableMinutes: null, chargeMinor: 0, refundsMinor: -1600, netMinor: -1600 }),
    ]);
  });

  it("keeps currencies apart, totals in alphabetical order, lines by date then session", () => {
    const statement = build([
      ...session({ sessionId: S3, currency: "USD", createdAt: new Date("2026-11-03T00:00:00Z"), expertFirstName: "Cy" }, 999, 99),
      ...session({ sessionId: S2, currency: "JPY", createdAt: new Date("2026-11-03T00:00:00Z"), expertFirstName: "Bo" }, 1000, 150),
      ...session({ sessionId: S1, currency: "EUR", createdAt: new Date("2026-11-30T23:59:59.999Z") }, 2000, 200),
      ...session({ sessionId: S1, currency: "EUR", createdAt: new Date("2026-11-01T00:00:00Z") }, 1, 0),
    ]);
    expect(statement.totals.map((t) => [t.currency, t.exponent, t.sessionsCharged, t.grossMinor, t.earningsMinor, t.feesMinor])).toEqual([
      ["EUR", 2, 2, 2001, 1801, 200],
      ["JPY", 0, 1, 1000, 850, 150],
      ["USD", 2, 1, 999, 900, 99],
    ]);
    expect(statement.lines.map((line) => [line.date, line.sessionId, line.currency, line.expertFirstName])).toEqual([
      // one line per session and currency, dated by its earliest charge, whatever the input order
      ["2026-11-01", S1, "EUR", "Dan"],
      ["2026-11-03", S2, "JPY", "Bo"],
      ["2026-11-03", S3, "USD", "Cy"],
    ]);
  });

  it("a line takes its first entry (by time, not by input order) when the session was not charged this month", () => {
    const statement = build([
      entry({ kind: "charge_refund", amountMinor: -10, createdAt: new Date("2026-11-09T00:00:00Z"), expertFirstName: "Late", mode: "voice", billableMinutes: 4 }),
      entry({ kind: "charge_refund", amountMinor: -20, createdAt: new Date("2026-11-08T00:00:00Z"), expertFirstName: "Early", mode: "sms", billableMinutes: 9 }),
      entry({ kind: "charge_refund", amountMinor: -30, createdAt: new Date("2026-11-08T00:00:00Z"), expertFirstName: "Tie", mode: "voice" }),
    ]);
    expect(statement.lines).toEqual([
      expect.objectContaining({ date: "2026-11-08", expertFirstName: "Early", mode: "sms", billableMinutes: null, sessionsCharged: 0, refundsMinor: -60 }),
    ]);
  });

  it("a charged line is dated and described by its earliest charge, never by a refund or a later charge", () => {
    const statement = build([
      entry({ kind: "charge_refund", amountMinor: -10, createdAt: new Date("2026-11-02T00:00:00Z"), expertFirstName: "Refund", billableMinutes: 1 }),
      entry({ kind: "shop_charge", amountMinor: 100, createdAt: new Date("2026-11-06T00:00:00Z"), expertFirstName: "Charge", billableMinutes: 5 }),
      entry({ kind: "shop_charge", amountMinor: 100, createdAt: new Date("2026-11-06T00:00:00Z"), expertFirstName: "Same time", billableMinutes: 6 }),
      entry({ kind: "shop_charge", amountMinor: 100, createdAt: new Date("2026-11-07T00:00:00Z"), expertFirstName: "Later", billableMinutes: 7 }),
    ]);
    expect(statement.lines).toEqual([
      expect.objectContaining({ date: "2026-11-06", expertFirstName: "Charge", billableMinutes: 5, sessionsCharged: 3, chargeMinor: 300, netMinor: 290 }),
    ]);
  });

  it("entries without a session share one line", () => {
    const statement = build([entry({ kind: "charge_refund", amountMinor: -50, sessionId: null, expertFirstName: null, mode: null })]);
    expect(statement.lines).toEqual([
      expect.objectContaining({ sessionId: null, expertFirstName: null, mode: null, netMinor: -50, date: "2026-11-05" }),
    ]);
    const [record] = csvRecords(statementCsv(statement));
    expect(record).toMatchObject({ row: "session", session_id: "", expert_first_name: "", mode: "", billable_minutes: "", refunds: "-0.50" });
  });
});

describe("statementCsv", () => {
  it("writes a session row per line and a total row per currency, in major and minor units", () => {
    const statement = build([
      ...session({ billableMinutes: 12, mode: "voice" }, 123456, 23456),
      ...refund({}, 1, 1),
      ...session({ sessionId: S2, currency: "JPY", expertFirstName: "=cmd|' /C calc'!A0" }, 500, 75),
    ]);
    const csv = statementCsv(statement);
    expect(csv.split("\r\n")).toEqual([
      STATEMENT_CSV_COLUMNS.join(","),
      `session,2026-11-05,${S1},Dan,voice,12,1,USD,1234.56,-0.01,1234.55,1000.00,234.55,123456,-1,123455,100000,23455`,
      `session,2026-11-05,${S2},'=cmd|' /C calc'!A0,sms,,1,JPY,500,0,500,425,75,500,0,500,425,75`,
      "total,2026-11,,,,,1,JPY,500,0,500,425,75,500,0,500,425,75",
      "total,2026-11,,,,,1,USD,1234.56,-0.01,1234.55,1000.00,234.55,123456,-1,123455,100000,23455",
      "",
    ]);
  });

  it("quotes names with commas, quotes and line breaks, and guards each formula prefix", () => {
    const names = ['Ann, "the brewer"', "Bo\nBo", "+1 415", "-x", "@home", "=1+1"];
    const entries = names.flatMap((name, i) =>
      session({ sessionId: `0190a000-0000-7000-8000-00000000010${i}`, expertFirstName: name }, 100, 10),
    );
    const records = csvRecords(statementCsv(build(entries)));
    expect(records.filter((r) => r.row === "session").map((r) => r.expert_first_name)).toEqual([
      'Ann, "the brewer"',
      "Bo\nBo",
      "'+1 415",
      "'-x",
      "'@home",
      "'=1+1",
    ]);
    for (const record of records) expect(Object.keys(record)).toEqual([...STATEMENT_CSV_COLUMNS]);
  });
});

// ---------------------------------------------------------------- properties

const currencies = fc.constantFrom("USD", "EUR", "JPY", "KWD");
const sessionArb = fc
  .record({
    currency: currencies,
    charge: fc.integer({ min: 0, max: 5_000_000 }),
    feeBps: fc.integer({ min: 0, max: 10_000 }),
    charged: fc.boolean(),
    refunds: fc.array(fc.record({ share: fc.double({ min: 0, max: 1, noNaN: true }), feeShare: fc.double({ min: 0, max: 1, noNaN: true }) }), {
      maxLength: 3,
    }),
    day: fc.integer({ min: 1, max: 30 }),
    name: fc.string({ maxLength: 12 }),
  });

describe("properties", () => {
  it("no cent is lost: per currency, net = earnings + fees = sum of lines, and the CSV adds up to the same totals", () => {
    fc.assert(
      fc.property(fc.array(sessionArb, { maxLength: 25 }), (sessions) => {
        const entries: StatementEntry[] = sessions.flatMap((s, i) => {
          const base = {
            sessionId: `0190a000-0000-7000-8000-${String(i).padStart(12, "0")}`,
            currency: s.currency,
            expertFirstName: s.name,
            createdAt: new Date(Date.UTC(2026, 10, s.day, 12)),
          };
          const fee = Math.floor((s.charge * s.feeBps) / 10_000);
          let left = s.charge;
          let feeLeft = fee;
          const refunds = s.refunds.flatMap(({ share, feeShare }) => {
            const amount = Math.floor(left * share);
            const feePart = Math.min(feeLeft, Math.floor(amount * feeShare));
            left -= amount;
            feeLeft -= feePart;
            return refund(base, amount, feePart);
          });
          return [...(s.charged ? session(base, s.charge, fee) : []), ...refunds];
        });
        const statement = build(entries);
        for (const total of statement.totals) {
          expect(total.netMinor).toBe(total.grossMinor + total.refundsMinor);
          expect(total.netMinor).toBe(total.earningsMinor + total.feesMinor);
          const lines = statement.lines.filter((line) => line.currency === total.currency);
          const sum = (pick: (line: (typeof lines)[number]) => number) => lines.reduce((acc, line) => acc + pick(line), 0);
          expect(sum((l) => l.sessionsCharged)).toBe(total.sessionsCharged);
          expect(sum((l) => l.chargeMinor)).toBe(total.grossMinor);
          expect(sum((l) => l.refundsMinor)).toBe(total.refundsMinor);
          expect(sum((l) => l.netMinor)).toBe(total.netMinor);
          expect(sum((l) => l.earningsMinor)).toBe(total.earningsMinor);
          expect(sum((l) => l.feesMinor)).toBe(total.feesMinor);
        }
        for (const line of statement.lines) expect(line.netMinor).toBe(line.earningsMinor + line.feesMinor);
        const currenciesSeen = [...new Set(entries.map((e) => e.currency))].sort();
        expect(statement.totals.map((total) => total.currency)).toEqual(currenciesSeen);
        const keys = statement.lines.map((line) => `${line.date}|${line.sessionId ?? ""}|${line.currency}`);
        expect(keys).toEqual([...keys].sort());
        for (const line of statement.lines) {
          const own = entries.filter((e) => e.sessionId === line.sessionId && e.currency === line.currency);
          const charge = own.find((e) => e.kind === "shop_charge");
          const dated = charge ?? own.reduce((a, b) => (b.createdAt < a.createdAt ? b : a));
          expect(line.date).toBe(dated.createdAt.toISOString().slice(0, 10));
        }
        expect(statement.lines).toHaveLength(new Set(entries.map((e) => e.sessionId)).size);

        const records = csvRecords(statementCsv(statement));
        expect(records).toHaveLength(statement.lines.length + statement.totals.length);
        for (const total of statement.totals) {
          const exponent = currencyExponent(total.currency);
          const totalRow = records.find((r) => r.row === "total" && r.currency === total.currency)!;
          expect(Number(totalRow.net_minor)).toBe(total.netMinor);
          expect(totalRow.net).toBe(toDecimal(total.netMinor, exponent));
          const rows = records.filter((r) => r.row === "session" && r.currency === total.currency);
          for (const column of ["charge_minor", "refunds_minor", "net_minor", "expert_earnings_minor", "platform_fees_minor", "sessions_charged"] as const) {
            expect(rows.reduce((acc, r) => acc + Number(r[column]), 0)).toBe(Number(totalRow[column]));
          }
          expect(Number(totalRow.charge_minor)).toBe(total.grossMinor);
          expect(Number(totalRow.expert_earnings_minor) + Number(totalRow.platform_fees_minor)).toBe(total.netMinor);
        }
      }),
    );
  });
});
