import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../src/db/migrate.js";

/**
 * test_<label>_<creation time, base 36>_<random>: the time lets the global
 * setup clear schemas left by killed runs without touching a running one's.
 */
export function testSchemaName(label: string): string {
  return `test_${label}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

export function testSchemaAgeMs(schema: string, now = Date.now()): number | null {
  const match = /^test_\w+?_([0-9a-z]+)_[0-9a-f]{8}$/.exec(schema);
  return match?.[1] ? now - Number.parseInt(match[1], 36) : null;
}

/** A fresh PostgreSQL schema migrated from the committed migrations (~20 ms). */
export async function createTestSchema(connectionString: string, label = "t"): Promise<string> {
  const schema = testSchemaName(label);
  await migrate({ connectionString, schema });
  return schema;
}

export async function dropTestSchema(connectionString: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
