/**
 * The product emits its events from its own transactions, end to end
 * through the sandbox's phones and the real workers: a question asked by
 * REST reaches the shop's receiver as question.created, and the story goes
 * on (assigned, session started and ended, rated); a cancelled question
 * says so. Every body is signed and holds no phone number.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeShop, nextPhone, request, type TestShop } from "../helpers/factories.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { readmeVerifier, startReceiver, type Receiver, type Verify } from "./world.js";

const ctx = useTelephonyContext();
const CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;
/** Any E.164 number. */
const E164 = /\+\d{8,15}/;
/** The participants' numbers, checked in national form too (ids are full of digits, so no looser pattern). */
const phones: string[] = [];

interface Event {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

let verify: Verify;
let hooks: Receiver;
let shop: TestShop;
let secret: string;

beforeAll(async () => {
  verify = await readmeVerifier();
  hooks = await startReceiver();
  shop = await makeShop(ctx().app, "Evented Shop");
  const endpoint = await request(ctx().app, shop, { method: "POST", url: "/v1/webhook-endpoints", payload: { url: `${hooks.url}/events`, events: ["*"] } });
  expect(endpoint.statusCode, endpoint.body).toBe(201);
  secret = endpoint.json<{ secret: string }>().secret;
});

afterAll(async () => {
  await hooks.close();
});

/** Every event the receiver got, checked for a valid signature and for phone numbers on the way. */
function received(): Event[] {
  return hooks.requests.map((sent) => {
    expect(verify(sent.body, sent.headers["expertline-signature"] as string, secret)).toBe(true);
    expect(sent.body).not.toMatch(E164);
    for (const phone of phones) expect(sent.body).not.toContain(phone.slice(-10));
    return JSON.parse(sent.body) as Event;
  });
}

const ofType = (type: string) => received().filter((event) => event.type === type);

describe("events from the product", () => {
  it("a question by REST: created, assigned, session started and ended, rated", async () => {
    const { app, deps, text, inbox, settle } = ctx();
    const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Dana Brewer", skills: [{ tag: "all-grain", level: 5 }] }] });
    const dana = experts[0]!;
    const line = await expertLine(deps, shop.id);
    const sam = nextPhone();
    phones.push(sam, dana.phone);

    const asked = await app.inject({
      method: "POST",
      url: "/v1/questions",
      headers: shop.headers,
      payload: { text: `Call me at ${sam}: is my mash too thin?`, customer: { phone: sam, name: "Sam Lee" }, productId: product.id },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const question = asked.json<{ id: string }>();
    await settle();

    const [created] = ofType("question.created");
    expect(created).toMatchObject({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      data: { questionId: question.id, status: "routing", channel: "api", productId: product.id, customerFirstName: "Sam", preferredMode: "sms" },
    });

    const code = CODE.exec(inbox(dana.phone).at(-1) ?? "")?.[1];
    expect(code).toBeDefined();
    await text(dana.phone, line, `YES ${code}`);
    const session = await deps.prisma.session.findFirstOrThrow({ where: { questionId: question.id }, include: { proxyNumber: true } });
    expect(ofType("question.assigned")).toEqual([
      expect.objectContaining({ data: { questionId: question.id, sessionId: session.id, expertId: dana.id, expertFirstName: "Dana", productId: product.id, mode: "sms" } }),
    ]);
    expect(ofType("session.started")).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ sessionId: session.id, questionId: question.id, expertId: dana.id, expertFirstName: "Dana", mode: "sms" }) }),
    ]);

    const proxy = session.proxyNumber!.e164;
    await text(sam, proxy, "DONE");
    await text(sam, proxy, "4");
    const ended = await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } });
    expect(ofType("session.ended")).toEqual([
      expect.objectContaining({
        data: {
          sessionId: session.id,
          questionId: question.id,
          expertId: dana.id,
          mode: "sms",
          startedAt: ended.startedAt!.toISOString(),
          endedAt: ended.endedAt!.toISOString(),
          durationSeconds: ended.durationSeconds,
          endedBy: "customer",
        },
      }),
    ]);
    const rating = await deps.prisma.rating.findUniqueOrThrow({ where: { sessionId: session.id } });
    expect(ofType("rating.created")).toEqual([
      expect.objectContaining({ data: { ratingId: rating.id, sessionId: session.id, questionId: question.id, expertId: dana.id, score: 4 } }),
    ]);
    // One each, in the log too.
    expect(received().map((event) => event.type).sort()).toEqual(
      ["question.assigned", "question.created", "rating.created", "session.ended", "session.started"].sort(),
    );
    const endpoint = (await request(app, shop, { method: "GET", url: "/v1/webhook-endpoints" })).json<{ data: { id: string }[] }>().data[0]!;
    const log = (await request(app, shop, { method: "GET", url: `/v1/webhook-endpoints/${endpoint.id}/deliveries` })).json<{ data: { status: string }[] }>();
    expect(log.data.map((delivery) => delivery.status)).toEqual(Array(5).fill("succeeded"));
  });

  it("a cancelled question says so", async () => {
    const { app, settle } = ctx();
    const other = await makeShop(app, "Cancel Shop");
    const endpoint = await request(app, other, {
      method: "POST",
      url: "/v1/webhook-endpoints",
      payload: { url: `${hooks.url}/cancel-shop`, events: ["question.cancelled"] },
    });
    const otherSecret = endpoint.json<{ secret: string }>().secret;
    const asked = await request(app, other, {
      method: "POST",
      url: "/v1/questions",
      payload: { text: "Which yeast for a saison?", customer: { phone: nextPhone() }, tags: ["yeast"] },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const question = asked.json<{ id: string }>();
    expect((await request(app, other, { method: "POST", url: `/v1/questions/${question.id}/cancel` })).statusCode).toBe(200);
    await settle();

    const sent = hooks.requests.filter((request) => request.path === "/cancel-shop");
    expect(sent).toHaveLength(1); // question.created was not asked for
    expect(verify(sent[0]!.body, sent[0]!.headers["expertline-signature"] as string, otherSecret)).toBe(true);
    expect(JSON.parse(sent[0]!.body)).toMatchObject({ type: "question.cancelled", data: { questionId: question.id, status: "cancelled", productId: null } });
  });
});
