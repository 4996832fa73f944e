/**
 * Set-up for session tests: a shop with a product, a pool and ready experts,
 * and an accepted question written straight to the rows, exactly as
 * acceptance commits it (Offer accepted, Question matched, Session
 * connecting, the start-session job in the outbox, one transaction).
 * Acceptance has its own tests; here it only stands in.
 */
import { randomBytes } from "node:crypto";
import type { Prisma } from "../../src/generated/prisma/client.js";
import { QUEUES } from "../../src/jobs/define.js";
import { enqueue } from "../../src/modules/outbox/outbox.js";
import { START_SESSION } from "../../src/modules/sessions/jobs.js";
import { makeShop, nextPhone } from "../helpers/factories.js";
import { makeRoutingWorld } from "../helpers/routing.js";
import type { TelephonyContext } from "../helpers/telephony.js";

type Payload = Record<string, unknown>;

export async function makeSessionWorld(
  ctx: TelephonyContext,
  options: { shopName?: string; experts?: Payload[]; product?: Payload; expertNoun?: string | null; sessionIdleSeconds?: number } = {},
) {
  const { app, deps } = ctx;
  const shop = await makeShop(app, options.shopName);
  const world = await makeRoutingWorld(app, deps, shop, {
    experts: options.experts ?? [{ name: "Dan Brewer" }],
    ...(options.product ? { product: options.product } : {}),
  });
  await deps.prisma.product.update({ where: { id: world.product.id }, data: { expertNoun: options.expertNoun === undefined ? "Grainfather brewer" : options.expertNoun } });
  if (options.sessionIdleSeconds !== undefined) {
    await deps.prisma.pool.update({ where: { id: world.pool.id }, data: { sessionIdleSeconds: options.sessionIdleSeconds } });
  }
  return { shop, ...world };
}

export type SessionWorld = Awaited<ReturnType<typeof makeSessionWorld>>;

export interface AcceptedQuestion {
  questionId: string;
  offerId: string;
  sessionId: string;
  customerPhone: string;
  expertPhone: string;
}

/** What acceptance commits, in one transaction; the start-session job then runs in the real workers. */
export async function acceptQuestion(
  ctx: TelephonyContext,
  world: SessionWorld,
  input: {
    expert?: { id: string; phone: string };
    customerPhone?: string;
    customerName?: string | null;
    body?: string;
    context?: Prisma.InputJsonValue;
    withProduct?: boolean;
  } = {},
): Promise<AcceptedQuestion> {
  const expert = input.expert ?? world.experts[0];
  if (!expert) throw new Error("the world has no expert");
  const customerPhone = input.customerPhone ?? nextPhone();
  const now = new Date();
  return ctx.deps.prisma.$transaction(async (tx) => {
    const question = await tx.question.create({
      data: {
        shopId: world.shop.id,
        productId: input.withProduct === false ? null : world.product.id,
        poolId: world.pool.id,
        status: "matched",
        statusToken: randomBytes(12).toString("hex"),
        channel: "api",
        tags: ["all-grain"],
        body: input.body ?? "My mash is stuck at 60C, what should I do?",
        customerPhone,
        customerName: input.customerName === undefined ? "Sam Taylor" : input.customerName,
        ...(input.context === undefined ? {} : { context: input.context }),
        matchedExpertId: expert.id,
        searchStartedAt: now,
      },
    });
    const offer = await tx.offer.create({
      data: { questionId: question.id, expertId: expert.id, code: "7KQ", status: "accepted", sentAt: now, respondedAt: now, expiresAt: new Date(now.getTime() + 60_000) },
    });
    const session = await tx.session.create({
      data: {
        questionId: question.id,
        offerId: offer.id,
        expertId: expert.id,
        shopId: world.shop.id,
        customerPhone,
        expertPhone: expert.phone,
        mode: "sms",
        status: "connecting",
      },
    });
    await enqueue(tx, { queue: QUEUES.sessions, name: START_SESSION, payload: { sessionId: session.id }, jobId: `start-session-${session.id}` });
    return { questionId: question.id, offerId: offer.id, sessionId: session.id, customerPhone, expertPhone: expert.phone };
  });
}

/** Texts a phone received from one number, oldest first. */
export function textsFrom(ctx: TelephonyContext, phone: string, from: string): string[] {
  return (ctx.sandbox.state.phones.get(phone)?.messages ?? [])
    .filter((message) => message.direction === "received" && message.peer === from)
    .map((message) => message.body);
}

/** The platform numbers that texted a phone. */
export function sendersTo(ctx: TelephonyContext, phone: string): string[] {
  return [...new Set((ctx.sandbox.state.phones.get(phone)?.messages ?? []).filter((message) => message.direction === "received").map((message) => message.peer))];
}

export async function proxyOf(ctx: TelephonyContext, sessionId: string): Promise<string> {
  const session = await ctx.deps.prisma.session.findUniqueOrThrow({ where: { id: sessionId }, include: { proxyNumber: true } });
  if (!session.proxyNumber) throw new Error("the session has no proxy number");
  return session.proxyNumber.e164;
}
