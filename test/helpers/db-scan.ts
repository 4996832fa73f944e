/**
 * Finds where a string is stored, anywhere in a test file's schema: every
 * table, every text-like column (text, varchar, char, json, jsonb, arrays of
 * them). Tests that promise a secret is never kept in plain text ask here
 * rather than looking at the one table they expect it in.
 */
import type pg from "pg";

const TEXT_TYPES = ["text", "character varying", "character", "json", "jsonb"];
const TEXT_ARRAY_TYPES = ["_text", "_varchar", "_bpchar", "_json", "_jsonb"];

const quoted = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** "Table.column" for each column of `schema` that holds `needle` in some row. */
export async function columnsContaining(sql: pg.Pool, schema: string, needle: string): Promise<string[]> {
  const { rows: columns } = await sql.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
        AND (c.data_type = ANY($2) OR (c.data_type = 'ARRAY' AND c.udt_name = ANY($3)))
      ORDER BY c.table_name, c.column_name`,
    [schema, TEXT_TYPES, TEXT_ARRAY_TYPES],
  );
  if (columns.length === 0) throw new Error(`no text columns found in schema ${schema}: is the schema name right?`);
  const hits: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const { rows } = await sql.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${quoted(schema)}.${quoted(table)} WHERE strpos(${quoted(column)}::text, $1) > 0) AS found`,
      [needle],
    );
    if (rows[0]?.found) hits.push(`${table}.${column}`);
  }
  return hits;
}
