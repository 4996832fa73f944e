import { describe, expect, it } from "vitest";
import { RouteMethods } from "./route-methods.js";

/**
 * The expected answers follow Fastify's router (find-my-way) with
 * ignoreTrailingSlash, as src/app.ts configures it: a path lists a method
 * only when a request with that method would reach a route.
 */
function routes(...table: [url: string, method: string | string[]][]): RouteMethods {
  const methods = new RouteMethods();
  for (const [url, method] of table) methods.add(url, method);
  return methods;
}

describe("RouteMethods", () => {
  it("lists the methods of a literal path, sorted, with HEAD wherever GET is", () => {
    const methods = routes(["/v1/products", "POST"], ["/v1/products", "GET"], ["/v1/shop", "DELETE"]);
    expect(methods.allowedFor("/v1/products")).toEqual(["GET", "HEAD", "POST"]);
    expect(methods.allowedFor("/v1/shop")).toEqual(["DELETE"]);
  });

  it("adds HEAD for GET only, whatever the case of the method or how it is given", () => {
    const methods = routes(["/a", ["get", "Post"]], ["/b", ["PUT", "PATCH"]], ["/c", "OPTIONS"]);
    expect(methods.allowedFor("/a")).toEqual(["GET", "HEAD", "POST"]);
    expect(methods.allowedFor("/b")).toEqual(["PATCH", "PUT"]);
    expect(methods.allowedFor("/c")).toEqual(["OPTIONS"]);
  });

  it("keeps every method added for the same pattern", () => {
    const methods = routes(["/v1/experts/:id", "GET"], ["/v1/experts/:id", "PATCH"], ["/v1/experts/:id", ["DELETE"]]);
    expect(methods.allowedFor("/v1/experts/42")).toEqual(["DELETE", "GET", "HEAD", "PATCH"]);
  });

  it("is empty for an unknown path, and for a path that only shares a prefix or part of a segment", () => {
    const methods = routes(["/v1/shop", "GET"], ["/v1/experts/:id/suspend", "POST"]);
    for (const path of ["/nope", "/v1", "/v1/sho", "/v1/shopping", "/v2/shop", "/v1/shop/x", "/v1/experts/1", "/v1/experts/1/resume", "/v1/experts/1/suspend/x"]) {
      expect(methods.allowedFor(path), path).toEqual([]);
    }
    expect(new RouteMethods().allowedFor("/v1/shop")).toEqual([]);
  });

  it("merges every pattern a path matches: a literal and a param at the same place", () => {
    const methods = routes(["/v1/products/:id", ["GET", "PATCH"]], ["/v1/products/export", "POST"]);
    expect(methods.allowedFor("/v1/products/export")).toEqual(["GET", "HEAD", "PATCH", "POST"]);
    expect(methods.allowedFor("/v1/products/0195f3a2")).toEqual(["GET", "HEAD", "PATCH"]);
  });

  it("a param matches one segment of any value, and only one", () => {
    const methods = routes(["/v1/experts/:id/suspend", "POST"]);
    for (const id of ["1", "0195f3a2-7c1e-7b3a-9d2e-1f2a3b4c5d6e", ":id", "*", "%20", "caf%C3%A9"]) {
      expect(methods.allowedFor(`/v1/experts/${id}/suspend`), id).toEqual(["POST"]);
    }
    expect(methods.allowedFor("/v1/experts/suspend")).toEqual([]);
    expect(methods.allowedFor("/v1/experts/a/b/suspend")).toEqual([]);
  });

  it("an empty param segment matches, as Fastify routes it with an empty value", () => {
    const methods = routes(["/v1/experts/:id/suspend", "POST"], ["/v1/products/:id", "GET"]);
    expect(methods.allowedFor("/v1/experts//suspend")).toEqual(["POST"]);
    // One trailing slash goes, the second is the empty segment.
    expect(methods.allowedFor("/v1/products//")).toEqual(["GET", "HEAD"]);
    // A param is never absent.
    expect(methods.allowedFor("/v1/products/")).toEqual([]);
    expect(methods.allowedFor("/v1/products")).toEqual([]);
  });

  it("ignores one trailing slash, on the path and on the pattern, and no more", () => {
    const methods = routes(["/v1/shop", "GET"], ["/v1/tags/", "POST"]);
    expect(methods.allowedFor("/v1/shop/")).toEqual(["GET", "HEAD"]);
    expect(methods.allowedFor("/v1/tags")).toEqual(["POST"]);
    expect(methods.allowedFor("/v1/tags/")).toEqual(["POST"]);
    // Fastify strips a single slash: "/v1/shop//" finds no route for any method.
    expect(methods.allowedFor("/v1/shop//")).toEqual([]);
    expect(methods.allowedFor("/v1//shop")).toEqual([]);
  });

  it("knows the root path, and that '//' is the root with a trailing slash", () => {
    const methods = routes(["/", "GET"], ["/health", "GET"]);
    expect(methods.allowedFor("/")).toEqual(["GET", "HEAD"]);
    expect(methods.allowedFor("//")).toEqual(["GET", "HEAD"]);
    expect(methods.allowedFor("///")).toEqual([]);
    expect(new RouteMethods().allowedFor("/")).toEqual([]);
    expect(routes(["/health", "GET"]).allowedFor("/")).toEqual([]);
  });

  it("compares a literal with the percent-decoded segment", () => {
    const methods = routes(["/docs/b c", "GET"], ["/docs/café", "POST"]);
    expect(methods.allowedFor("/docs/b%20c")).toEqual(["GET", "HEAD"]);
    expect(methods.allowedFor("/docs/caf%C3%A9")).toEqual(["POST"]);
    expect(methods.allowedFor("/docs/caf%c3%a9")).toEqual(["POST"]);
    expect(methods.allowedFor("/docs/b%2520c")).toEqual([]); // decoded once, as Fastify does
  });

  it("compares a segment that is not valid percent-encoding as written", () => {
    const methods = routes(["/files/%zz", "GET"], ["/files/:name/raw", "POST"]);
    expect(methods.allowedFor("/files/%zz")).toEqual(["GET", "HEAD"]);
    expect(methods.allowedFor("/files/%ff/raw")).toEqual(["POST"]);
    expect(methods.allowedFor("/files/%zy")).toEqual([]);
  });

  it("a wildcard takes the rest of the path, but at least one segment of it", () => {
    // @fastify/swagger-ui registers exactly this one.
    const methods = routes(["/docs/static/*", ["HEAD", "GET"]], ["/files/:id/*", "PUT"]);
    for (const path of ["/docs/static/index.css", "/docs/static/a/b/c.js", "/docs/static/a/", "/docs/static//"]) {
      expect(methods.allowedFor(path), path).toEqual(["GET", "HEAD"]);
    }
    // Fastify answers 404 to every method here, so nothing may be offered in an Allow header.
    for (const path of ["/docs/static", "/docs/static/", "/docs", "/docs/statics/x"]) {
      expect(methods.allowedFor(path), path).toEqual([]);
    }
    expect(methods.allowedFor("/files/1/x/y")).toEqual(["PUT"]);
    expect(methods.allowedFor("/files/1")).toEqual([]);
    expect(methods.allowedFor("/files")).toEqual([]);
  });
});
