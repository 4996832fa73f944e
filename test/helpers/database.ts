import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../src/db/migrate.js";

/** A fresh PostgreSQL schema migrated from the committed migrations (~20 ms). */
export async function createTestSchema(connectionString: string, label = "t"): Promise<string> {
  const schema = `test_${label}_${randomBytes(5).toString("hex")}`;
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
