/**
 * `PORT=4000 npm run dev` listens on 4000: the environment wins over .env, by
 * the dotenv convention the app follows too (issue 6 §4).
 */
import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "expertline-env-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const DOTENV = [
  "# a comment line",
  "PORT=3000",
  "DATABASE_URL=postgresql://from-dotenv@127.0.0.1:5432/expertline",
  'QUOTED="two words # not a comment"',
  "SINGLE='it has $NO expansion'",
  "TRAILING=value   # a trailing comment",
  "export EXPORTED=yes",
  "EMPTY_IN_ENV=from-dotenv",
  "",
].join("\n");

/** Runs load_dotenv in bash with `env` as the caller's environment; returns the variables afterwards. */
async function loadDotenv(env: Record<string, string>): Promise<Record<string, string | undefined>> {
  const file = path.join(tempDir(), ".env");
  writeFileSync(file, DOTENV);
  const names = ["PORT", "DATABASE_URL", "QUOTED", "SINGLE", "TRAILING", "EXPORTED", "EMPTY_IN_ENV"];
  const { stdout } = await run(
    "bash",
    ["-c", `set -euo pipefail; source scripts/dotenv.sh; load_dotenv "$1"; node -p 'JSON.stringify(process.env)'`, "_", file],
    { cwd: root, env: { PATH: process.env.PATH ?? "", ...env } },
  );
  const after = JSON.parse(stdout) as Record<string, string>;
  return Object.fromEntries(names.map((name) => [name, after[name]]));
}

describe("load_dotenv (scripts/dotenv.sh)", () => {
  it("keeps what the environment sets, and takes the rest from .env with dotenv's quoting and comments", async () => {
    expect(await loadDotenv({ PORT: "4000", EMPTY_IN_ENV: "" })).toEqual({
      PORT: "4000",
      DATABASE_URL: "postgresql://from-dotenv@127.0.0.1:5432/expertline",
      QUOTED: "two words # not a comment",
      SINGLE: "it has $NO expansion",
      TRAILING: "value",
      EXPORTED: "yes",
      EMPTY_IN_ENV: "",
    });
  });

  it("takes .env's value when the environment leaves it unset", async () => {
    expect((await loadDotenv({})).PORT).toBe("3000");
  });
});

describe("scripts/dev.sh", () => {
  // dev.sh itself, in a copy of the project whose set-up steps are stand-ins
  // that write down the environment they were started with.
  it("starts the app, and its set-up steps, with the caller's PORT and .env's DATABASE_URL", async () => {
    const project = tempDir();
    const bin = path.join(project, "bin");
    const seen = path.join(project, "seen.log");
    mkdirSync(path.join(project, "scripts"));
    mkdirSync(bin);
    for (const file of ["scripts/dev.sh", "scripts/dotenv.sh"]) cpSync(path.join(root, file), path.join(project, file));
    const recorder = (name: string) => `#!/usr/bin/env bash\necho "${name} $* PORT=$PORT DATABASE_URL=$DATABASE_URL" >> "${seen}"\n`;
    writeFileSync(path.join(project, "scripts/install.sh"), "exit 0\n");
    writeFileSync(path.join(project, "scripts/ensure-services.sh"), recorder("ensure-services"));
    for (const tool of ["npm", "npx"]) {
      writeFileSync(path.join(bin, tool), recorder(tool));
      chmodSync(path.join(bin, tool), 0o755);
    }
    writeFileSync(path.join(project, ".env"), DOTENV);

    await run("bash", [path.join(project, "scripts/dev.sh")], {
      env: { PATH: `${bin}:${process.env.PATH ?? ""}`, PORT: "4000" },
    });

    const dotenvUrl = "postgresql://from-dotenv@127.0.0.1:5432/expertline";
    expect(readFileSync(seen, "utf8").trim().split("\n")).toEqual([
      `ensure-services  PORT=4000 DATABASE_URL=${dotenvUrl}`,
      `npm run --silent db:migrate PORT=4000 DATABASE_URL=${dotenvUrl}`,
      `npm run --silent db:seed PORT=4000 DATABASE_URL=${dotenvUrl}`,
      `npx tsx watch --clear-screen=false src/dev.ts PORT=4000 DATABASE_URL=${dotenvUrl}`,
    ]);
  });
});
