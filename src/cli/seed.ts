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
import { addDemoCatalog, DEMO_SHOP_NAME } from "./demo-data.js";

const CREDENTIALS_FILE = ".expertline/demo-shop.json";
const DEMO_SLUG = "demo-brew-barn";

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
    const created = await shops.createShop({ name: DEMO_SHOP_NAME, slug: DEMO_SLUG, currency: "USD" });
    shop = created.shop;
    credentials = { shopId: shop.id, apiKey: created.apiKey.key };
    const { maya } = await addDemoCatalog(deps, shop.id);
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
