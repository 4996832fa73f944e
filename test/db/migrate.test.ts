import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate, MIGRATIONS_DIR, readMigrations } from "../../src/db/migrate.js";
import { testConfig } from "../helpers/config.js";
import { dropTestSchema, testSchemaName } from "../helpers/database.js";

const { DATABASE_URL } = testConfig();
const schemas: string[] = [];
const newSchema = (label: string) => {
  const name = testSchemaName(label);
  schemas.push(name);
  return name;
};

afterAll(async () => {
  for (const schema of schemas) await dropTestSchema(DATABASE_URL, schema);
});

async function rows(schema: string, sql: string) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("migrate", () => {
  it("applies every migration once and records it the way Prisma does", async () => {
    const schema = newSchema("once");
    const first = await migrate({ connectionString: DATABASE_URL, schema });
    const all = await readMigrations();
    expect(first.applied).toEqual(all.map((migration) => migration.name));
    const second = await migrate({ connectionString: DATABASE_URL, schema });
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });

    const recorded = await rows(schema, 'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations"');
    expect(recorded).toEqual(
      all.map((migration) => ({
        migration_name: migration.name,
        checksum: migration.checksum,
        finished_at: expect.any(Date),
        applied_steps_count: 1,
      })),
    );
  });

  it("concurrent runners apply each migration exactly once", async () => {
    const schema = newSchema("race");
    const results = await Promise.all([1, 2, 3].map(() => migrate({ connectionString: DATABASE_URL, schema })));
    const appliedCount = results.reduce((sum, result) => sum + result.applied.length, 0);
    expect(appliedCount).toBe((await readMigrations()).length);
  });

  it("refuses a migration edited after it was applied", async () => {
    const schema = newSchema("edited");
    const dir = mkdtempSync(path.join(tmpdir(), "migrations-"));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate({ connectionString: DATABASE_URL, schema, dir });
    const [first] = await readMigrations(dir);
    if (!first) throw new Error("no migrations");
    writeFileSync(path.join(dir, first.name, "migration.sql"), `${first.sql}\n-- edited`);
    await expect(migrate({ connectionString: DATABASE_URL, schema, dir })).rejects.toThrow(/edited after it was applied/);
  });

  it("rolls back a failing migration completely", async () => {
    const schema = newSchema("broken");
    const dir = mkdtempSync(path.join(tmpdir(), "migrations-"));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const broken = path.join(dir, "99990101000000_broken");
    cpSync(path.join(dir, (await readMigrations(dir))[0]?.name ?? ""), broken, { recursive: true });
    writeFileSync(path.join(broken, "migration.sql"), 'CREATE TABLE "Half" (id int);\nSELECT no_such_function();');
    await expect(migrate({ connectionString: DATABASE_URL, schema, dir })).rejects.toThrow(/99990101000000_broken failed/);
    const tables = await rows(schema, "SELECT to_regclass('\"Half\"') AS half");
    expect(tables).toEqual([{ half: null }]);
    const recorded = await rows(schema, 'SELECT migration_name FROM "_prisma_migrations"');
    expect(recorded.map((row) => row.migration_name)).not.toContain("99990101000000_broken");
  });
});
