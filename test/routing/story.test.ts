/**
 * The story of the routing issue, end to end through the sandbox's phones
 * and the real workers: a question by REST and another by SMS each end in a
 * rated conversation through a masked number; a customer who asks again is
 * offered their earlier expert first.
 */
import { describe, expect, it } from "vitest";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;
/** E.164, or a run of 10+ digits with separators (dates and times in JSON are neither). */
const PHONE = /\+\d{8,15}|\d{3}[\s.)-]*\d{3}[\s.-]*\d{4}/;

describe("the routing story", () => {
  it("a REST question and an SMS question each end in a rated conversation, masked both ways", async () => {
    const { app, deps, sandbox, text, inbox, settle } = ctx();
    const shop = await makeShop(app, "Brew Barn");
    const { product, experts, pool } = await makeRoutingWorld(app, deps, shop, {
      product: { name: "Grainfather G30", aliases: ["G30"], expertNoun: "Grainfather brewer" },
      experts: [{ name: "Dan Brewer", skills: [{ tag: "all-grain", level: 5 }] }],
    });
    const dan = experts[0]!;
    const line = await expertLine(deps, shop.id);
    const sam = nextPhone();

    // 1. Sam asks on the shop's site, with the shop's chat bot's hand-off.
    const asked = await app.inject({
      method: "POST",
      url: "/v1/questions",
      headers: shop.headers,
      payload: {
        text: "Should I add hot acid water at mash-out?",
        customer: { phone: sam, name: "Sam Lee" },
        productId: product.id,
        context: { source: "chat-bot", transcript: "Sam: my mash pH is 5.8\nBot: let me find a person" },
      },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    await settle();
    const question = asked.json<{ id: string; statusUrl: string }>();
    expect(inbox(sam)[0]).toContain(question.statusUrl);

    // 2. Dan takes it.
    const code = CODE.exec(inbox(dan.phone).at(-1) ?? "")?.[1];
    expect(code).toBeDefined();
    await text(dan.phone, line, `YES ${code}`);
    const session = await deps.prisma.session.findFirstOrThrow({ where: { questionId: question.id }, include: { proxyNumber: true } });
    const proxy = session.proxyNumber!.e164;
    expect(proxy).not.toBe(line);
    const danIntro = sandbox.state.phones.get(dan.phone)!.messages.at(-1)!;
    expect(danIntro).toMatchObject({ direction: "received", peer: proxy });
    expect(danIntro.body).toMatch(/Sam asks: "Should I add hot acid water at mash-out\?"/);
    expect(danIntro.body).toContain("mash pH is 5.8");
    expect(inbox(sam).at(-1)).toMatch(/Dan, a fellow Grainfather brewer, will answer you here/);

    // 3. They talk through the masked number; each sees only the proxy.
    await text(dan.phone, proxy, "Yes, about 2 quarts at 170F.");
    expect(inbox(sam).at(-1)).toBe("Dan: Yes, about 2 quarts at 170F.");
    await text(sam, proxy, "Thanks, doing it now");
    expect(inbox(dan.phone).at(-1)).toBe("Sam: Thanks, doing it now");
    for (const phone of [sam, dan.phone]) {
      const peers = new Set(sandbox.state.phones.get(phone)!.messages.map((message) => message.peer));
      expect(peers.has(phone === sam ? dan.phone : sam)).toBe(false);
    }

    // 4. Sam ends it and rates it.
    await text(sam, proxy, "DONE");
    expect(inbox(dan.phone).at(-1)).toMatch(/Sam ended the conversation/);
    expect(inbox(sam).at(-1)).toMatch(/How did Dan do\? Reply 1-5/);
    await text(sam, proxy, "5");
    await text(sam, proxy, "Spot on, thanks");
    const rated = await deps.prisma.expert.findUniqueOrThrow({ where: { id: dan.id } });
    expect(rated).toMatchObject({ ratingSum: 5, ratingCount: 1, offersAccepted: 1 });
    const detail = (await app.inject({ method: "GET", url: `/v1/questions/${question.id}`, headers: shop.headers })).json();
    expect(detail.status).toBe("answered");
    expect(detail.session).toMatchObject({ status: "ended", endedBy: "customer", rating: { score: 5, comment: "Spot on, thanks" } });
    expect(detail.timeline.map((event: { kind: string }) => event.kind)).toEqual([
      "received",
      "searching",
      "offered",
      "accepted",
      "session_started",
      "session_ended",
      "rated",
    ]);

    // The customer's ticket shows the story, and nobody's number.
    const token = question.statusUrl.split("/q/")[1]!;
    const ticket = await app.inject({ method: "GET", url: `/q/${token}`, headers: { accept: "application/json" } });
    expect(ticket.statusCode).toBe(200);
    expect(ticket.body).not.toMatch(PHONE);
    const page = await app.inject({ method: "GET", url: `/q/${token}` });
    expect(page.body).toContain("Dan");
    for (const phone of [sam, dan.phone, proxy, line]) expect(page.body).not.toContain(phone.slice(2));

    // 5. Kim texts the expert line, naming the product by its alias.
    const kim = nextPhone();
    await deps.prisma.pool.update({ where: { id: pool.id }, data: { offerMode: "sequential" } });
    await text(kim, line, "My G30 pump is rattling, normal?");
    expect(inbox(kim)[0]).toMatch(/^Hi there! Brew Barn got your question about Grainfather G30\./);
    const kimCode = CODE.exec(inbox(dan.phone).at(-1) ?? "")?.[1];
    await text(dan.phone, line, `yes ${kimCode}`);
    const kimSession = await deps.prisma.session.findFirstOrThrow({ where: { customerPhone: kim }, include: { proxyNumber: true } });
    const kimProxy = kimSession.proxyNumber!.e164;
    await text(kim, kimProxy, "It started after cleaning");
    expect(inbox(dan.phone).at(-1)).toBe("Customer: It started after cleaning");
    await text(dan.phone, kimProxy, "Reseat the impeller cover. Done here?");
    expect(inbox(kim).at(-1)).toBe("Dan: Reseat the impeller cover. Done here?");
    await text(dan.phone, kimProxy, "done");
    expect(inbox(kim).at(-1)).toMatch(/Dan ended the conversation\. How did Dan do\? Reply 1-5/);
    await text(kim, kimProxy, "4");
    expect(await deps.prisma.expert.findUniqueOrThrow({ where: { id: dan.id } })).toMatchObject({ ratingSum: 9, ratingCount: 2 });
    const kimQuestion = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: kim } });
    expect(kimQuestion).toMatchObject({ channel: "sms", status: "answered", productId: product.id });

    expect(sandbox.state.contractViolations).toEqual([]);
  }, 60_000);

  it("asks which product when the text names none, and the reply picks it", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app, "Hop Shop");
    const { experts } = await makeRoutingWorld(app, deps, shop, { product: { name: "Kegerator" } });
    await app.inject({ method: "POST", url: "/v1/products", headers: shop.headers, payload: { sku: "FERM-1", name: "Fermenter", tags: ["all-grain"] } });
    const line = await expertLine(deps, shop.id);
    const ola = nextPhone();
    await text(ola, line, "It leaks at the tap");
    expect(inbox(ola)).toEqual([
      expect.stringMatching(/^Hi! Hop Shop got your question\. Which product is it about\? 1 Kegerator, 2 Fermenter\. Reply with the number\. Follow along: http\S+\/q\/[\w-]{24}$/),
    ]);
    await text(ola, line, "maybe");
    expect(inbox(ola).at(-1)).toBe("Sorry, I didn't get that. Reply with a number from 1 to 2.");
    await text(ola, line, "1");
    expect(inbox(ola).at(-1)).toMatch(/^Hi there! Hop Shop got your question about Kegerator\./);
    expect(inbox(experts[0]!.phone).at(-1)).toMatch(/^Hop Shop question about Kegerator: "It leaks at the tap"/);
    await text(ola, line, "It's the left tap");
    expect(inbox(ola).at(-1)).toBe("Got it, we've added that to your question.");
    const question = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: ola } });
    expect(question.body).toBe("It leaks at the tap\nIt's the left tap");
  });

  it("a customer who asks again about the same product is offered their earlier expert first", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { product, experts, pool } = await makeRoutingWorld(app, deps, shop, {
      experts: [{ name: "Star Expert", skills: [{ tag: "all-grain", level: 5 }] }, { name: "Earlier Expert", skills: [{ tag: "all-grain", level: 2 }] }],
    });
    const [star, earlier] = [experts[0]!, experts[1]!];
    const line = await expertLine(deps, shop.id);
    const pat = nextPhone();
    // Pat's earlier conversation about this product was with the less skilled expert.
    const earlierQuestion = await deps.prisma.question.create({
      data: { shopId: shop.id, productId: product.id, poolId: pool.id, status: "answered", statusToken: `t${Date.now()}`, channel: "sms", tags: ["all-grain"], body: "before", customerPhone: pat },
    });
    const offer = await deps.prisma.offer.create({ data: { questionId: earlierQuestion.id, expertId: earlier.id, code: "OLD", status: "accepted", expiresAt: new Date() } });
    await deps.prisma.session.create({
      data: { questionId: earlierQuestion.id, offerId: offer.id, expertId: earlier.id, shopId: shop.id, customerPhone: pat, expertPhone: earlier.phone, mode: "sms", status: "ended", endedAt: new Date() },
    });

    await text(pat, line, "Back again: the thermometer reads high");
    expect(inbox(earlier.phone).at(-1)).toMatch(CODE);
    expect(inbox(star.phone).filter((body) => CODE.test(body))).toHaveLength(0);

    // Unavailable (paused): the next question goes to another expert.
    await deps.prisma.expert.update({ where: { id: earlier.id }, data: { paused: true } });
    await deps.prisma.question.updateMany({ where: { customerPhone: pat, status: { in: ["routing", "offered"] } }, data: { status: "cancelled" } });
    await deps.prisma.offer.updateMany({ where: { expertId: earlier.id, status: "pending" }, data: { status: "cancelled" } });
    await text(pat, line, "Also the valve drips");
    expect(inbox(star.phone).at(-1)).toMatch(CODE);
  });

  it("keeps one customer's conversations with two shops apart", async () => {
    const { app, deps, text, inbox } = ctx();
    const customer = nextPhone();
    const shops = [await makeShop(app, "Shop One"), await makeShop(app, "Shop Two")];
    const experts = [];
    for (const shop of shops) {
      const { experts: [expert] } = await makeRoutingWorld(app, deps, shop);
      const line = await expertLine(deps, shop.id);
      await text(customer, line, `A question for ${shop.id}`);
      await text(expert!.phone, line, `YES ${CODE.exec(inbox(expert!.phone).at(-1) ?? "")?.[1]}`);
      experts.push(expert!);
    }
    const sessions = await deps.prisma.session.findMany({ where: { customerPhone: customer }, include: { proxyNumber: true }, orderBy: { createdAt: "asc" } });
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.proxyNumber!.e164).not.toBe(sessions[1]!.proxyNumber!.e164);
    await text(customer, sessions[0]!.proxyNumber!.e164, "to shop one's expert");
    await text(customer, sessions[1]!.proxyNumber!.e164, "to shop two's expert");
    expect(inbox(experts[0]!.phone).at(-1)).toBe("Customer: to shop one's expert");
    expect(inbox(experts[1]!.phone).at(-1)).toBe("Customer: to shop two's expert");
  });
});
