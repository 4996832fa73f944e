/**
 * What reaches the logs: a request id on every line, and no secrets or full
 * phone numbers anywhere.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../../src/app.js";
import { createDeps, type Deps } from "../../src/deps.js";
import { createLogger } from "../../src/lib/logger.js";
import { testConfig } from "../helpers/config.js";
import { createTestSchema, dropTestSchema } from "../helpers/database.js";
import { makeShop } from "../helpers/factories.js";

const lines: Record<string, unknown>[] = [];
let app: App;
let deps: Deps;
let schema: string;
const config = testConfig({ LOG_LEVEL: "debug" });

beforeAll(async () => {
  schema = await createTestSchema(config.DATABASE_URL, "logs");
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  // The production logger configuration, writing to a buffer instead of stdout.
  deps = createDeps(config, { dbSchema: schema, logger: createLogger({ level: "debug", destination }) });
  app = await buildApp(deps);
});

afterAll(async () => {
  await app.close();
  await deps.close();
  await dropTestSchema(config.DATABASE_URL, schema);
});

describe("logging", () => {
  it("redacts authorization headers, API keys and phone numbers; tags every line with the request id", async () => {
    const shop = await makeShop(app);
    const phone = "+14155552671";
    const response = await app.inject({
      method: "POST",
      url: "/v1/experts",
      headers: { ...shop.headers, "x-request-id": "log-test-1" },
      payload: { phone, name: "Dan", timeZone: "UTC" },
    });
    expect(response.statusCode).toBe(201);
    deps.logger.info({ expert: { phone }, apiKey: shop.apiKey, authToken: "tok" }, "something happened");

    // An HTTP client error (as axios under the Twilio SDK throws) carries the request with its credentials.
    const networkError = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      code: "ECONNREFUSED",
      config: { headers: { Authorization: "Basic QUMwMDAwOnN1cGVyc2VjcmV0" }, data: `To=${encodeURIComponent(phone)}&Body=hi` },
      request: { path: "/2010-04-01/Accounts/AC0/Messages.json" },
    });
    deps.logger.warn({ err: networkError }, "job failed");

    const text = JSON.stringify(lines);
    expect(text).not.toContain("QUMwMDAwOnN1cGVyc2VjcmV0");
    expect(text).not.toContain(encodeURIComponent(phone));
    expect(text).toContain("ECONNREFUSED");
    expect(text).not.toContain(shop.apiKey);
    expect(text).not.toContain(phone);
    expect(text).not.toContain("tok\"");
    expect(text).toContain("+1********71");

    const requestLines = lines.filter((line) => line.reqId === "log-test-1");
    expect(requestLines.length).toBeGreaterThanOrEqual(2); // incoming request + request completed
    const incoming = requestLines.find((line) => line.msg === "incoming request") as { req: Record<string, unknown> };
    expect(JSON.stringify(incoming.req)).not.toContain("Bearer");
  });
});
