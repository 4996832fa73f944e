/**
 * Each test builds its own data through the public API (or the services it
 * calls), so tests never depend on shared seeded rows or on each other.
 */
import { randomBytes } from "node:crypto";
import type { InjectOptions } from "fastify";
import { expect } from "vitest";
import type { App } from "../../src/app.js";
import { TEST_ADMIN_KEY } from "./config.js";

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

export interface TestShop {
  id: string;
  apiKey: string;
  headers: { authorization: string };
}

const unique = () => randomBytes(4).toString("hex");

export async function makeShop(app: App, name = `Shop ${unique()}`): Promise<TestShop> {
  const response = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name } });
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json<{ shop: { id: string }; apiKey: { key: string } }>();
  return { id: body.shop.id, apiKey: body.apiKey.key, headers: { authorization: `Bearer ${body.apiKey.key}` } };
}

let phoneCounter = 0;

/** A valid, distinct US number per call: San Francisco 415, exchanges 300-499 minus N11 codes. */
export function nextPhone(): string {
  phoneCounter += 1;
  let exchange = 300 + (phoneCounter % 200);
  if (exchange % 100 === 11) exchange += 1;
  const line = 1000 + (randomBytes(2).readUInt16BE() % 9000);
  return `+1415${exchange}${line}`;
}

type Payload = Record<string, unknown>;

/** POSTs as the shop and returns the created resource (asserting 201). */
export async function create<T = Payload>(app: App, shop: TestShop, url: string, payload: Payload): Promise<T> {
  const response = await app.inject({ method: "POST", url, headers: shop.headers, payload });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<T>();
}

export const makeProduct = (app: App, shop: TestShop, fields: Payload = {}) =>
  create<{ id: string; sku: string }>(app, shop, "/v1/products", { sku: `SKU-${unique()}`, name: "Kettle", ...fields });

export const makeExpert = (app: App, shop: TestShop, fields: Payload = {}) =>
  create<{ id: string; phone: string; status: string }>(app, shop, "/v1/experts", {
    phone: nextPhone(),
    name: "Dan Brewer",
    timeZone: "America/Chicago",
    skills: [{ tag: "all-grain", level: 4 }],
    ...fields,
  });

export const makePool = (app: App, shop: TestShop, fields: Payload = {}) =>
  create<{ id: string }>(app, shop, "/v1/pools", {
    name: `Pool ${unique()}`,
    tags: ["all-grain"],
    pricing: { mode: "per_session", amountMinor: 1500, platformFeeBps: 2000 },
    ...fields,
  });

export function request(app: App, shop: TestShop, options: InjectOptions) {
  return app.inject({ ...options, headers: { ...shop.headers, ...(options.headers ?? {}) } });
}
