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

describe("phone masking reaches every depth and error text", () => {
  const phone = "+14155550123";
  const masked = "+1********23";
  const linesWith = (marker: string) => lines.filter((line) => JSON.stringify(line).includes(marker));

  it("masks a phone number in an error's message and stack, however the error is logged", () => {
    const twilioError = Object.assign(new Error(`The 'To' number ${phone} is not a valid phone number.`), { code: 21211, to: phone });
    deps.logger.error({ err: twilioError }, "send failed (marker-err-1)");
    deps.logger.error(new Error(`marker-err-2: could not reach ${phone}`));
    deps.logger.warn(`marker-err-3: texting ${phone} failed`);
    deps.logger.info({ job: { error: new Error(`marker-err-4 ${phone}`) } }, "nested error");

    for (const marker of ["marker-err-1", "marker-err-2", "marker-err-3", "marker-err-4"]) {
      const found = linesWith(marker);
      expect(found, marker).toHaveLength(1);
      const text = JSON.stringify(found);
      expect(text, marker).not.toContain(phone);
      expect(text, marker).not.toContain(phone.slice(1));
      expect(text, marker).toContain(masked);
    }
    const [first] = linesWith("marker-err-1") as [{ err: { message: string; stack: string; code: number; type: string } }];
    expect(first.err).toMatchObject({ type: "Error", code: 21211, message: `The 'To' number ${masked} is not a valid phone number.` });
    expect(first.err.stack).toContain(masked);
  });

  it("masks phone fields nested at any depth, within a bound", () => {
    let deep: Record<string, unknown> = { phone };
    for (let level = 0; level < 50; level++) deep = { level: deep };
    deps.logger.info(
      {
        marker: "marker-nested",
        job: { data: { expert: { phone, name: "Dan" }, messages: [{ To: phone, From: phone, body: "hi" }] } },
        twilio: { params: { Caller: phone, Called: phone } },
        deep,
      },
      "nested phones",
    );
    const [line] = linesWith("marker-nested") as [Record<string, unknown>];
    const text = JSON.stringify(line);
    expect(text).not.toContain(phone);
    expect(line).toMatchObject({
      job: { data: { expert: { phone: masked, name: "Dan" }, messages: [{ To: masked, From: masked, body: "hi" }] } },
      twilio: { params: { Caller: masked, Called: masked } },
    });
    expect(text).toContain("[too deep to log]");
  });

  it("removes secrets nested at any depth", () => {
    deps.logger.info({ marker: "marker-secret", job: { data: { shop: { apiKey: "el_live_secret", headers: { Authorization: "Basic xyz" } } } } }, "s");
    const text = JSON.stringify(linesWith("marker-secret"));
    expect(text).not.toContain("el_live_secret");
    expect(text).not.toContain("Basic xyz");
  });

  it("keeps /twilio/status/message and /twilio/status/call apart, and redacts tokens in URLs", async () => {
    for (const url of ["/twilio/status/message", "/twilio/status/call", "/s/AbCdEf0123456789xyzW", "/v1/shop?token=tok-in-query&limit=5"]) {
      await app.inject({ method: "POST", url, headers: { "x-request-id": `url-${url.length}-${url.at(-1) ?? ""}` } });
    }
    const urls = lines
      .filter((line) => line.msg === "incoming request")
      .map((line) => (line.req as { url: string }).url);
    expect(urls).toContain("/twilio/status/message");
    expect(urls).toContain("/twilio/status/call");
    expect(urls).toContain("/s/[redacted]");
    expect(urls).toContain("/v1/shop?token=[redacted]&limit=5");
    expect(JSON.stringify(lines)).not.toContain("AbCdEf0123456789xyzW");
    expect(JSON.stringify(lines)).not.toContain("tok-in-query");
  });
});
