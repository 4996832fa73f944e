/**
 * Set-up for routing tests: experts who can take offers right away. Joining
 * by SMS and vetting have their own tests; here they are set-up, written
 * straight to the rows.
 */
import type { App } from "../../src/app.js";
import type { Deps } from "../../src/deps.js";
import { createNumberService } from "../../src/modules/telephony/numbers.js";
import { makeExpert, makePool, makeProduct, type TestShop } from "./factories.js";

type Payload = Record<string, unknown>;

/** An expert who joined, was approved and is available (no schedule, no quiet hours). */
export async function makeReadyExpert(app: App, deps: Pick<Deps, "prisma">, shop: TestShop, fields: Payload = {}) {
  const expert = await makeExpert(app, shop, fields);
  await deps.prisma.expert.update({
    where: { id: expert.id },
    data: { status: "active", vettingStatus: "approved", vettedAt: new Date(), phoneVerifiedAt: new Date() },
  });
  return expert;
}

/** A product, a pool covering it, and `experts` ready members holding its tag. */
export async function makeRoutingWorld(
  app: App,
  deps: Pick<Deps, "prisma">,
  shop: TestShop,
  options: { experts?: Payload[]; pool?: Payload; product?: Payload } = {},
) {
  const product = await makeProduct(app, shop, { name: "Grainfather G30", tags: ["all-grain"], ...options.product });
  const pool = await makePool(app, shop, { productIds: [product.id], ...options.pool });
  const experts = [];
  for (const fields of options.experts ?? [{}]) {
    const expert = await makeReadyExpert(app, deps, shop, fields);
    const added = await app.inject({ method: "POST", url: `/v1/pools/${pool.id}/members`, headers: shop.headers, payload: { expertId: expert.id } });
    if (added.statusCode >= 300) throw new Error(`adding a pool member failed: ${added.body}`);
    experts.push(expert);
  }
  return { product, pool, experts };
}

/** The shop's expert line, bought from the sandbox on first need (as intake does). */
export async function expertLine(deps: Deps, shopId: string): Promise<string> {
  return (await createNumberService(deps).ensureExpertLine(shopId)).e164;
}
