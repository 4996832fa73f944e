/**
 * Writes the SQL for a schema change, the way `prisma migrate diff` would.
 *
 *   npm run db:diff -- --name add_ratings            # new migration: last migrated schema -> prisma/schema.prisma
 *   npm run db:diff -- --print                       # print SQL from empty, write nothing
 *
 * "Last migrated schema" is prisma/schema.prisma as committed at HEAD, so
 * edit the schema, run this, review the SQL, and commit both together.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { diffSchemas, type SchemaSource } from "./lib/schema-diff.js";

const { values } = parseArgs({
  options: { name: { type: "string" }, print: { type: "boolean", default: false } },
});
const schemaPath = "prisma/schema.prisma";
const migrationsDir = "prisma/migrations";

function committedSchema(): SchemaSource {
  const hasMigrations = readdirSync(migrationsDir, { withFileTypes: true }).some((entry) => entry.isDirectory());
  if (!hasMigrations) return { kind: "empty" };
  const file = path.join(mkdtempSync(path.join(tmpdir(), "expertline-schema-")), "schema.prisma");
  writeFileSync(file, execFileSync("git", ["show", `HEAD:${schemaPath}`], { encoding: "utf8" }));
  return { kind: "file", path: file };
}

const from = values.print ? ({ kind: "empty" } as const) : committedSchema();
const sql = await diffSchemas(from, { kind: "file", path: schemaPath });
if (values.print) {
  process.stdout.write(sql);
} else {
  if (!values.name || !/^[a-z0-9_]+$/.test(values.name)) throw new Error("--name must be snake_case");
  if (sql.trim() === "" || sql.includes("This is an empty migration")) {
    console.log("schema.prisma matches the last migration: nothing to write");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${values.name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "migration.sql"), sql);
    console.log(`wrote ${dir}/migration.sql`);
  }
}
