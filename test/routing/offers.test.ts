/**
 * Offers through the sandbox's phones and the real workers: the offer SMS,
 * YES and NO with codes, sequential and broadcast policies, timeouts with
 * escalation and the pause after three misses, widening, expiry and cancel.
 */
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/deps.js";
import { QUEUES } from "../../src/jobs/define.js";
import { SWEEP_ROUTING } from "../../src/modules/routing/sweep.js";
import { makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { makeReadyExpert, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let maintenance: Queue;

beforeAll(() => {
  const { deps } = ctx();
  maintenance = new Queue(QUEUES.maintenance, { connection: createRedis(deps.config.REDIS_URL, "worker"), prefix: deps.queuePrefix });
});
afterAll(async () => {
  await maintenance.close();
});

const OFFER = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it, NO \1 to pass$/;

async function ask(shop: TestShop, fields: Record<string, unknown> = {}) {
  const { app, settle } = ctx();
  const customer = nextPhone();
  const response = await app.inject({
    method: "POST",
    url: "/v1/questions",
    headers: shop.headers,
    payload: { text: "Should I add hot acid water at mash-out?", customer: { phone: customer, name: "Sam Smith" }, ...fields },
  });
  expect(response.statusCode, response.body).toBe(201);
  await settle();
  return { question: response.json<{ id: string; statusUrl: string; status: string }>(), customer };
}

async function lineOf(shopId: string) {
  return (await ctx().deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId, purpose: "expert_line" } })).e164;
}

function codeIn(body: string | undefined): string {
  const match = OFFER.exec(body ?? "");
  if (!match?.[1]) throw new Error(`not an offer: ${body}`);
  return match[1];
}

async function detail(shop: TestShop, id: string) {
  const response = await ctx().app.inject({ method: "GET", url: `/v1/questions/${id}`, headers: shop.headers });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{
    status: string;
    widenLevel: number;
    offers: { expertId: string; status: string; rank: number; reasons: { factor: string; detail: string }[] }[];
    timeline: { kind: string }[];
    session: { status: string } | null;
  }>();
}

async function expireOffersNow(questionId: string) {
  const { deps } = ctx();
  await deps.prisma.offer.updateMany({ where: { questionId, status: "pending" }, data: { expiresAt: new Date(Date.now() - 10_000) } });
  await maintenance.add(SWEEP_ROUTING, {});
  await ctx().settle();
}

describe("a question by REST", () => {
  it("texts the customer their status link and offers the best expert with a code, product, excerpt and pay", async () => {
    const { app, deps, inbox } = ctx();
    const shop = await makeShop(app, "Brew Barn");
    const { experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Dan Brewer", skills: [{ tag: "all-grain", level: 5 }] }] });
    const { question, customer } = await ask(shop, { productId: (await deps.prisma.product.findFirstOrThrow({ where: { shopId: shop.id } })).id });

    expect(question.statusUrl).toMatch(/\/q\/[\w-]{24}$/);
    expect(inbox(customer)).toEqual([`Hi Sam! Brew Barn got your question about Grainfather G30. We're finding an expert and will text you here. Follow along: ${question.statusUrl}`]);
    const [offer] = inbox(experts[0]!.phone).slice(-1);
    expect(offer).toMatch(/^Brew Barn question about Grainfather G30: "Should I add hot acid water at mash-out\?" Pays \$12\.00\. Open 2 min\. /);
    expect(offer).toMatch(OFFER);
    expect(offer).not.toContain(customer);

    const seen = await detail(shop, question.id);
    expect(seen.status).toBe("offered");
    expect(seen.offers).toHaveLength(1);
    expect(seen.offers[0]).toMatchObject({ expertId: experts[0]!.id, status: "pending", rank: 1 });
    expect(seen.offers[0]!.reasons.map((reason) => reason.factor).sort()).toEqual(["continuity", "fairness", "rating", "response_rate", "tag_fit"]);
    expect(seen.timeline.map((event) => event.kind)).toEqual(["received", "searching", "offered"]);
  });

  it("refuses a question with neither product nor tags, and another shop's product", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const other = await makeShop(app);
    const { product } = await makeRoutingWorld(app, ctx().deps, other);
    const bare = await app.inject({ method: "POST", url: "/v1/questions", headers: shop.headers, payload: { text: "hi", customer: { phone: nextPhone() } } });
    expect(bare.statusCode).toBe(422);
    expect(bare.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(bare.json().errors.map((error: { path: string }) => error.path)).toEqual(["body.productId", "body.tags"]);
    const foreign = await app.inject({
      method: "POST",
      url: "/v1/questions",
      headers: shop.headers,
      payload: { text: "hi", customer: { phone: nextPhone() }, productId: product.id },
    });
    expect(foreign.statusCode).toBe(422);
    const badPhone = await app.inject({ method: "POST", url: "/v1/questions", headers: shop.headers, payload: { text: "hi", tags: ["x"], customer: { phone: "12" } } });
    expect(badPhone.statusCode).toBe(400);
    const premium = await app.inject({ method: "POST", url: "/v1/questions", headers: shop.headers, payload: { text: "hi", tags: ["x"], customer: { phone: "+19005550123" } } });
    expect(premium.statusCode).toBe(422);
    expect(premium.json().errors).toEqual([expect.objectContaining({ path: "body.customer.phone", code: "sms-costly-number" })]);
    expect(await ctx().deps.prisma.question.count({ where: { shopId: shop.id } })).toBe(0);
  });

  it("an empty text to the expert line (a picture) asks for words and opens nothing; follow-ups are acknowledged once", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app, "Quiet Shop");
    const { product } = await makeRoutingWorld(app, deps, shop, { experts: [] });
    await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    const customer = nextPhone();
    await text(customer, line, "   ");
    expect(inbox(customer)).toEqual(["Hi! This is Quiet Shop's expert line. Text your question in words and we'll find an expert to answer you."]);
    expect(await deps.prisma.question.count({ where: { customerPhone: customer } })).toBe(0);
    await text(customer, line, "Is the kettle ok on induction?");
    await text(customer, line, "It's the 10 gallon one");
    await text(customer, line, "Thanks");
    expect(inbox(customer).filter((body) => body === "Got it, we've added that to your question.")).toHaveLength(1);
    expect((await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: customer } })).body).toBe("Is the kettle ok on induction?\nIt's the 10 gallon one\nThanks");
  });
});

describe("sequential offers", () => {
  it("NO moves to the next expert at once; YES wins and the question is matched", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, {
      experts: [
        { name: "Ann Top", skills: [{ tag: "all-grain", level: 5 }] },
        { name: "Bob Next", skills: [{ tag: "all-grain", level: 3 }] },
      ],
    });
    const { question } = await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    const ann = experts[0]!;
    const bob = experts[1]!;
    expect(inbox(ann.phone).at(-1)).toMatch(OFFER);
    expect(inbox(bob.phone).filter((body) => OFFER.test(body))).toHaveLength(0);

    await text(ann.phone, line, `no ${codeIn(inbox(ann.phone).at(-1))}`);
    expect(inbox(ann.phone).at(-1)).toBe("No problem, thanks for letting us know.");
    expect(inbox(bob.phone).at(-1)).toMatch(OFFER);

    await text(bob.phone, line, `YES ${codeIn(inbox(bob.phone).at(-1))}`);
    const seen = await detail(shop, question.id);
    expect(["matched", "in_session"]).toContain(seen.status);
    expect(seen.offers.map((offer) => offer.status)).toEqual(["declined", "accepted"]);
    expect(await deps.prisma.session.count({ where: { questionId: question.id } })).toBe(1);
    const counted = await deps.prisma.expert.findMany({ where: { id: { in: [ann.id, bob.id] } }, orderBy: { name: "asc" } });
    expect(counted.map((expert) => [expert.offersReceived, expert.offersDeclined, expert.offersAccepted])).toEqual([
      [1, 1, 0],
      [1, 0, 1],
    ]);
  });

  it("a timeout moves on; three misses in a row pause the expert, who is told ON brings them back", async () => {
    const { app, deps, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts, pool } = await makeRoutingWorld(app, deps, shop, {
      experts: [{ name: "Sleepy Sue", skills: [{ tag: "all-grain", level: 5 }] }, { name: "Eve Awake", skills: [{ tag: "all-grain", level: 1 }] }],
    });
    await deps.prisma.pool.update({ where: { id: pool.id }, data: { offerTimeoutSeconds: 1 } });
    const sue = experts[0]!;
    const eve = experts[1]!;
    for (let miss = 1; miss <= 3; miss++) {
      const { question } = await ask(shop, { productId: product.id });
      // Sue ranks first each time; her offer times out (the real delayed job), then Eve gets one at once.
      await expect.poll(async () => (await detail(shop, question.id)).offers.map((offer) => [offer.expertId, offer.status]), { timeout: 8_000 }).toEqual(
        expect.arrayContaining([[sue.id, "expired"], [eve.id, expect.any(String)]]),
      );
      await ctx().settle();
      expect(inbox(eve.phone).filter((body) => OFFER.test(body))).toHaveLength(miss);
      await deps.prisma.offer.updateMany({ where: { questionId: question.id, status: "pending" }, data: { status: "cancelled" } });
      await deps.prisma.question.update({ where: { id: question.id }, data: { status: "cancelled" } });
      await deps.prisma.expert.update({ where: { id: eve.id }, data: { missedOffersInRow: 0, paused: false } });
    }
    const paused = await deps.prisma.expert.findUniqueOrThrow({ where: { id: sue.id } });
    expect(paused).toMatchObject({ paused: true, missedOffersInRow: 3, offersTimedOut: 3 });
    expect(inbox(sue.phone).at(-1)).toBe("You missed 3 questions in a row, so we've paused new ones. Reply ON when you're ready again.");
    expect(inbox(sue.phone).filter((body) => body.startsWith("You missed"))).toHaveLength(1);
  });
});

describe("broadcast offers", () => {
  it("reaches the top fanout at once; the first YES wins and the others hear it is taken", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, {
      pool: { offerPolicy: { mode: "broadcast", fanout: 2, timeoutSeconds: 120 } },
      experts: [{ name: "A One" }, { name: "B Two" }, { name: "C Three" }],
    });
    const { question } = await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    const offered = experts.filter((expert) => OFFER.test(inbox(expert.phone).at(-1) ?? ""));
    expect(offered).toHaveLength(2);
    const winner = offered[0]!;
    const loser = offered[1]!;
    await text(winner.phone, line, `yes ${codeIn(inbox(winner.phone).at(-1))}`);
    expect(inbox(loser.phone).at(-1)).toBe("Already taken, thanks!");
    const lateCode = codeIn(inbox(loser.phone).at(-2));
    await text(loser.phone, line, `YES ${lateCode}`);
    expect(inbox(loser.phone).at(-1)).toBe("Already taken, thanks!");
    expect((await detail(shop, question.id)).offers.map((offer) => offer.status).sort()).toEqual(["accepted", "lost"]);
    expect(await deps.prisma.session.count({ where: { questionId: question.id } })).toBe(1);
  });
});

describe("replies without a code", () => {
  it("a bare YES takes the one open offer; with two open it asks which; an unknown code is explained", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Solo Sam", maxConcurrentSessions: 3 }] });
    const solo = experts[0]!;
    await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    await ask(shop, { productId: product.id });
    expect(inbox(solo.phone).filter((body) => OFFER.test(body))).toHaveLength(2);
    await text(solo.phone, line, "yes");
    expect(inbox(solo.phone).at(-1)).toMatch(/^You have 2 open questions: reply YES [2-9A-HJ-NP-Z]{3} \(or [2-9A-HJ-NP-Z]{3}\) to pick one\.$/);
    await text(solo.phone, line, "YES ZZZ");
    expect(inbox(solo.phone).at(-1)).toBe("There's no open question with code ZZZ. Reply STATUS to see yours.");
    const first = codeIn(inbox(solo.phone).find((body) => OFFER.test(body)));
    await text(solo.phone, line, `YES ${first}`);
    await text(solo.phone, line, "Yes!");
    expect(await deps.prisma.session.count({ where: { expertId: solo.id } })).toBe(2);
  });
});

describe("an expert at their conversation cap", () => {
  it("cannot take a second offer until a conversation ends, and is told how", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Cap Carl", maxConcurrentSessions: 1 }] });
    const carl = experts[0]!;
    const first = await ask(shop, { productId: product.id });
    const second = await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    const codes = inbox(carl.phone).filter((body) => OFFER.test(body)).map(codeIn);
    expect(codes).toHaveLength(2);
    await text(carl.phone, line, `YES ${codes[0]}`);
    await text(carl.phone, line, `YES ${codes[1]}`);
    expect(inbox(carl.phone).at(-1)).toBe(`You're at your limit of open conversations. Text DONE in one, then reply YES ${codes[1]} again if it's still open.`);
    expect(await deps.prisma.session.count({ where: { expertId: carl.id } })).toBe(1);
    expect((await detail(shop, second.question.id)).status).toBe("offered");
    await text(carl.phone, line, "DONE");
    await text(carl.phone, line, `YES ${codes[1]}`);
    expect(await deps.prisma.session.count({ where: { questionId: { in: [first.question.id, second.question.id] } } })).toBe(2);
  });
});

describe("widening and expiry", () => {
  it("drops optional tags when nobody holds them, then tries every pool of the shop", async () => {
    const { app, deps, inbox } = ctx();
    const shop = await makeShop(app);
    const { product } = await makeRoutingWorld(app, deps, shop, { experts: [] });
    // Nobody in the product's pool; one expert, holding the tag, in another product's pool.
    const wide = await makeReadyExpert(app, deps, shop, { name: "Wendy Wide", skills: [{ tag: "all-grain", level: 2 }] });
    const kegs = await app.inject({ method: "POST", url: "/v1/products", headers: shop.headers, payload: { sku: "KEG", name: "Keg", tags: ["kegging"] } });
    const shopWide = await app.inject({
      method: "POST",
      url: "/v1/pools",
      headers: shop.headers,
      payload: { name: "Kegs", tags: [], productIds: [kegs.json().id], pricing: { mode: "per_session", amountMinor: 1000, platformFeeBps: 1000 } },
    });
    await app.inject({ method: "POST", url: `/v1/pools/${shopWide.json().id}/members`, headers: shop.headers, payload: { expertId: wide.id } });
    const { question } = await ask(shop, { productId: product.id, optionalTags: ["fermentation"] });
    expect(inbox(wide.phone).at(-1)).toMatch(OFFER);
    const seen = await detail(shop, question.id);
    expect(seen.widenLevel).toBe(2);
    expect(seen.timeline.filter((event) => event.kind === "widened")).toHaveLength(2);
  });

  it("with nobody at all, tells the customer once and keeps the question open; past its time to live it expires", async () => {
    const { app, deps, inbox } = ctx();
    const shop = await makeShop(app);
    const { product } = await makeRoutingWorld(app, deps, shop, { experts: [] });
    const { question, customer } = await ask(shop, { productId: product.id });
    expect(inbox(customer).at(-1)).toMatch(/^No expert is free right now\. We'll keep trying for the next 24 hours/);
    expect((await detail(shop, question.id)).status).toBe("routing");

    await deps.prisma.question.update({ where: { id: question.id }, data: { expiresAt: new Date(Date.now() - 10_000) } });
    await maintenance.add(SWEEP_ROUTING, {});
    await ctx().settle();
    const seen = await detail(shop, question.id);
    expect(seen.status).toBe("expired");
    expect(seen.timeline.at(-1)?.kind).toBe("expired");
    expect(inbox(customer).at(-1)).toMatch(/^Sorry Sam, no .* expert was free in time/);
  });

  it("the sweep closes an offer whose timeout job was lost, and moves on", async () => {
    const { app, deps, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "First", skills: [{ tag: "all-grain", level: 5 }] }, { name: "Second" }] });
    const { question } = await ask(shop, { productId: product.id });
    // The delayed timeout job is gone (Redis lost it); the row still says it is overdue.
    await deps.redis.del(`${deps.queuePrefix}:${QUEUES.routing}:delayed`);
    await expireOffersNow(question.id);
    expect((await detail(shop, question.id)).offers.map((offer) => offer.status)).toEqual(["expired", "pending"]);
    expect(inbox(experts[1]!.phone).at(-1)).toMatch(OFFER);
  });
});

describe("cancel", () => {
  it("cancels while searching (the customer is told), and refuses once an expert accepted", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts } = await makeRoutingWorld(app, deps, shop);
    const first = await ask(shop, { productId: product.id });
    const line = await lineOf(shop.id);
    const cancelled = await app.inject({ method: "POST", url: `/v1/questions/${first.question.id}/cancel`, headers: shop.headers });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe("cancelled");
    await ctx().settle();
    expect(inbox(first.customer).at(-1)).toMatch(/closed/);
    await text(experts[0]!.phone, line, `YES ${codeIn(inbox(experts[0]!.phone).at(-1))}`);
    expect(inbox(experts[0]!.phone).at(-1)).toBe("That question was closed before anyone took it, thanks!");

    const second = await ask(shop, { productId: product.id });
    await text(experts[0]!.phone, line, `YES ${codeIn(inbox(experts[0]!.phone).at(-1))}`);
    const refused = await app.inject({ method: "POST", url: `/v1/questions/${second.question.id}/cancel`, headers: shop.headers });
    expect(refused.statusCode).toBe(409);
    const other = await makeShop(app);
    expect((await app.inject({ method: "POST", url: `/v1/questions/${second.question.id}/cancel`, headers: other.headers })).statusCode).toBe(404);
  });
});
