/**
 * The shop's reads of the ledger: GET /v1/ledger (filters, cursor pages,
 * validation) and GET /v1/statements/:month (JSON and CSV), each strictly
 * within the calling shop. Entries are written straight to the database
 * (ledger-rows.ts), as the posting code would, at chosen instants.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { json, useTestContext } from "../helpers/context.js";
import { adminHeaders, makeExpert, makeShop, request, type TestShop } from "../helpers/factories.js";
import { postRefund, postSession, type LedgerSession } from "./ledger-rows.js";

const NOW = new Date("2026-12-15T12:00:00Z");
const ctx = useTestContext({ clock: { now: () => NOW } });

interface Line {
  id: string;
  kind: string;
  amountMinor: number;
  currency: string;
  sessionId: string | null;
  questionId: string | null;
  expert: { id: string; firstName: string } | null;
  billableMinutes: number | null;
  refundId: string | null;
  split: { earningsMinor: number; feesMinor: number } | null;
  createdAt: string;
}
interface Page {
  data: Line[];
  nextCursor: string | null;
}
interface Totals {
  currency: string;
  exponent: number;
  sessionsCharged: number;
  grossMinor: number;
  refundsMinor: number;
  netMinor: number;
  earningsMinor: number;
  feesMinor: number;
}
interface StatementBody {
  month: string;
  final: boolean;
  totals: Totals[];
  lines: Record<string, unknown>[];
}

let shopA: TestShop;
let shopB: TestShop;
const a: Record<string, LedgerSession> = {};
let bSession: LedgerSession;
let refundIds: { r0: string; r1: string; r2: string } = { r0: "", r1: "", r2: "" };
let refundLineIds: { r0: string; r1: string; r2: string } = { r0: "", r1: "", r2: "" };
let dan: { id: string; phone: string };

const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  const { app, deps } = ctx();
  const db = deps.prisma;
  shopA = await makeShop(app, "Brew Barn");
  shopB = await makeShop(app, "Hop Shop");
  dan = await makeExpert(app, shopA, { name: "Dan Brewer" });
  const eve = await makeExpert(app, shopA, { name: "=Eve Stone" });
  const bob = await makeExpert(app, shopB, { name: "Bob Hops" });
  const withDan = { shopId: shopA.id, expertId: dan.id, expertPhone: dan.phone };
  a.s0 = await postSession(db, { ...withDan, at: at("2026-10-31T23:59:59.999Z"), chargeMinor: 900, feeMinor: 90 });
  a.s1 = await postSession(db, { ...withDan, mode: "voice", billableMinutes: 7, at: at("2026-11-05T10:00:00Z"), chargeMinor: 1500, feeMinor: 300 });
  a.s3 = await postSession(db, { ...withDan, currency: "EUR", at: at("2026-11-10T08:00:00Z"), chargeMinor: 1000, feeMinor: 150 });
  a.s2 = await postSession(db, {
    shopId: shopA.id,
    expertId: eve.id,
    expertPhone: eve.phone,
    at: at("2026-11-20T15:00:00Z"),
    chargeMinor: 2000,
    feeMinor: 400,
  });
  a.s4 = await postSession(db, { ...withDan, at: at("2026-12-01T00:00:00Z"), chargeMinor: 700, feeMinor: 70 });
  const r0 = await postRefund(db, a.s0, { at: at("2026-11-03T00:00:00Z"), amountMinor: 900, feePartMinor: 90 });
  const r1 = await postRefund(db, a.s1, { at: at("2026-11-25T09:00:00Z"), amountMinor: 500, feePartMinor: 100 });
  const r2 = await postRefund(db, a.s2, { at: at("2026-11-28T00:00:00Z"), amountMinor: 300, feePartMinor: 60, withRecord: false });
  refundIds = { r0: r0.refundId!, r1: r1.refundId!, r2: "" };
  refundLineIds = { r0: r0.chargeRefund, r1: r1.chargeRefund, r2: r2.chargeRefund };
  bSession = await postSession(db, { shopId: shopB.id, expertId: bob.id, expertPhone: bob.phone, at: at("2026-11-12T12:00:00Z"), chargeMinor: 1200, feeMinor: 240 });
});

const get = (shop: TestShop, url: string, headers: Record<string, string> = {}) => request(ctx().app, shop, { method: "GET", url, headers });

async function allPages(shop: TestShop, query: string): Promise<Line[]> {
  const lines: Line[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page += 1) {
    const response = await get(shop, `/v1/ledger?${query}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(response.statusCode, response.body).toBe(200);
    const body = json<Page>(response);
    lines.push(...body.data);
    cursor = body.nextCursor;
    if (!cursor) return lines;
  }
  throw new Error("pagination does not end");
}

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, path: string) {
  expect(response.statusCode).toBe(400);
  expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = response.json() as { code: string; errors?: { path: string }[] };
  expect(body.code).toBe("validation-error");
  expect(body.errors?.map((error) => error.path)).toContain(path);
}

describe("GET /v1/ledger", () => {
  it("lists the shop's charges and refunds, newest first, with the session, question, expert and split", async () => {
    const response = await get(shopA, "/v1/ledger");
    expect(response.statusCode, response.body).toBe(200);
    const { data, nextCursor } = json<Page>(response);
    expect(nextCursor).toBeNull();
    expect(data.map((line) => [line.kind, line.sessionId, line.amountMinor])).toEqual([
      ["shop_charge", a.s4!.id, 700],
      ["charge_refund", a.s2!.id, -300],
      ["charge_refund", a.s1!.id, -500],
      ["shop_charge", a.s2!.id, 2000],
      ["shop_charge", a.s3!.id, 1000],
      ["shop_charge", a.s1!.id, 1500],
      ["charge_refund", a.s0!.id, -900],
      ["shop_charge", a.s0!.id, 900],
    ]);
    const s1Charge = data.find((line) => line.id === a.s1!.entries.charge);
    expect(s1Charge).toEqual({
      id: a.s1!.entries.charge,
      kind: "shop_charge",
      amountMinor: 1500,
      currency: "USD",
      sessionId: a.s1!.id,
      questionId: a.s1!.questionId,
      expert: { id: dan.id, firstName: "Dan" },
      billableMinutes: 7,
      refundId: null,
      split: { earningsMinor: 1200, feesMinor: 300 },
      createdAt: "2026-11-05T10:00:00.000Z",
    });
    // A refund with its record splits into its reversals; one without cannot be told apart: no split.
    expect(data.find((line) => line.id === refundLineIds.r1)).toMatchObject({ refundId: refundIds.r1, split: { earningsMinor: -400, feesMinor: -100 } });
    expect(data.find((line) => line.id === refundLineIds.r2)).toMatchObject({ refundId: null, split: null });
    expect(data.find((line) => line.sessionId === a.s2!.id && line.kind === "shop_charge")?.expert?.firstName).toBe("=Eve");
    expect(data.find((line) => line.sessionId === a.s3!.id)?.currency).toBe("EUR");
  });

  it("filters by period: from inclusive, to exclusive, dates or timestamps", async () => {
    const november = await allPages(shopA, "from=2026-11-01&to=2026-12-01");
    expect(november.map((line) => line.id).sort()).toEqual(
      [a.s1!.entries.charge, a.s2!.entries.charge, a.s3!.entries.charge, refundLineIds.r0, refundLineIds.r1, refundLineIds.r2].sort(),
    );
    // to is exclusive: the entry at exactly 2026-11-05T10:00Z is left out, and in with from at that instant
    const before = json<Page>(await get(shopA, "/v1/ledger?from=2026-11-03&to=2026-11-05T10:00:00Z"));
    expect(before.data.map((line) => line.id)).toEqual([refundLineIds.r0]);
    const from = json<Page>(await get(shopA, "/v1/ledger?from=2026-11-05T11:00:00%2B01:00&to=2026-11-06"));
    expect(from.data.map((line) => line.id)).toEqual([a.s1!.entries.charge]);
    // the same with the "+" of the offset left unencoded (a query string reads it as a space)
    const unencoded = json<Page>(await get(shopA, "/v1/ledger?from=2026-11-05T11:00:00+01:00&to=2026-11-06"));
    expect(unencoded.data.map((line) => line.id)).toEqual([a.s1!.entries.charge]);
    const openEnded = json<Page>(await get(shopA, "/v1/ledger?from=2026-11-28"));
    expect(openEnded.data.map((line) => line.id)).toEqual([a.s4!.entries.charge, refundLineIds.r2]);
    const upTo = json<Page>(await get(shopA, "/v1/ledger?to=2026-11-01"));
    expect(upTo.data.map((line) => line.id)).toEqual([a.s0!.entries.charge]);
  });

  it("filters by session and by kind", async () => {
    const s1 = json<Page>(await get(shopA, `/v1/ledger?sessionId=${a.s1!.id}`));
    expect(s1.data.map((line) => line.id)).toEqual([refundLineIds.r1, a.s1!.entries.charge]);
    const refunds = json<Page>(await get(shopA, "/v1/ledger?kind=charge_refund"));
    expect(refunds.data.map((line) => line.id)).toEqual([refundLineIds.r2, refundLineIds.r1, refundLineIds.r0]);
    const charges = json<Page>(await get(shopA, `/v1/ledger?kind=shop_charge&sessionId=${a.s2!.id}&from=2026-11-01&to=2026-12-01`));
    expect(charges.data.map((line) => line.id)).toEqual([a.s2!.entries.charge]);
  });

  it("pages with a cursor: every line once, in order, and the last page says so", async () => {
    const everything = json<Page>(await get(shopA, "/v1/ledger?limit=100")).data.map((line) => line.id);
    expect(everything).toHaveLength(8);
    for (const limit of [1, 3, 8]) {
      const paged = await allPages(shopA, `limit=${limit}`);
      expect(paged.map((line) => line.id)).toEqual(everything);
    }
    const first = json<Page>(await get(shopA, "/v1/ledger?limit=3&kind=shop_charge"));
    expect(first.data).toHaveLength(3);
    expect(first.nextCursor).toBe(first.data[2]!.id);
    const second = json<Page>(await get(shopA, `/v1/ledger?limit=3&kind=shop_charge&cursor=${first.nextCursor}`));
    expect(second.data.map((line) => line.id)).toEqual([a.s1!.entries.charge, a.s0!.entries.charge]);
    expect(second.nextCursor).toBeNull();
  });

  it("defaults to 50 lines a page", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const base = { shopId: shop.id, expertId: expert.id, expertPhone: expert.phone, chargeMinor: 100, feeMinor: 10 };
    for (let i = 0; i < 51; i += 1) await postSession(deps.prisma, { ...base, at: new Date(Date.UTC(2026, 10, 1, 0, i)) });
    const page = json<Page>(await get(shop, "/v1/ledger"));
    expect(page.data).toHaveLength(50);
    expect(page.nextCursor).not.toBeNull();
    const rest = json<Page>(await get(shop, `/v1/ledger?cursor=${page.nextCursor}`));
    expect(rest.data.map((line) => line.createdAt)).toEqual(["2026-11-01T00:00:00.000Z"]);
    expect(rest.nextCursor).toBeNull();
  });

  it.each([
    ["from=yesterday", "querystring.from"],
    ["from=2026-02-30", "querystring.from"],
    ["to=2026-11-01T25:00:00Z", "querystring.to"],
    ["to=2026-11-01T10:00:00", "querystring.to"],
    ["from=2026-11-02&to=2026-11-01", "querystring.to"],
    ["from=2026-11-01&to=2026-11-01", "querystring.to"],
    ["kind=session_earning", "querystring.kind"],
    ["kind=platform_fee", "querystring.kind"],
    ["sessionId=not-a-uuid", "querystring.sessionId"],
    ["limit=0", "querystring.limit"],
    ["limit=101", "querystring.limit"],
    ["limit=ten", "querystring.limit"],
    ["cursor=nope", "querystring.cursor"],
  ])("refuses %s with a 400 problem naming %s", async (query, path) => {
    expectProblem(await get(shopA, `/v1/ledger?${query}`), path);
  });

  it("refuses a cursor that is not one of the shop's ledger lines", async () => {
    expectProblem(await get(shopA, `/v1/ledger?cursor=${bSession.entries.charge}`), "querystring.cursor");
    // an entry of the shop that is not a ledger line it sees (the expert's earning)
    expectProblem(await get(shopA, `/v1/ledger?cursor=${a.s1!.entries.earning}`), "querystring.cursor");
  });
});

describe("tenant isolation", () => {
  it("shop B sees only its own lines: not by list, not by session id, not by cursor", async () => {
    const list = json<Page>(await get(shopB, "/v1/ledger"));
    expect(list.data.map((line) => line.id)).toEqual([bSession.entries.charge]);
    for (const session of Object.values(a)) {
      const bySession = await get(shopB, `/v1/ledger?sessionId=${session.id}`);
      expect(bySession.statusCode).toBe(200);
      expect(json<Page>(bySession)).toEqual({ data: [], nextCursor: null });
    }
    expectProblem(await get(shopB, `/v1/ledger?cursor=${a.s1!.entries.charge}`), "querystring.cursor");
    const aList = json<Page>(await get(shopA, "/v1/ledger?limit=100"));
    expect(aList.data.map((line) => line.id)).not.toContain(bSession.entries.charge);
  });

  it("shop B's statement holds only its own session", async () => {
    const body = json<StatementBody>(await get(shopB, "/v1/statements/2026-11"));
    expect(body.totals).toEqual([
      { currency: "USD", exponent: 2, sessionsCharged: 1, grossMinor: 1200, refundsMinor: 0, netMinor: 1200, earningsMinor: 960, feesMinor: 240 },
    ]);
    expect(body.lines.map((line) => line.sessionId)).toEqual([bSession.id]);
    const csv = (await get(shopB, "/v1/statements/2026-11?format=csv")).body;
    for (const session of Object.values(a)) expect(csv).not.toContain(session.id);
  });

  it("the admin key is refused on the shop's ledger routes", async () => {
    for (const url of ["/v1/ledger", "/v1/statements/2026-11"]) {
      const response = await ctx().app.inject({ method: "GET", url, headers: adminHeaders });
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
    expect((await ctx().app.inject({ method: "GET", url: "/v1/ledger" })).statusCode).toBe(401);
  });
});

// ---------------------------------------------------------------- statements

const NOVEMBER_TOTALS: Totals[] = [
  { currency: "EUR", exponent: 2, sessionsCharged: 1, grossMinor: 1000, refundsMinor: 0, netMinor: 1000, earningsMinor: 850, feesMinor: 150 },
  // s1 + s2 charged; s1 and s2 partly refunded, s0 (October) fully refunded in November
  { currency: "USD", exponent: 2, sessionsCharged: 2, grossMinor: 3500, refundsMinor: -1700, netMinor: 1800, earningsMinor: 1350, feesMinor: 450 },
];

/** RFC 4180 reader for the test's side of the round trip. */
function parseCsv(text: string): Record<string, string>[] {
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
      rows.push([...row, field]);
      row = [];
      field = "";
      i += 1;
    } else field += char;
  }
  expect(field).toBe("");
  const [header, ...records] = rows;
  return records.map((record) => Object.fromEntries(header!.map((name, i) => [name, record[i]!])));
}

describe("GET /v1/statements/:month", () => {
  it("gives per-currency totals where net is earnings plus fees, and a line per session", async () => {
    const response = await get(shopA, "/v1/statements/2026-11");
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    const body = json<StatementBody>(response);
    expect(body).toMatchObject({ month: "2026-11", from: "2026-11-01T00:00:00.000Z", to: "2026-12-01T00:00:00.000Z", final: true });
    expect(body.totals).toEqual(NOVEMBER_TOTALS);
    for (const total of body.totals) expect(total.netMinor).toBe(total.earningsMinor + total.feesMinor);
    expect(body.lines).toEqual([
      {
        sessionId: a.s0!.id,
        date: "2026-11-03",
        expertFirstName: "Dan",
        mode: "sms",
        billableMinutes: null,
        currency: "USD",
        sessionsCharged: 0,
        chargeMinor: 0,
        refundsMinor: -900,
        netMinor: -900,
        earningsMinor: -810,
        feesMinor: -90,
      },
      {
        sessionId: a.s1!.id,
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
      expect.objectContaining({ sessionId: a.s3!.id, date: "2026-11-10", currency: "EUR", netMinor: 1000 }),
      expect.objectContaining({ sessionId: a.s2!.id, date: "2026-11-20", expertFirstName: "=Eve", chargeMinor: 2000, refundsMinor: -300, netMinor: 1700 }),
    ]);
  });

  it("as CSV (Accept: text/csv or ?format=csv) parses back to the same totals, and guards formulas", async () => {
    const byAccept = await get(shopA, "/v1/statements/2026-11", { accept: "text/csv" });
    const byQuery = await get(shopA, "/v1/statements/2026-11?format=csv");
    for (const response of [byAccept, byQuery]) {
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(response.headers["content-disposition"]).toBe('attachment; filename="statement-2026-11.csv"');
    }
    expect(byAccept.body).toBe(byQuery.body);
    const records = parseCsv(byQuery.body);
    const sessions = records.filter((record) => record.row === "session");
    expect(sessions).toHaveLength(4);
    expect(sessions.find((record) => record.session_id === a.s2!.id)?.expert_first_name).toBe("'=Eve");
    for (const total of NOVEMBER_TOTALS) {
      const rows = sessions.filter((record) => record.currency === total.currency);
      const sum = (column: string) => rows.reduce((acc, record) => acc + Number(record[column]), 0);
      const totalRow = records.find((record) => record.row === "total" && record.currency === total.currency)!;
      expect({
        sessionsCharged: sum("sessions_charged"),
        grossMinor: sum("charge_minor"),
        refundsMinor: sum("refunds_minor"),
        netMinor: sum("net_minor"),
        earningsMinor: sum("expert_earnings_minor"),
        feesMinor: sum("platform_fees_minor"),
      }).toEqual({
        sessionsCharged: total.sessionsCharged,
        grossMinor: total.grossMinor,
        refundsMinor: total.refundsMinor,
        netMinor: total.netMinor,
        earningsMinor: total.earningsMinor,
        feesMinor: total.feesMinor,
      });
      expect(Number(totalRow.net_minor)).toBe(total.netMinor);
      // the decimal columns say the same in major units
      expect(Math.round(Number(totalRow.net) * 100)).toBe(total.netMinor);
      expect(Math.round(rows.reduce((acc, record) => acc + Number(record.net), 0) * 100)).toBe(total.netMinor);
    }
    expect(records.find((record) => record.row === "total" && record.currency === "USD")).toMatchObject({
      charge: "35.00",
      refunds: "-17.00",
      net: "18.00",
      expert_earnings: "13.50",
      platform_fees: "4.50",
    });
  });

  it("JSON wins when asked for, whatever else the Accept header lists", async () => {
    const response = await get(shopA, "/v1/statements/2026-11?format=json", { accept: "text/csv" });
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(json<StatementBody>(response).totals).toEqual(NOVEMBER_TOTALS);
  });

  it("a month is its calendar month in UTC: the last millisecond of October and the first of December stay out", async () => {
    const october = json<StatementBody>(await get(shopA, "/v1/statements/2026-10"));
    expect(october.totals).toEqual([
      { currency: "USD", exponent: 2, sessionsCharged: 1, grossMinor: 900, refundsMinor: 0, netMinor: 900, earningsMinor: 810, feesMinor: 90 },
    ]);
    const december = json<StatementBody>(await get(shopA, "/v1/statements/2026-12"));
    expect(december).toMatchObject({ final: false, lines: [expect.objectContaining({ sessionId: a.s4!.id, date: "2026-12-01" })] });
  });

  it("an empty or future month is a statement of zeros, not final", async () => {
    const future = await get(shopA, "/v1/statements/2027-03");
    expect(future.statusCode).toBe(200);
    expect(json<StatementBody>(future)).toMatchObject({ month: "2027-03", final: false, totals: [], lines: [] });
    const csv = await get(shopA, "/v1/statements/2027-03?format=csv");
    expect(parseCsv(csv.body)).toEqual([]);
  });

  it.each(["2026-13", "2026-00", "2026-1", "26-11", "1999-12", "november"])("refuses the month %s with a 400 problem", async (month) => {
    expectProblem(await get(shopA, `/v1/statements/${month}`), "params.month");
  });

  it("refuses an unknown format", async () => {
    expectProblem(await get(shopA, "/v1/statements/2026-11?format=xlsx"), "querystring.format");
  });
});
