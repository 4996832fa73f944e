/**
 * Findings of the review of issue #7 (routing), each reproduced through the
 * sandbox's phones and the real workers: a question about nothing, a
 * customer's STOP while we still search, and an emoji cut in half.
 */
import { describe, expect, it } from "vitest";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;

describe("POST /v1/questions", () => {
  it("refuses a question with no product and an empty tag list, as with no tags at all", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await app.inject({
      method: "POST",
      url: "/v1/questions",
      headers: shop.headers,
      payload: { text: "Anything", customer: { phone: nextPhone() }, tags: [] },
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(response.json().errors.map((error: { path: string }) => error.path).sort()).toEqual(["body.productId", "body.tags"]);
  });
});

describe("a customer's STOP to the expert line", () => {
  it("while we still look for an expert ends the search: no expert takes it, no text from another number follows", async () => {
    const { app, deps, text, inbox, sandbox } = ctx();
    const shop = await makeShop(app);
    const { experts } = await makeRoutingWorld(app, deps, shop);
    const dan = experts[0]!;
    const line = await expertLine(deps, shop.id);
    const customer = nextPhone();
    await text(customer, line, "My pump rattles");
    const code = CODE.exec(inbox(dan.phone).at(-1) ?? "")?.[1];
    expect(code).toBeDefined();

    await text(customer, line, "STOP");
    const question = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: customer } });
    expect(question.status).toBe("cancelled");
    const receivedBefore = inbox(customer).length;

    await text(dan.phone, line, `YES ${code}`);
    expect(await deps.prisma.session.count({ where: { questionId: question.id } })).toBe(0);
    expect(inbox(customer)).toHaveLength(receivedBefore);
    const peers = new Set(sandbox.state.phones.get(customer)!.messages.map((message) => message.peer));
    expect([...peers]).toEqual([line]);
  });

  it("from an expert leaves the customers' searches alone", async () => {
    const { app, deps, text } = ctx();
    const shop = await makeShop(app);
    const { experts } = await makeRoutingWorld(app, deps, shop, { experts: [{}, {}] });
    const line = await expertLine(deps, shop.id);
    const customer = nextPhone();
    await text(customer, line, "Is the valve supposed to drip?");
    await text(experts[0]!.phone, line, "STOP");
    const question = await deps.prisma.question.findFirstOrThrow({ where: { customerPhone: customer } });
    expect(question.status).toBe("offered");
  });
});

describe("texts with emoji", () => {
  it("the offer's excerpt of a long emoji question never carries half an emoji", async () => {
    const { app, deps, text, inbox } = ctx();
    const shop = await makeShop(app);
    const { experts } = await makeRoutingWorld(app, deps, shop);
    const line = await expertLine(deps, shop.id);
    await text(nextPhone(), line, "😀".repeat(200));
    const offer = inbox(experts[0]!.phone).at(-1)!;
    expect(offer).toMatch(CODE);
    expect(offer).not.toContain("\uFFFD");
    expect(offer).not.toMatch(/\p{Cs}/u); // a lone surrogate; a whole emoji is one code point
  });
});
