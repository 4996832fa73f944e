// Prisma CLI configuration. Only `prisma generate` runs here (offline);
// migrations are applied by src/cli/migrate.ts. The URL falls back to a local
// default because Prisma's env() throws when a variable is unset.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/expertline" },
});
