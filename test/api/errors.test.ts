/**
 * Malformed input of every kind is a 4xx problem+json, never a 500, and
 * never a stack trace.
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";
import { makeShop, type TestShop } from "../helpers/factories.js";

const ctx = useTestContext();

function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:expertline:problem:${code}`, status, code });
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(typeof body.instance).toBe("string");
  expect(response.body).not.toMatch(/at .+\.(ts|js):\d+/); // no stack frames
  return body;
}

describe("problem+json errors", () => {
  let shop: TestShop;

  it("unknown routes are a 404 problem", async () => {
    const { app } = ctx();
    shop = await makeShop(ctx().app);
    expectProblem(await app.inject({ method: "GET", url: "/nope" }), 404, "route-not-found");
    expectProblem(await app.inject({ method: "GET", url: "/v1/shop/nope", headers: shop.headers }), 404, "route-not-found");
    expectProblem(await app.inject({ method: "POST", url: "/v1/experts/x/y/z" }), 404, "route-not-found");
  });

  it("a wrong method on a known path is 405 with an Allow header", async () => {
    const { app } = ctx();
    for (const [method, url, allow] of [
      ["DELETE", "/v1/shop", "GET, HEAD, PATCH"],
      ["PUT", "/v1/products", "GET, HEAD, POST"],
      ["PUT", "/v1/products/", "GET, HEAD, POST"],
      ["POST", "/v1/products/0195f3a2-7c1e-7b3a-9d2e-1f2a3b4c5d6e?x=1", "DELETE, GET, HEAD, PATCH"],
      ["GET", "/v1/experts/0195f3a2-7c1e-7b3a-9d2e-1f2a3b4c5d6e/suspend", "POST"],
      ["DELETE", "/v1/admin/shops", "GET, HEAD, POST"],
      ["GET", "/twilio/sms", "POST"],
    ] as const) {
      const response = await app.inject({ method, url, headers: shop.headers });
      const body = expectProblem(response, 405, "method-not-allowed");
      expect(response.headers.allow, `${method} ${url}`).toBe(allow);
      expect(body.instance).toBe(url.split("?")[0]);
      expect(body.detail).toContain(allow);
    }
  });

  it("a malformed URL encoding is a 400 problem, raised before any route runs", async () => {
    const { app } = ctx();
    for (const url of ["/v1/products/%00%ff", "/v1/products/%E0%A4%A", "/nope/%ff"]) {
      const response = await app.inject({ method: "GET", url, headers: { ...shop.headers, "x-request-id": "bad-url-1" } });
      const body = expectProblem(response, 400, "invalid-url");
      expect(body).toMatchObject({ instance: url, requestId: "bad-url-1" });
      expect(response.headers["x-request-id"]).toBe("bad-url-1");
    }
  });

  it("requests Node's HTTP parser refuses are problems too (400, 431)", async () => {
    const { app } = ctx();
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    const rawExchange = (raw: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.end(raw));
        let answer = "";
        socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
        socket.on("close", () => resolve(answer));
        socket.on("error", reject);
      });
    for (const [raw, status, code] of [
      ["GET /v1/shop HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n", 400, "malformed-request"],
      [`GET /v1/shop HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431, "headers-too-large"],
    ] as const) {
      const answer = await rawExchange(raw);
      const [head = "", body = ""] = answer.split("\r\n\r\n");
      expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(head.toLowerCase()).toContain("content-type: application/problem+json");
      expect(JSON.parse(body)).toMatchObject({ type: `urn:expertline:problem:${code}`, status, title: expect.any(String), detail: expect.any(String) });
    }
  });

  it("an over-long path parameter is a 414 problem", async () => {
    const { app } = ctx();
    expectProblem(await app.inject({ method: "GET", url: `/v1/products/${"a".repeat(500)}`, headers: shop.headers }), 414, "uri-too-long");
  });

  it("validation errors list each failing field", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/experts",
      headers: shop.headers,
      payload: { phone: 42, name: "", timeZone: "Nowhere/Land", skills: [{ tag: "Bad Tag", level: 9 }] },
    });
    const body = expectProblem(response, 400, "validation-error");
    const paths = (body.errors as { path: string }[]).map((error) => error.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining(["body.name", "body.phone", "body.skills.0.level", "body.skills.0.tag", "body.timeZone"]),
    );
  });

  it("an invalid phone number is a field error", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/experts",
      headers: shop.headers,
      payload: { phone: "+1 015 555 0000", name: "Dan", timeZone: "UTC" },
    });
    const body = expectProblem(response, 400, "validation-error");
    expect(body.errors).toEqual([expect.objectContaining({ path: "body.phone", message: expect.stringContaining("not a valid phone number") })]);
  });

  it("malformed JSON is 400", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/products",
      headers: { ...shop.headers, "content-type": "application/json" },
      payload: '{"sku": "A", "name": ',
    });
    expectProblem(response, 400, "malformed-json");
  });

  it("an empty JSON body is 400", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/products",
      headers: { ...shop.headers, "content-type": "application/json" },
      payload: "",
    });
    expectProblem(response, 400, "empty-json-body");
  });

  it("a wrong content type is 415", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/products",
      headers: { ...shop.headers, "content-type": "text/xml" },
      payload: "<product/>",
    });
    expectProblem(response, 415, "unsupported-media-type");
  });

  it("an oversized body is 413", async () => {
    const { app, config } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/products",
      headers: shop.headers,
      payload: { sku: "BIG", name: "x", description: "x".repeat(config.BODY_LIMIT_BYTES) },
    });
    expectProblem(response, 413, "body-too-large");
  });

  it("a bad id in the path is 400 naming the parameter", async () => {
    const { app } = ctx();
    for (const [method, url] of [
      ["GET", "/v1/products/123"],
      ["GET", "/v1/pools/not-a-uuid"],
      ["GET", "/v1/experts/%27%20OR%201=1"],
      ["DELETE", "/v1/pools/x/members/y"],
      ["DELETE", "/v1/api-keys/0"],
    ] as const) {
      const body = expectProblem(await app.inject({ method, url, headers: shop.headers }), 400, "validation-error");
      expect((body.errors as { path: string }[])[0]?.path).toMatch(/^params\./);
    }
  });

  it("wrong types in the query are 400", async () => {
    const { app } = ctx();
    for (const query of ["limit=0", "limit=1000", "limit=ten", "cursor=abc", "status=sleeping"]) {
      const response = await app.inject({ method: "GET", url: `/v1/experts?${query}`, headers: shop.headers });
      expectProblem(response, 400, "validation-error");
    }
  });

  it("a JSON array or string instead of an object is 400", async () => {
    const { app } = ctx();
    for (const payload of ["[]", '"hello"', "42", "null"]) {
      const response = await app.inject({
        method: "POST",
        url: "/v1/pools",
        headers: { ...shop.headers, "content-type": "application/json" },
        payload,
      });
      expect(response.statusCode, `${payload}: ${response.body}`).toBe(400);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
  });

  it("prototype pollution attempts are refused, not merged", async () => {
    const { app } = ctx();
    const response = await app.inject({
      method: "POST",
      url: "/v1/products",
      headers: { ...shop.headers, "content-type": "application/json" },
      payload: '{"sku":"P1","name":"x","__proto__":{"admin":true}}',
    });
    expect(response.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it("echoes a sane X-Request-Id and puts it in problems", async () => {
    const { app } = ctx();
    const response = await app.inject({ method: "GET", url: "/nope", headers: { "x-request-id": "trace-abc.123" } });
    expect(response.headers["x-request-id"]).toBe("trace-abc.123");
    expect(response.json()).toMatchObject({ requestId: "trace-abc.123", instance: "/nope" });
    const invented = await app.inject({ method: "GET", url: "/nope", headers: { "x-request-id": "bad id with spaces" } });
    expect(invented.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
