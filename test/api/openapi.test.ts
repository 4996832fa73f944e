import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();

describe("OpenAPI", () => {
  it("GET /docs/json is a valid OpenAPI 3 document covering every v1 route", async () => {
    const response = await ctx().app.inject({ method: "GET", url: "/docs/json" });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\.0\./);
    // validate() throws with the reason on any schema violation; it mutates, so pass a copy
    await SwaggerParser.validate(structuredClone(document));

    const paths = Object.keys(document.paths);
    for (const path of [
      "/v1/admin/shops",
      "/v1/admin/experts/{id}/vetting",
      "/v1/shop",
      "/v1/api-keys",
      "/v1/api-keys/{id}",
      "/v1/products",
      "/v1/products/{id}",
      "/v1/pools",
      "/v1/pools/{id}",
      "/v1/pools/{id}/members",
      "/v1/pools/{id}/members/{expertId}",
      "/v1/experts",
      "/v1/experts/{id}",
      "/v1/tags",
      "/healthz",
      "/readyz",
    ]) {
      expect(paths).toContain(path);
    }
    // every shop route declares its auth and the problem responses
    const createExpert = document.paths["/v1/experts"].post;
    expect(createExpert.security).toEqual([{ shopApiKey: [] }]);
    expect(createExpert.responses["400"]).toBeDefined();
    expect(createExpert.requestBody.content["application/json"].schema.required).toEqual(
      expect.arrayContaining(["phone", "name", "timeZone"]),
    );
  });

  it("serves Swagger UI at /docs", async () => {
    const response = await ctx().app.inject({ method: "GET", url: "/docs/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
  });
});
