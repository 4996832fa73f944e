/**
 * Conversations that end from outside the conversation's own number: the
 * expert's DONE to the expert line, and a STOP to the proxy number.
 */
import { describe, expect, it } from "vitest";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { expertLine, makeRoutingWorld } from "../helpers/routing.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
const CODE = /Reply YES ([2-9A-HJ-NP-Z]{3}) to take it/;

async function openConversation() {
  const { app, deps, text, inbox } = ctx();
  const shop = await makeShop(app);
  const { product, experts } = await makeRoutingWorld(app, deps, shop, { experts: [{ name: "Dan", maxConcurrentSessions: 2 }] });
  const line = await expertLine(deps, shop.id);
  const customer = nextPhone();
  await text(customer, line, "Is my kettle ok?");
  const expert = experts[0]!;
  await text(expert.phone, line, `YES ${CODE.exec(inbox(expert.phone).at(-1) ?? "")?.[1]}`);
  const session = await deps.prisma.session.findFirstOrThrow({ where: { customerPhone: customer }, include: { proxyNumber: true } });
  expect(session.status).toBe("active");
  return { shop, product, expert, line, customer, session, proxy: session.proxyNumber!.e164 };
}

describe("ending a conversation from elsewhere", () => {
  it("an expert's DONE to the expert line ends their one open conversation", async () => {
    const { deps, text, inbox } = ctx();
    const { expert, line, customer, session } = await openConversation();
    await text(expert.phone, line, "done");
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ status: "ended", endedBy: "expert" });
    expect(inbox(customer).at(-1)).toMatch(/How did Dan do\? Reply 1-5/);
  });

  it("with two open, DONE to the expert line asks which", async () => {
    const { deps, text, inbox } = ctx();
    const first = await openConversation();
    const other = nextPhone();
    await text(other, first.line, "Another one about my kettle");
    await text(first.expert.phone, first.line, `YES ${CODE.exec(inbox(first.expert.phone).filter((body) => CODE.test(body)).at(-1) ?? "")?.[1]}`);
    expect(await deps.prisma.session.count({ where: { expertId: first.expert.id, status: "active" } })).toBe(2);
    await text(first.expert.phone, first.line, "DONE");
    expect(inbox(first.expert.phone).at(-1)).toBe("You have more than one conversation open: text DONE to the number of the one you want to end.");
    expect(await deps.prisma.session.count({ where: { expertId: first.expert.id, status: "active" } })).toBe(2);
  });

  it("STOP to the proxy number ends the conversation and the other side is told; nothing is relayed after", async () => {
    const { deps, text, inbox } = ctx();
    const { expert, customer, session, proxy } = await openConversation();
    await text(customer, proxy, "STOP");
    expect(await deps.prisma.session.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ status: "ended", endedBy: "customer" });
    expect(inbox(expert.phone).at(-1)).toMatch(/ended the conversation/);
    const before = inbox(customer).length;
    await text(expert.phone, proxy, "are you there?");
    expect(inbox(customer)).toHaveLength(before);
  });
});
