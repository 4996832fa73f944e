/**
 * The committed migrations must build exactly the schema that
 * prisma/schema.prisma describes. We ask Prisma's own engine (offline, as
 * WebAssembly) for the SQL that creates schema.prisma from nothing, apply it
 * to one schema, apply the committed migrations to another, and compare the
 * two catalogs: columns, types, defaults, nullability, enums, indexes and
 * constraints.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffSchemas } from "../../scripts/lib/schema-diff.js";
import { testConfig } from "../helpers/config.js";
import { createTestSchema, dropTestSchema, testSchemaName } from "../helpers/database.js";

const { DATABASE_URL } = testConfig();
let client: pg.Client;
const schemas: string[] = [];

async function snapshot(schema: string) {
  const query = async (sql: string) => (await client.query(sql, [schema])).rows;
  return {
    columns: await query(`
      SELECT table_name, column_name, data_type, udt_name, is_nullable, character_maximum_length,
        replace(column_default, $1 || '.', '') AS column_default
      FROM information_schema.columns WHERE table_schema = $1 AND table_name <> '_prisma_migrations'
      ORDER BY table_name, column_name`),
    enums: await query(`
      SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 GROUP BY t.typname ORDER BY t.typname`),
    indexes: await query(`
      SELECT tablename, indexname, replace(indexdef, $1 || '.', '') AS definition
      FROM pg_indexes WHERE schemaname = $1 AND tablename <> '_prisma_migrations'
      ORDER BY tablename, indexname`),
    constraints: await query(`
      SELECT rel.relname AS table_name, con.conname, con.contype, replace(pg_get_constraintdef(con.oid), $1 || '.', '') AS definition
      FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
      WHERE n.nspname = $1 AND rel.relname <> '_prisma_migrations'
      ORDER BY rel.relname, con.conname`),
  };
}

beforeAll(async () => {
  client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  for (const schema of schemas) await dropTestSchema(DATABASE_URL, schema);
});

describe("schema drift", () => {
  it("committed migrations produce exactly schema.prisma", async () => {
    const migrated = await createTestSchema(DATABASE_URL, "migrated");
    schemas.push(migrated);

    const expected = testSchemaName("expected");
    schemas.push(expected);
    const sql = await diffSchemas({ kind: "empty" }, { kind: "file", path: "prisma/schema.prisma" });
    expect(sql).toContain("CREATE TABLE");
    await client.query(`CREATE SCHEMA "${expected}"`);
    await client.query(`SET search_path TO "${expected}"`);
    await client.query(sql);
    await client.query("SET search_path TO public");

    const [actual, wanted] = await Promise.all([snapshot(migrated), snapshot(expected)]);
    expect(actual.columns.length).toBeGreaterThan(100);
    expect(actual.enums).toEqual(wanted.enums);
    expect(actual.columns).toEqual(wanted.columns);
    expect(actual.indexes).toEqual(wanted.indexes);
    expect(actual.constraints).toEqual(wanted.constraints);
  });

  it("the comparison notices a difference", async () => {
    // Guard against a comparison that cannot fail: one dropped index must show.
    const altered = await createTestSchema(DATABASE_URL, "altered");
    const reference = await createTestSchema(DATABASE_URL, "reference");
    schemas.push(altered, reference);
    await client.query(`DROP INDEX "${altered}"."Question_tags_idx"`);
    const [a, b] = await Promise.all([snapshot(altered), snapshot(reference)]);
    expect(a.indexes).not.toEqual(b.indexes);
  });
});
