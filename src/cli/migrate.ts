/** `npm run db:migrate`: applies committed migrations to DATABASE_URL. */
import { loadConfigOrExit, loadDatabaseUrl } from "../config.js";
import { ensureDatabase, migrate } from "../db/migrate.js";

const connectionString = loadConfigOrExit(() => loadDatabaseUrl());
try {
  if (await ensureDatabase(connectionString)) console.log(`created database ${new URL(connectionString).pathname.slice(1)}`);
  const { applied, alreadyApplied } = await migrate({ connectionString });
  for (const name of applied) console.log(`applied ${name}`);
  console.log(`migrations: ${applied.length} applied, ${alreadyApplied} already up to date`);
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`);
  process.exit(1);
}
