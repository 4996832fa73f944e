/**
 * An expert's answer to offers by text: "YES 7KQ", "NO 7KQ", or a bare YES,
 * NO, ACCEPT or PASS when only one offer is open. Each reply's own text
 * back derives its dedupe key from the inbound message, so a replayed
 * webhook or a retried job answers once.
 */
import type { Expert, Message } from "../../generated/prisma/client.js";
import { queueSms } from "../telephony/sms.js";
import { copy } from "../telephony/copy.js";
import { acceptOffer, declineOffer, lostNoticeKey, type RoutingDeps } from "./offers.js";
import { routingCopy } from "./offer-text.js";

/** A bare YES within this long of an offer that closed unanswered is a late acceptance, not a "join". */
const LATE_REPLY_WINDOW_MS = 60 * 60 * 1000;

export interface OfferReply {
  inbound: Message;
  shopId: string;
  expert: Expert;
  accept: boolean;
  /** null for a bare YES/NO. */
  code: string | null;
}

/**
 * Acts on the reply. Returns false when a bare YES is not about offers at all
 * (no offer open or recently missed): then it means "join", as before.
 */
export async function handleOfferReply(deps: RoutingDeps, reply: OfferReply): Promise<boolean> {
  const { prisma, clock } = deps;
  const { inbound, expert, accept, code } = reply;
  const answer = (body: string, dedupeKey = `reply:${inbound.id}`) =>
    prisma.$transaction((tx) =>
      queueSms(tx, { shopId: reply.shopId, from: inbound.to, to: inbound.from, body, purpose: "offer_reply", isReply: true, dedupeKey }),
    );
  // "Already taken" is said once per offer, whether the expert's reply or the winner's settlement says it first.
  const taken = (offerId: string) => answer(routingCopy.alreadyTaken, lostNoticeKey(offerId));
  /** What a YES to an offer that is no longer open hears: what really happened to it. */
  const closedOffer = (offer: { id: string; status: string }) => {
    if (offer.status === "expired") return answer(routingCopy.timedOut);
    if (offer.status === "cancelled") return answer(routingCopy.questionClosed);
    return taken(offer.id);
  };

  const open = await prisma.offer.findMany({ where: { expertId: expert.id, status: "pending" }, orderBy: { id: "asc" }, select: { id: true, code: true } });
  let offerId: string | null;
  if (code) {
    offerId = open.find((offer) => offer.code === code)?.id ?? null;
    if (!offerId) {
      // Closed already? Codes are unique among open offers only: the latest offer with the code is the one meant.
      const closed = await prisma.offer.findFirst({ where: { expertId: expert.id, code }, orderBy: { id: "desc" }, select: { id: true, status: true } });
      if (!closed) await answer(copy.noSuchOffer(code));
      else if (closed.status === "declined" && !accept) await answer(routingCopy.declined); // a replayed NO
      else if (closed.status !== "accepted" && closed.status !== "declined" && accept) await closedOffer(closed);
      return true;
    }
  } else if (open.length === 1) {
    offerId = open[0]!.id;
  } else if (open.length > 1) {
    await answer(accept ? routingCopy.whichOffer(open.map((offer) => offer.code)) : `Reply NO and the code, e.g. NO ${open[0]!.code}.`);
    return true;
  } else {
    const since = new Date(clock.now().getTime() - LATE_REPLY_WINDOW_MS);
    const missed = await prisma.offer.findFirst({
      where: { expertId: expert.id, status: { in: ["expired", "lost", "cancelled"] }, respondedAt: null, expiresAt: { gte: since } },
      orderBy: { id: "desc" },
      select: { id: true, status: true },
    });
    if (missed) {
      if (accept) await closedOffer(missed);
      return true;
    }
    if (accept) return false;
    await answer(routingCopy.noOpenOffer);
    return true;
  }

  if (!accept) {
    if (await declineOffer(deps, offerId)) {
      await answer(routingCopy.declined);
      return true;
    }
    // Not open any more: declined by this very text before a crash (say it again), or closed meanwhile.
    const now = await prisma.offer.findUniqueOrThrow({ where: { id: offerId }, select: { id: true, status: true } });
    if (now.status === "declined") await answer(routingCopy.declined);
    else if (now.status !== "accepted") await closedOffer(now);
    return true;
  }
  const result = await acceptOffer(deps, offerId);
  // The winner's next text is the session's introduction, from the masked number.
  if (result.outcome === "taken") await taken(offerId);
  else if (result.outcome === "timed-out") await answer(routingCopy.timedOut);
  else if (result.outcome === "busy") await answer(routingCopy.busy(open.find((offer) => offer.id === offerId)?.code ?? code ?? ""));
  return true;
}
