/**
 * scripts/ensure-chromium.sh, which `npm test` runs before the end-to-end page
 * tests: it leaves an installed Chromium alone (a machine without network must
 * still run the tests), installs Debian's chromium when it is missing and we
 * are root, and says clearly what to do otherwise. apt-get and id are stand-ins
 * on PATH, so no test touches the machine's packages.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

interface Outcome {
  code: number;
  output: string;
  aptCalls: string[];
  chromium: string;
}

/**
 * Runs the script with CHROMIUM_PATH in a temp folder (present or not), `id -u`
 * answering `uid`, and an apt-get that records its arguments and, on install,
 * puts a chromium at CHROMIUM_PATH (unless it is told to fail, as offline).
 */
async function ensureChromium({ present, uid, aptFails = false }: { present: boolean; uid: number; aptFails?: boolean }): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), "expertline-chromium-"));
  const chromium = path.join(dir, "chromium");
  const aptLog = path.join(dir, "apt-calls");
  const executable = (file: string, text: string) => {
    writeFileSync(file, text);
    chmodSync(file, 0o755);
  };
  if (present) executable(chromium, "#!/bin/sh\necho Chromium 1.0\n");
  executable(path.join(dir, "id"), `#!/bin/sh\necho ${uid}\n`);
  writeFileSync(aptLog, "");
  executable(
    path.join(dir, "apt-get"),
    `#!/bin/sh\necho "$*" >> ${JSON.stringify(aptLog)}\n` +
      (aptFails ? "exit 100\n" : `[ "$1" = install ] && printf '#!/bin/sh\\necho Chromium 1.0\\n' > ${JSON.stringify(chromium)} && chmod +x ${JSON.stringify(chromium)}\nexit 0\n`),
  );
  const env = { PATH: `${dir}:/usr/bin:/bin`, CHROMIUM_PATH: chromium };
  try {
    const { stdout, stderr } = await run("bash", ["scripts/ensure-chromium.sh"], { cwd: root, env });
    return { code: 0, output: stdout + stderr, aptCalls: readFileSync(aptLog, "utf8").split("\n").filter(Boolean), chromium };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr, aptCalls: readFileSync(aptLog, "utf8").split("\n").filter(Boolean), chromium };
  }
}

describe("scripts/ensure-chromium.sh", () => {
  it("leaves an installed chromium alone and asks apt-get nothing (works offline)", async () => {
    const outcome = await ensureChromium({ present: true, uid: 0 });
    expect(outcome).toMatchObject({ code: 0, output: "", aptCalls: [] });
  });

  it("installs Debian's chromium when it is missing and we are root", async () => {
    const outcome = await ensureChromium({ present: false, uid: 0 });
    expect(outcome.code, outcome.output).toBe(0);
    expect(outcome.aptCalls).toEqual(["update -qq", "install -y -qq chromium"]);
    expect(existsSync(outcome.chromium)).toBe(true);
    expect(outcome.output).toContain("installed Chromium 1.0");
  });

  it("fails with what to do when it is missing and we are not root", async () => {
    const outcome = await ensureChromium({ present: false, uid: 1000 });
    expect(outcome.code).toBe(1);
    expect(outcome.aptCalls).toEqual([]);
    expect(outcome.output).toContain(`${outcome.chromium} is missing, and installing it needs root`);
    expect(outcome.output).toContain("apt-get install chromium");
  });

  it("fails clearly when apt-get cannot install it (no network)", async () => {
    const outcome = await ensureChromium({ present: false, uid: 0, aptFails: true });
    expect(outcome.code).toBe(1);
    expect(outcome.output).toContain("apt-get could not install chromium");
  });
});
