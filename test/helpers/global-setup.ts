/**
 * Runs once before all test files: makes sure the test database exists and
 * removes schemas left behind by test runs that were killed mid-way.
 */
import pg from "pg";
import { ensureDatabase, migrate } from "../../src/db/migrate.js";
import { testConfig } from "./config.js";
import { testSchemaAgeMs } from "./database.js";

const STALE_AFTER_MS = 60 * 60 * 1000;

export default async function setup(): Promise<void> {
  const { DATABASE_URL } = testConfig();
  await ensureDatabase(DATABASE_URL);
  // The public schema serves the tests that start real processes (test/process).
  await migrate({ connectionString: DATABASE_URL });
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'",
    );
    for (const { nspname } of rows) {
      const age = testSchemaAgeMs(nspname);
      if (age === null || age > STALE_AFTER_MS) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}
