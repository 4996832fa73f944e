/**
 * The sandbox's entry points as real processes: they refuse to run in
 * production, and the standalone sandbox binds loopback unless told
 * otherwise and keeps its state in the file it is given.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testConfig } from "../helpers/config.js";
import { entryPointEnv, startEntryPoint } from "../helpers/processes.js";

const config = testConfig();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Local addresses listening on `port`, from the kernel's table (hex "0100007F" is 127.0.0.1). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === "0A" && fields[1]?.endsWith(`:${hexPort}`))
    .map((fields) => fields[1]?.split(":")[0] ?? "");
}

const REFUSAL = /^sandbox: refusing to start with NODE_ENV=production/;
/** Production's other required settings, so that the refusal, not a missing setting, is what stops the process. */
const PRODUCTION = { NODE_ENV: "production", WEBHOOK_SIGNING_KEY: "k".repeat(40) };

describe("the sandbox never runs in production", () => {
  it("the standalone sandbox exits with one line", async () => {
    const sandbox = startEntryPoint("src/sandbox.ts", entryPointEnv({ ...PRODUCTION, TWILIO_API_BASE_URL: "http://127.0.0.1:3001" }));
    expect(await sandbox.exit).toBe(1);
    expect(sandbox.stderr).toEqual([expect.stringMatching(REFUSAL)]);
    expect(sandbox.stdout).toEqual([]);
  });

  it("the development process exits with one line when asked to run it", async () => {
    const dev = startEntryPoint("src/dev.ts", entryPointEnv({ ...PRODUCTION, SANDBOX_ENABLED: "true", TWILIO_API_BASE_URL: "http://127.0.0.1:3001" }));
    expect(await dev.exit).toBe(1);
    expect(dev.stderr).toEqual([expect.stringMatching(REFUSAL)]);
  });
});

// docker compose shares one environment between the app and the sandbox: with
// TWILIO_API_BASE_URL cleared for real Twilio, the token in it is a real one.
describe("the sandbox never holds a real Twilio token", () => {
  const NO_BASE_URL = /^sandbox: refusing to start without TWILIO_API_BASE_URL \(unset, the app talks to real Twilio/;

  it("the standalone sandbox exits with one line when the app is not pointed at a sandbox", async () => {
    const sandbox = startEntryPoint("src/sandbox.ts", entryPointEnv({ NODE_ENV: "test", TWILIO_API_BASE_URL: "" }));
    expect(await sandbox.exit).toBe(1);
    expect(sandbox.stderr).toEqual([expect.stringMatching(NO_BASE_URL)]);
    expect(sandbox.stdout).toEqual([]);
  });
});

describe("the standalone sandbox", () => {
  it("listens on 127.0.0.1 by default, answers Twilio's API, and stops cleanly", async () => {
    const port = await freePort();
    const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "expertline-sandbox-state-")), "state", "twilio-state.json");
    const sandbox = startEntryPoint(
      "src/sandbox.ts",
      entryPointEnv({ NODE_ENV: "development", TWILIO_API_BASE_URL: `http://127.0.0.1:${port}`, SANDBOX_STATE_FILE: stateFile }),
    );
    await sandbox.waitFor(/Twilio sandbox listening/);
    expect(listeningAddresses(port)).toEqual(["0100007F"]);

    const auth = `Basic ${Buffer.from(`${config.TWILIO_ACCOUNT_SID}:${config.TWILIO_AUTH_TOKEN}`).toString("base64")}`;
    const bought = await fetch(`http://127.0.0.1:${port}/2010-04-01/Accounts/${config.TWILIO_ACCOUNT_SID}/IncomingPhoneNumbers.json`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ PhoneNumber: "+14155550123", SmsUrl: "http://expertline.test/twilio/sms" }).toString(),
    });
    expect(bought.status).toBe(201);

    sandbox.kill("SIGTERM");
    expect(await sandbox.exit).toBe(0);
    // Closing saved what it owns into its own file.
    const saved = JSON.parse(readFileSync(stateFile, "utf8")) as { numbers: { phoneNumber: string }[] };
    expect(saved.numbers.map((number) => number.phoneNumber)).toEqual(["+14155550123"]);
  });
});
