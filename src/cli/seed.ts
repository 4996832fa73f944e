/**
 * `npm run db:seed`: a demo shop to try the API with, created once. Its API
 * key is only known at creation (we store a hash), so it is written to
 * .expertline/demo-shop.json for the start command to print every time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadConfigOrExit, loadDatabaseUrl } from "../config.js";
import { createPrisma } from "../deps.js";
import { systemClock } from "../lib/clock.js";
import { createShopService } from "../modules/shops/service.js";
import { createPoolService } from "../modules/pools/service.js";
import { createProductService } from "../modules/products/service.js";

const CREDENTIALS_FILE = ".expertline/demo-shop.json";
const DEMO_SLUG = "demo-brew-barn";
/** The demo expert's simulated phone (the README's routing walkthrough). */
const DEMO_EXPERT_PHONE = "+13125550142";

interface DemoCredentials {
  shopId: string;
  apiKey: string;
}

function readCredentials(shopId: string): DemoCredentials | null {
  if (!existsSync(CREDENTIALS_FILE)) return null;
  const saved = JSON.parse(readFileSync(CREDENTIALS_FILE, "utf8")) as DemoCredentials;
  return saved.shopId === shopId ? saved : null;
}

const prisma = createPrisma(loadConfigOrExit(() => loadDatabaseUrl()));
const deps = { prisma, clock: systemClock };
const shops = createShopService(deps);
try {
  let shop = await prisma.shop.findUnique({ where: { slug: DEMO_SLUG } });
  let credentials = shop ? readCredentials(shop.id) : null;
  if (!shop) {
    const created = await shops.createShop({ name: "Demo Brew Barn", slug: DEMO_SLUG, currency: "USD" });
    shop = created.shop;
    credentials = { shopId: shop.id, apiKey: created.apiKey.key };
    const products = createProductService(deps);
    const kettle = await products.createProduct(shop.id, {
      sku: "KETTLE-10G",
      name: "10 gallon brew kettle",
      description: "Stainless kettle with ball valve and thermometer",
      tags: ["all-grain", "equipment"],
      aliases: ["kettle", "brew kettle"],
      expertNoun: "kettle brewer",
    });
    const kit = await products.createProduct(shop.id, {
      sku: "KIT-IPA",
      name: "West Coast IPA all-grain kit",
      description: "",
      tags: ["all-grain", "hops", "mash"],
      aliases: ["IPA kit", "IPA"],
      expertNoun: "IPA brewer",
    });
    const pool = await createPoolService(deps).createPool(shop.id, {
      name: "All-grain brewers",
      tags: ["all-grain", "mash"],
      productIds: [kettle.id, kit.id],
      pricing: { mode: "per_session", amountMinor: 1500, currency: "USD", platformFeeBps: 2000 },
      offerPolicy: { mode: "sequential", timeoutSeconds: 120, fanout: 1 },
      callCapMinutes: 60,
    });
    // Maya takes the walkthrough's questions on a simulated phone. Joining by SMS and
    // vetting have their own walkthrough; here she starts active and approved.
    const maya = await prisma.expert.create({
      data: {
        shopId: shop.id,
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
    console.log(`seeded demo shop "${shop.name}" with expert ${maya.name}`);
  }
  if (!credentials) {
    // The shop exists but this checkout lost its key: issue a fresh one.
    const apiKey = await shops.createApiKey(shop.id, "Demo key");
    credentials = { shopId: shop.id, apiKey: apiKey.key };
  }
  mkdirSync(".expertline", { recursive: true });
  writeFileSync(CREDENTIALS_FILE, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
} finally {
  await prisma.$disconnect();
}
