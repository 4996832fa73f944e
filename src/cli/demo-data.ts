/**
 * The demo shop's catalogue, pool and expert: what `npm run db:seed` creates
 * for `npm run dev`, and what the README walkthroughs' tests create the same
 * way, so the two cannot drift apart.
 */
import type { Deps } from "../deps.js";
import { createPoolService } from "../modules/pools/service.js";
import { createProductService } from "../modules/products/service.js";

export const DEMO_SHOP_NAME = "Demo Brew Barn";
/** The demo expert's simulated phone (the README's walkthroughs). */
export const DEMO_EXPERT_PHONE = "+13125550142";

/** Products, a pool covering them, and Maya, an active approved expert in it. */
export async function addDemoCatalog(deps: Pick<Deps, "prisma" | "clock">, shopId: string) {
  const products = createProductService(deps);
  const kettle = await products.createProduct(shopId, {
    sku: "KETTLE-10G",
    name: "10 gallon brew kettle",
    description: "Stainless kettle with ball valve and thermometer",
    tags: ["all-grain", "equipment"],
    aliases: ["kettle", "brew kettle"],
    expertNoun: "kettle brewer",
  });
  const kit = await products.createProduct(shopId, {
    sku: "KIT-IPA",
    name: "West Coast IPA all-grain kit",
    description: "",
    tags: ["all-grain", "hops", "mash"],
    aliases: ["IPA kit", "IPA"],
    expertNoun: "IPA brewer",
  });
  const pool = await createPoolService(deps).createPool(shopId, {
    name: "All-grain brewers",
    tags: ["all-grain", "mash"],
    productIds: [kettle.id, kit.id],
    pricing: { mode: "per_session", amountMinor: 1500, minimumMinor: 0, currency: "USD", platformFeeBps: 2000 },
    offerPolicy: { mode: "sequential", timeoutSeconds: 120, fanout: 1 },
    callCapMinutes: 60,
  });
  // Maya takes the walkthroughs' questions on a simulated phone. Joining by SMS and
  // vetting have their own walkthrough; here she starts active and approved.
  const maya = await deps.prisma.expert.create({
    data: {
      shopId,
      phone: DEMO_EXPERT_PHONE,
      name: "Maya Lopez",
      timeZone: "America/Chicago",
      status: "active",
      vettingStatus: "approved",
      vettedAt: new Date(),
      phoneVerifiedAt: new Date(),
      maxConcurrentSessions: 3,
      skills: { create: [{ tag: "all-grain", level: 5 }, { tag: "mash", level: 4 }, { tag: "hops", level: 3 }, { tag: "equipment", level: 4 }] },
      memberships: { create: [{ poolId: pool.id }] },
    },
  });
  return { kettle, kit, pool, maya };
}
