/**
 * isUniqueViolation reads a unique violation from Prisma and from raw pg
 * alike, and tells which unique index was hit, so services map only their
 * own conflict to a 409 of their own.
 */
import { describe, expect, it } from "vitest";
import { isUniqueViolation } from "../../src/db/errors.js";
import { useTestContext } from "../helpers/context.js";

const ctx = useTestContext();

describe("isUniqueViolation", () => {
  it("recognises a Prisma P2002 and names its index", async () => {
    const { deps } = ctx();
    const data = { name: "Twice", slug: "twice", currency: "USD" };
    await deps.prisma.shop.create({ data });
    const error = await deps.prisma.shop.create({ data }).catch((caught: unknown) => caught);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(error, "Shop_slug_key")).toBe(true);
    expect(isUniqueViolation(error, "Product_shopId_sku_key")).toBe(false);
  });

  it("recognises a raw pg 23505 and names its index", async () => {
    const { deps } = ctx();
    const insert = () => deps.sql.query(`INSERT INTO "Shop" (id, name, slug, currency, "updatedAt") VALUES (gen_random_uuid(), 'Raw', 'raw-twice', 'USD', now())`);
    await insert();
    const error = await insert().catch((caught: unknown) => caught);
    expect(isUniqueViolation(error, "Shop_slug_key")).toBe(true);
    expect(isUniqueViolation(error, "Pool_shopId_name_key")).toBe(false);
  });

  it("is false for other errors", async () => {
    const { deps } = ctx();
    const error = await deps.prisma.shop.update({ where: { slug: "no-such-shop" }, data: { name: "x" } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(isUniqueViolation(error)).toBe(false);
    expect(isUniqueViolation(new Error("duplicate key"))).toBe(false);
  });
});
