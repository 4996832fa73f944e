/**
 * A fresh clone has no src/generated/prisma (it is not in git). `npm ci`, then
 * build, typecheck or lint must generate it rather than fail with dozens of
 * type errors (issue 6 §2). Each case runs the real package.json scripts in a
 * copy of the project that has no generated client.
 */
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const copies: string[] = [];

/** The files `prisma generate` reads, the package scripts, and the installed node_modules (linked). */
function projectWithoutClient(nodeModules: string = path.join(root, "node_modules")): string {
  const dir = mkdtempSync(path.join(tmpdir(), "expertline-gen-"));
  copies.push(dir);
  for (const file of ["package.json", "prisma.config.ts", "prisma/schema.prisma", "scripts/generate-prisma.sh"]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(root, file), path.join(dir, file));
  }
  symlinkSync(nodeModules, path.join(dir, "node_modules"));
  return dir;
}

const client = (dir: string) => path.join(dir, "src/generated/prisma/client.ts");

/**
 * The installed node_modules as `npm ci` would leave them after a Prisma
 * upgrade: every package linked, but prisma's package.json says `version`.
 * Only the version changes; the CLI that runs is still the installed one.
 */
function modulesWithPrisma(version: string): string {
  const installed = path.join(root, "node_modules");
  const modules = mkdtempSync(path.join(tmpdir(), "expertline-nm-"));
  copies.push(modules);
  for (const entry of readdirSync(installed)) {
    if (entry !== "prisma") symlinkSync(path.join(installed, entry), path.join(modules, entry));
  }
  mkdirSync(path.join(modules, "prisma"));
  for (const entry of readdirSync(path.join(installed, "prisma"))) {
    if (entry !== "package.json") symlinkSync(path.join(installed, "prisma", entry), path.join(modules, "prisma", entry));
  }
  const manifest = JSON.parse(readFileSync(path.join(installed, "prisma/package.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(path.join(modules, "prisma/package.json"), JSON.stringify({ ...manifest, version }));
  return modules;
}

async function npmRun(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run("npm", ["run", "--silent", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() },
  });
  return stdout;
}

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

describe("the Prisma client on a fresh clone", () => {
  // `-- --version`: the tool itself then only prints its version; what is under
  // test is the script that runs before it.
  it.each(["build", "typecheck", "lint"])("npm run %s generates the client first", async (script) => {
    const dir = projectWithoutClient();
    expect(existsSync(client(dir))).toBe(false);
    await npmRun(dir, [script, "--", "--version"]);
    expect(existsSync(client(dir))).toBe(true);
  }, 60_000);

  // Decided by content and versions, never by mtimes: no clock is involved.
  it("npm ci generates it (postinstall), and regenerates only when the schema or the installed Prisma changed", async () => {
    const dir = projectWithoutClient();
    expect(await npmRun(dir, ["postinstall"])).toContain("generating the Prisma client");
    expect(existsSync(client(dir))).toBe(true);
    expect(await npmRun(dir, ["postinstall"])).toBe("");

    appendFileSync(path.join(dir, "prisma/schema.prisma"), "\n// edited after the client was generated\n");
    expect(await npmRun(dir, ["postinstall"])).toContain("generating the Prisma client");
    expect(await npmRun(dir, ["postinstall"])).toBe("");

    // `npm ci` after a Prisma upgrade: the schema is as it was, the client is not current.
    rmSync(path.join(dir, "node_modules"));
    symlinkSync(modulesWithPrisma("99.0.0-upgraded"), path.join(dir, "node_modules"));
    expect(await npmRun(dir, ["postinstall"])).toContain("generating the Prisma client");
    expect(await npmRun(dir, ["postinstall"])).toBe("");
  }, 60_000);

  it("a production install without the prisma CLI is not broken by the postinstall", async () => {
    const emptyModules = mkdtempSync(path.join(tmpdir(), "expertline-nm-"));
    copies.push(emptyModules);
    const dir = projectWithoutClient(emptyModules);
    expect(await npmRun(dir, ["postinstall"])).toContain("the prisma CLI is not installed");
    expect(existsSync(client(dir))).toBe(false);
    // ...while a build there says what is missing instead of compiling without a client.
    await expect(npmRun(dir, ["build"])).rejects.toThrow(/prisma CLI is not installed/);
  });
});
