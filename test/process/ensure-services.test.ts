/**
 * scripts/ensure-services.sh on a server that has never seen the project: the
 * role a local DATABASE_URL names must exist afterwards, whatever the URL. A
 * new machine has only `postgres`, and `npm test` passes the tests' URL, not
 * the dev default (issue 6 §1).
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testConfig } from "../helpers/config.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const config = testConfig();
const server = new URL(config.DATABASE_URL);

// The test's own superuser connection (trust auth, as on a new machine), to look
// at and drop the role the script made.
function superuser(): pg.Client {
  return new pg.Client({ host: server.hostname, port: Number(server.port || 5432), user: "postgres", database: "postgres" });
}

// A role no earlier run can have left behind, and a password that needs both
// percent-decoding (from the URL) and SQL quoting (into CREATE ROLE).
const role = `expertline_probe_${randomBytes(6).toString("hex")}`;
const password = "it's a p@ss/word";
const url = new URL(config.DATABASE_URL);
url.username = role;
url.password = encodeURIComponent(password);
url.pathname = "/postgres";

/**
 * A PATH whose psql and node write their command lines (what `ps` shows every
 * user) to `log`, then run the real ones.
 */
function pathRecordingCommandLines(log: string): string {
  const shims = mkdtempSync(path.join(tmpdir(), "expertline-shims-"));
  for (const command of ["psql", "node"]) {
    const real = execFileSync("bash", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim();
    const shim = path.join(shims, command);
    writeFileSync(shim, `#!/usr/bin/env bash\nprintf '%s %s\\n' ${command} "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(real)} "$@"\n`);
    chmodSync(shim, 0o755);
  }
  return `${shims}:${process.env.PATH ?? ""}`;
}

afterAll(async () => {
  const admin = superuser();
  await admin.connect();
  try {
    await admin.query(`DROP ROLE IF EXISTS "${role}"`);
  } finally {
    await admin.end();
  }
});

describe("scripts/ensure-services.sh", () => {
  it("creates the role any local DATABASE_URL names, and that role can log in", async () => {
    const admin = superuser();
    await admin.connect();
    try {
      const before = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      expect(before.rowCount).toBe(0);

      const commandLines = path.join(mkdtempSync(path.join(tmpdir(), "expertline-argv-")), "command-lines");
      const { stdout } = await run("bash", ["scripts/ensure-services.sh"], {
        cwd: root,
        env: { PATH: pathRecordingCommandLines(commandLines), DATABASE_URL: url.href, REDIS_URL: config.REDIS_URL },
      });
      expect(stdout).toContain(`creating the database role '${role}'`);
      // The password reached PostgreSQL, but through no command line.
      const seen = readFileSync(commandLines, "utf8");
      expect(seen).toMatch(/^psql /m);
      expect(seen).toMatch(/^node /m);
      expect(seen).not.toContain("p@ss");
      expect(seen).not.toContain(encodeURIComponent(password));

      const { rows } = await admin.query<{ rolcanlogin: boolean; rolcreatedb: boolean; has_password: boolean }>(
        "SELECT rolcanlogin, rolcreatedb, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname = $1",
        [role],
      );
      // CREATEDB: the test database is created by this role on first run.
      expect(rows).toEqual([{ rolcanlogin: true, rolcreatedb: true, has_password: true }]);
    } finally {
      await admin.end();
    }

    const asRole = new pg.Client({ connectionString: url.href });
    await asRole.connect();
    try {
      const { rows } = await asRole.query<{ current_user: string }>("SELECT current_user");
      expect(rows).toEqual([{ current_user: role }]);
    } finally {
      await asRole.end();
    }

    // A second run finds the role and leaves it alone.
    const again = await run("bash", ["scripts/ensure-services.sh"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: url.href, REDIS_URL: config.REDIS_URL },
    });
    expect(again.stdout).not.toContain("creating the database role");
  });

  // The host is pasted into nothing that a shell evaluates: "$(...)" in it stays text.
  it.each([
    ["DATABASE_URL", { DATABASE_URL: "postgresql://someone:secret@$(touch pwned):5432/expertline", REDIS_URL: config.REDIS_URL }],
    ["REDIS_URL", { DATABASE_URL: config.DATABASE_URL, REDIS_URL: "redis://$(touch pwned):6379" }],
  ])("runs no command hidden in the host of %s", async (name, urls) => {
    const cwd = mkdtempSync(path.join(tmpdir(), "expertline-host-"));
    const attempt = run("bash", [path.join(root, "scripts/ensure-services.sh")], { cwd, env: { PATH: process.env.PATH ?? "", ...urls } });
    await expect(attempt).rejects.toMatchObject({ stdout: expect.stringContaining("$(touch pwned)") });
    expect(existsSync(path.join(cwd, "pwned")), name).toBe(false);
  });
});
