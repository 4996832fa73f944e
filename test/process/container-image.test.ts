/**
 * The container image and the compose stack, checked from their files (no
 * container engine runs on development or CI machines): what the runtime
 * install carries, who owns the code, the Node version, an offline build, and
 * how the sandbox is exposed (issue 6 §8 "the sandbox in compose", §10).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(`${root}/${file}`, "utf8");
const dockerfile = read("Dockerfile");
const compose = read("docker-compose.yml");
const readme = read("README.md");

/** The text of one `FROM ... AS name` stage. */
function stage(name: string): string {
  const match = new RegExp(`^FROM \\S+ AS ${name}\\n([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, "m").exec(dockerfile);
  if (!match?.[1]) throw new Error(`no stage ${name} in the Dockerfile`);
  return match[1];
}

/** One service's block of docker-compose.yml (two-space indented under services:). */
function service(name: string): string {
  const match = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, "m").exec(compose);
  if (!match?.[1]) throw new Error(`no service ${name} in docker-compose.yml`);
  return match[1];
}

interface LockedPackage {
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
}

/** What `npm ci` with these --omit flags installs from package-lock.json, by package name. */
function installedBy(npmCi: string): Set<string> {
  const omitDev = npmCi.includes("--omit=dev");
  const omitOptional = npmCi.includes("--omit=optional");
  const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, LockedPackage> };
  const names = new Set<string>();
  for (const [where, flags] of Object.entries(lock.packages)) {
    if (!where) continue; // the project itself
    if (omitDev && flags.dev) continue;
    if (omitOptional && flags.optional) continue;
    // needed only when dev or optional packages are: gone when both are omitted
    if (omitDev && omitOptional && flags.devOptional) continue;
    names.add(where.replace(/^.*node_modules\//, ""));
  }
  return names;
}

describe("the runtime image", () => {
  const runtimeInstall = /npm ci [^\n]*/.exec(stage("deps"))?.[0] ?? "";

  it("installs production dependencies only, without the dev tools npm keeps as optional peers", () => {
    expect(runtimeInstall).toContain("--ignore-scripts"); // the postinstall needs the prisma CLI
    const installed = installedBy(runtimeInstall);
    const { dependencies } = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    for (const name of Object.keys(dependencies)) expect(installed, name).toContain(name);
    for (const tool of ["prisma", "typescript", "@prisma/studio-core", "react-dom", "mysql2", "@electric-sql/pglite", "tsx", "vitest"]) {
      expect(installed, tool).not.toContain(tool);
    }
  });

  it("keeps the code read-only to the app user: only the state folder is its own", () => {
    const runtime = stage("runtime");
    expect(runtime).not.toContain("--chown");
    expect(runtime).toMatch(/^USER node$/m);
    const chowns = runtime.match(/chown [^\n]*/g) ?? [];
    expect(chowns).toEqual(["chown node:node /app/.expertline"]);
    expect(runtime).toContain("COPY --from=build /app/dist ./dist");
  });

  it("defaults to Node 22, and the README says so", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-/m);
    expect(readme).toMatch(/Node 22 \(recommended, and the image's default/);
  });

  it("builds offline: no syntax directive that pulls a frontend image", () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it("names the sandbox entry point in the Dockerfile and the compose header", () => {
    expect(dockerfile.split("\nARG")[0]).toContain("node dist/sandbox.js");
    expect(compose.split("\nx-env")[0]).toContain("node dist/sandbox.js");
  });
});

describe("the compose stack", () => {
  it("publishes the sandboxes (Twilio, Stripe) on this machine's loopback only", () => {
    const ports = /ports:\n((?:\s+- .*\n)+)/.exec(service("sandbox"))?.[1] ?? "";
    expect(ports.trim().split("\n").map((line) => line.trim())).toEqual(['- "127.0.0.1:3001:3001"', '- "127.0.0.1:3002:3002"']);
  });

  it("points the app at the Stripe sandbox, and the expert's browser at its published port", () => {
    expect(compose).toMatch(/^ {2}STRIPE_API_BASE_URL: http:\/\/sandbox:3002$/m);
    expect(compose).toMatch(/^ {2}STRIPE_SANDBOX_PUBLIC_URL: http:\/\/localhost:3002$/m);
  });

  it("runs the sandbox outside production, which it refuses", () => {
    expect(service("sandbox")).toMatch(/^ {6}NODE_ENV: (development|test)$/m);
  });

  // The sandbox starts only while TWILIO_API_BASE_URL points the app at it
  // (src/sandbox/production-guard.ts): it must read the app's own value, so that
  // switching the app to real Twilio (and a real token) stops it too.
  it("gives the sandbox the app's Twilio settings unchanged, pointed at the sandbox", () => {
    const shared = compose.split("\nx-env: &env\n")[1]?.split("\n\n")[0] ?? "";
    expect(shared).toMatch(/^ {2}TWILIO_API_BASE_URL: http:\/\/sandbox:3001$/m);
    expect(service("sandbox")).toMatch(/^ {6}<<: \*env$/m);
    expect(service("sandbox")).not.toMatch(/TWILIO_/);
  });

  it("never tells users to put a real Twilio token where the sandbox reads it, and starts real Twilio without the sandbox", () => {
    const header = compose.split("\nx-env")[0] ?? "";
    const shared = compose.split("\nx-env: &env\n")[1]?.split("\n\n")[0] ?? "";
    expect(shared).not.toMatch(/your SID|your token|real Twilio:/i);
    expect(header).toMatch(/Never put your Twilio SID and token in x-env/);
    expect(header).toMatch(/^# +docker compose up --build api worker /m);
    expect(readme).toContain("`docker compose up --build api worker`");
    // ...and nothing the api or worker waits for pulls the sandbox back in.
    for (const name of ["api", "worker", "migrate"]) {
      expect(/depends_on:\n((?: {6}.*\n)+)/.exec(service(name))?.[1] ?? "", name).not.toContain("sandbox:");
    }
  });

  it("starts the sandbox once Redis is healthy", () => {
    expect(service("sandbox")).toMatch(/depends_on:[\s\S]*\n {6}redis:\n {8}condition: service_healthy/);
  });

  it("is started with --build in the README and the compose header, so no stale image is reused", () => {
    expect(readme).toContain("`docker compose up --build`");
    expect(readme).not.toMatch(/`docker compose up`/);
    expect(compose).toMatch(/^# +docker compose up --build/m);
  });
});
