import { z } from "zod";
import { shopAuth, type RoutesPlugin } from "../../http.js";
import { pageOf } from "../../lib/pagination.js";
import { shopIdOf } from "../../plugins/auth.js";
import { commonErrors } from "../../plugins/problem.js";
import type { LedgerReportService } from "./ledger-reports.js";
import { ledgerLineSchema, listLedgerQuery, statementParams, statementQuery, statementSchema } from "./ledger.schemas.js";

/** CSV when asked by ?format=csv, or by an Accept header that names text/csv. */
function wantsCsv(format: "json" | "csv" | undefined, accept: string | undefined): boolean {
  if (format) return format === "csv";
  return (accept ?? "").toLowerCase().includes("text/csv");
}

export const ledgerRoutes: RoutesPlugin<{ ledgerReports: LedgerReportService }> = async (app, { ledgerReports }) => {
  const tags = ["ledger"];
  const security = shopAuth;

  app.get(
    "/ledger",
    {
      schema: {
        tags,
        security,
        summary: "The shop's charges and refunds, newest first; filter by period (from inclusive, to exclusive), session or kind",
        querystring: listLedgerQuery,
        response: { 200: pageOf(ledgerLineSchema), ...commonErrors },
      },
    },
    async (request) => ledgerReports.listLedger(shopIdOf(request), request.query),
  );

  app.get(
    "/statements/:month",
    {
      schema: {
        tags,
        security,
        summary:
          "The monthly statement (calendar month, UTC): per currency totals and one line per session. " +
          "JSON, or CSV with Accept: text/csv or ?format=csv. The current month gives what is posted so far (final: false).",
        params: statementParams,
        querystring: statementQuery,
        response: {
          200: {
            description: "The statement",
            content: {
              "application/json": { schema: statementSchema },
              "text/csv": { schema: z.string().describe("A header row, a row per session, a total row per currency (RFC 4180, CRLF)") },
            },
          },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      reply.header("vary", "Accept");
      const statement = await ledgerReports.monthlyStatement(shopIdOf(request), request.params.month);
      if (!wantsCsv(request.query.format, request.headers.accept)) return statement;
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="statement-${statement.month}.csv"`)
        .send(ledgerReports.statementCsv(statement));
    },
  );
};
