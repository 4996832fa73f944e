/**
 * Offline `prisma migrate diff --script` for PostgreSQL.
 *
 * Prisma 7's CLI downloads a native schema engine, which machines without
 * access to Prisma's binary host cannot do. The same engine ships as
 * WebAssembly in `@prisma/schema-engine-wasm`; diffing two schema files needs
 * no database, only a driver adapter that answers the one probe query the
 * engine sends while connecting. Everything else is refused loudly.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Node has WebAssembly; @types/node does not declare it without the DOM lib.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

type Ok<T> = { ok: true; value: T };
type Failed = { ok: false; error: { kind: "GenericJs"; id: number; message: string } };

interface EngineModule {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
  SchemaEngine: {
    new: (
      options: { datamodels: [string, string][] },
      log: (line: string) => void,
      adapterFactory: unknown,
    ) => Promise<{
      diff(params: unknown): Promise<{ exitCode: number; stdout?: string }>;
      free(): void;
    }>;
  };
}

let engineModule: Promise<EngineModule> | undefined;

async function loadEngine(): Promise<EngineModule> {
  // The package's entry imports the .wasm file as an ES module, which Node 20
  // only allows behind a flag; instantiate the wasm-bindgen glue by hand.
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const glue = (await import(pathToFileURL(path.join(dir, "schema_engine_bg.js")).href)) as EngineModule;
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(dir, "schema_engine_bg.wasm")), {
    "./schema_engine_bg.js": glue,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

const COLUMN_TYPE = { Int32: 0, Boolean: 5, Text: 7 } as const;

function refuse(what: string): Failed {
  return { ok: false, error: { kind: "GenericJs", id: 0, message: `offline schema diff: unexpected ${what}` } };
}

/** Answers the engine's connection probe: "the schema exists, server is PostgreSQL 15". */
const offlineConnection = {
  provider: "postgres",
  adapterName: "expertline-offline",
  async queryRaw(query: { sql: string }): Promise<Ok<unknown> | Failed> {
    if (!query.sql.includes("FROM pg_namespace WHERE nspname")) return refuse(`query: ${query.sql}`);
    return {
      ok: true,
      value: {
        columnNames: ["exists", "version", "numeric_version"],
        columnTypes: [COLUMN_TYPE.Boolean, COLUMN_TYPE.Text, COLUMN_TYPE.Int32],
        rows: [[true, "PostgreSQL 15 (offline)", 150000]],
      },
    };
  },
  async executeRaw(query: { sql: string }) {
    return refuse(`statement: ${query.sql}`);
  },
  async executeScript() {
    return refuse("script");
  },
  async startTransaction() {
    return refuse("transaction");
  },
  getConnectionInfo() {
    return { ok: true, value: { schemaName: "public", supportsRelationJoins: true } };
  },
  async dispose() {
    return { ok: true, value: undefined };
  },
};

const offlineAdapterFactory = {
  provider: "postgres",
  adapterName: "expertline-offline",
  async connect() {
    return { ok: true, value: offlineConnection };
  },
  async connectToShadowDb() {
    return { ok: true, value: offlineConnection };
  },
};

export type SchemaSource = { kind: "empty" } | { kind: "file"; path: string };

/** SQL that takes a database from `from` to `to`, as Prisma would write it. */
export async function diffSchemas(from: SchemaSource, to: SchemaSource): Promise<string> {
  engineModule ??= loadEngine();
  const engine = await engineModule;
  const files = (source: SchemaSource) =>
    source.kind === "empty" ? [] : [{ path: path.resolve(source.path), content: readFileSync(source.path, "utf8") }];
  const tag = (source: SchemaSource) =>
    source.kind === "empty" ? { tag: "empty" } : { tag: "schemaDatamodel", files: files(source) };
  const target = files(to);
  const instance = await engine.SchemaEngine.new(
    { datamodels: target.map((file) => [file.path, file.content]) },
    () => {},
    offlineAdapterFactory,
  );
  try {
    const result = await instance.diff({
      from: tag(from),
      to: tag(to),
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    // The engine always opens with CREATE SCHEMA "public"; migrations must run
    // in whatever schema they are applied to, so drop that line.
    return (result.stdout ?? "").replace(/^-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/m, "");
  } finally {
    instance.free();
  }
}
