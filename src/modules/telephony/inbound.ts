/**
 * What an inbound text to an expert line does. The webhook stored the
 * message; this runs in the worker. Each reply's dedupe key derives from the
 * inbound message, so running this twice replies once.
 */
import type { Deps } from "../../deps.js";
import type { Expert, Message, Prisma } from "../../generated/prisma/client.js";
import { formatMoney } from "../../lib/money.js";
import { localTime, WEEKDAYS } from "../../lib/schedule.js";
import { applyExpertEvent, setExpertPaused } from "../experts/service.js";
import { handleCustomerText } from "../questions/intake-sms.js";
import { SEARCHING_STATUSES } from "../questions/service.js";
import { closeQuestionInTx } from "../routing/offers.js";
import { handleOfferReply } from "../routing/replies.js";
import { endSession } from "../sessions/end.js";
import { endSessionOnOptOut, handleProxyText } from "../sessions/relay.js";
import { copy, PROGRAM_NAME, statusText } from "./copy.js";
import { parseInbound, TWILIO_HANDLED_OPT_OUTS, type InboundIntent } from "./keywords.js";
import { OPT_OUT_CONFIRMATION, queueSms } from "./sms.js";

type InboundDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "clock" | "config" | "logger" | "queuePrefix">;
type Tx = Prisma.TransactionClient;

function reply(tx: Tx, inbound: Message, shopId: string, body: string) {
  return queueSms(tx, {
    shopId,
    from: inbound.to,
    to: inbound.from,
    body,
    purpose: "keyword_reply",
    isReply: true,
    dedupeKey: `reply:${inbound.id}`,
  });
}

/** Monday 00:00 in the expert's zone, as an instant (close enough across a DST change for a weekly total). */
function startOfLocalWeek(now: Date, zone: string): Date {
  const { day, minute } = localTime(now, zone);
  const minutesIntoWeek = WEEKDAYS.indexOf(day) * 24 * 60 + minute;
  return new Date(now.getTime() - minutesIntoWeek * 60_000 - (now.getUTCSeconds() * 1000 + now.getUTCMilliseconds()));
}

/**
 * Net earnings as the expert reads them: "$12.00", or "$12.00 + €3.00" when
 * the week has entries in several currencies (the shop's first, then
 * alphabetical; a currency that nets to zero is left out unless all do).
 */
function earningsText(sums: { currency: string; amountMinor: number }[], shopCurrency: string): string {
  const nonZero = sums.filter((sum) => sum.amountMinor !== 0);
  if (nonZero.length === 0) return formatMoney(0, shopCurrency);
  const order = (currency: string) => (currency === shopCurrency ? "" : currency);
  return nonZero
    .sort((a, b) => (order(a.currency) < order(b.currency) ? -1 : 1))
    .map((sum) => formatMoney(sum.amountMinor, sum.currency))
    .join(" + ");
}

async function expertStatusReply(tx: Tx, expert: Expert, now: Date, currency: string): Promise<string> {
  const [openOffers, openSessions, earned] = await Promise.all([
    tx.offer.count({ where: { expertId: expert.id, status: "pending" } }),
    tx.session.count({ where: { expertId: expert.id, status: { not: "ended" } } }),
    // What the expert really keeps: earnings net of their reversals (refunds), posted since Monday in their zone.
    tx.ledgerEntry.groupBy({
      by: ["currency"],
      where: {
        expertId: expert.id,
        kind: { in: ["session_earning", "earning_reversal"] },
        createdAt: { gte: startOfLocalWeek(now, expert.timeZone) },
      },
      _sum: { amountMinor: true },
    }),
  ]);
  return statusText({
    status: expert.status,
    paused: expert.paused,
    openOffers,
    openSessions,
    earnedThisWeek: earningsText(
      earned.map((row) => ({ currency: row.currency, amountMinor: row._sum.amountMinor ?? 0 })),
      currency,
    ),
  });
}

/** The expert's keywords. Returns the reply text, or null for none. */
async function actOnExpert(
  deps: InboundDeps,
  tx: Tx,
  input: { expert: Expert; intent: InboundIntent; inbound: Message; shop: { name: string; currency: string } },
) {
  const { expert, intent, inbound, shop } = input;
  const now = deps.clock.now();
  switch (intent.kind) {
    case "join": {
      if (expert.status === "suspended") return copy.suspended(shop.name);
      await applyExpertEvent(tx, { expert, event: "phone_verified", now });
      return expert.status === "active" ? copy.alreadyJoined : copy.joined(shop.name);
    }
    case "available":
    case "pause": {
      if (expert.status === "invited") return copy.notJoinedYet;
      if (expert.status === "suspended") return copy.suspended(shop.name);
      // Texts are handled in parallel: OFF then ON may be processed ON first. The later text wins, silently.
      const applied = await setExpertPaused(tx, { expert, paused: intent.kind === "pause", at: inbound.createdAt });
      if (!applied) return null;
      return intent.kind === "pause" ? copy.paused : copy.available;
    }
    case "status":
      return expertStatusReply(tx, expert, now, shop.currency);
    case "help":
      return copy.help({ shopName: shop.name, contact: deps.config.SUPPORT_CONTACT });
    case "offer-reply":
      return null; // routing's, handled before the expert's own keywords
    case "end-session":
    case "rating":
      return (await tx.session.count({ where: { expertId: expert.id, status: { not: "ended" } } })) > 0 ? null : copy.noOpenSession;
    case "text":
      return copy.hint(expert.status);
    case "opt-out":
    case "opt-in":
      return null; // handled before we get here
  }
}

/**
 * STOP is per number pair. Twilio has already blocked the pair and sent its
 * one confirmation; we record it so we never even try to send, and then stay
 * silent. START/UNSTOP (and YES to an expert line, a Twilio opt-in word) lift it.
 */
async function recordOptOutChange(
  tx: Tx,
  input: { inbound: Message; intent: Extract<InboundIntent, { kind: "opt-out" | "opt-in" }>; shop: { id: string; name: string } | null },
) {
  const { inbound, intent, shop } = input;
  if (intent.kind === "opt-in") {
    await tx.optOut.deleteMany({ where: { phone: inbound.from, platformNumber: inbound.to } });
    return;
  }
  const { count } = await tx.optOut.createMany({ data: [{ phone: inbound.from, platformNumber: inbound.to }], skipDuplicates: true });
  // Words Twilio does not act on get our one confirmation (sent past the opt-out: it confirms it).
  if (count === 1 && !TWILIO_HANDLED_OPT_OUTS.includes(intent.keyword)) {
    await queueSms(tx, {
      shopId: shop?.id ?? null,
      from: inbound.to,
      to: inbound.from,
      body: copy.optedOut(shop?.name ?? PROGRAM_NAME),
      purpose: OPT_OUT_CONFIRMATION,
      isReply: true,
      dedupeKey: `reply:${inbound.id}`,
    });
  }
}

/**
 * A customer's STOP to the expert line while we still look for an expert:
 * the search stops too. Left open, an expert would accept and the customer
 * would be texted from a proxy number (a different pair, which their STOP
 * does not block) right after asking us to stop. A conversation already
 * under way lives on its own number, where STOP ends it.
 */
async function cancelSearchesOnOptOut(tx: Tx, inbound: Message, shopId: string, now: Date): Promise<void> {
  const isExpert = await tx.expert.findUnique({ where: { shopId_phone: { shopId, phone: inbound.from } }, select: { id: true } });
  if (isExpert) return;
  const searching = await tx.question.findMany({
    where: { shopId, customerPhone: inbound.from, status: { in: [...SEARCHING_STATUSES] } },
    select: { id: true },
  });
  for (const question of searching) await closeQuestionInTx(tx, { questionId: question.id, outcome: "cancelled", now });
}

export async function handleInboundSms(deps: InboundDeps, messageId: string): Promise<void> {
  const { prisma, logger } = deps;
  const inbound = await prisma.message.findUnique({ where: { id: messageId } });
  if (!inbound || inbound.direction !== "inbound") return;
  const line = await prisma.phoneNumber.findUnique({ where: { e164: inbound.to }, include: { shop: true } });
  if (!line) {
    logger.warn({ messageId }, "inbound text to a number that is not ours; ignored");
    return;
  }
  const intent = parseInbound(inbound.body);
  // Opt-outs come first, on every kind of number: never relayed, never answered but once.
  if (intent.kind === "opt-out" || intent.kind === "opt-in") {
    await prisma.$transaction(async (tx) => {
      await recordOptOutChange(tx, { inbound, intent, shop: line.shop });
      if (intent.kind === "opt-out" && line.purpose === "expert_line" && line.shop) await cancelSearchesOnOptOut(tx, inbound, line.shop.id, deps.clock.now());
    });
    if (intent.kind === "opt-out" && line.purpose === "proxy") await endSessionOnOptOut(deps, inbound);
    return;
  }
  if (line.purpose === "proxy") {
    await handleProxyText(deps, inbound);
    return;
  }
  if (!line.shop) {
    logger.warn({ messageId }, "inbound text to an expert line without a shop; ignored");
    return;
  }
  const shop = line.shop;

  const sender = await prisma.expert.findUnique({ where: { shopId_phone: { shopId: shop.id, phone: inbound.from } } });
  if (!sender) {
    await handleCustomerText(deps, { inbound, shop, intent });
    return;
  }
  // DONE to the expert line, not to the conversation's number: end the one open conversation.
  if (intent.kind === "end-session") {
    const open = await prisma.session.findMany({ where: { expertId: sender.id, status: { not: "ended" } }, select: { id: true }, take: 2 });
    if (open.length === 1) {
      await endSession(deps, { sessionId: open[0]!.id, endedBy: "expert", reason: "done_keyword" });
      return;
    }
    if (open.length > 1) {
      await prisma.$transaction((tx) => reply(tx, inbound, shop.id, copy.doneWhere));
      return;
    }
  }
  // Answers to offers are routing's (a bare YES is one too while an offer is open or just missed).
  if (intent.kind === "offer-reply" || (intent.kind === "join" && sender.status === "active")) {
    const offerReply = { inbound, shopId: shop.id, expert: sender, accept: intent.kind === "join" || intent.accept, code: intent.kind === "offer-reply" ? intent.code : null };
    if (await handleOfferReply(deps, offerReply)) return;
  }

  await prisma.$transaction(async (tx) => {
    if (intent.kind === "join") {
      await tx.optOut.deleteMany({ where: { phone: inbound.from, platformNumber: inbound.to } });
    }

    // Row lock: two quick texts (OFF, ON) from one expert apply in order.
    await tx.$queryRaw`SELECT id FROM "Expert" WHERE "shopId" = ${shop.id}::uuid AND phone = ${inbound.from} FOR UPDATE`;
    const expert = await tx.expert.findUnique({ where: { shopId_phone: { shopId: shop.id, phone: inbound.from } } });
    if (!expert) return; // deleted since: nothing to answer
    const text = await actOnExpert(deps, tx, { expert, intent, inbound, shop });
    if (text) await reply(tx, inbound, shop.id, text);
  });
}
