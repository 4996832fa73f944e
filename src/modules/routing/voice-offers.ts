/**
 * Offers for customers who want to talk: the offer is a phone call to the
 * expert, the whisper names the question, and the keypad answers it.
 * Pressing 1 is YES (the same one-statement acceptance as an SMS YES) and
 * puts the expert straight into the session's conference, where the
 * customer is rung to join; 2 is NO. No answer, busy, a hang-up without a
 * choice, or a call Twilio refused count as a missed offer, and the search
 * moves on at once, exactly as after a NO.
 */
import twilio from "twilio";
import { createCallService } from "../telephony/calls.js";
import { joinTwiml, openBridge, voiceUrls } from "../sessions/voice-bridge.js";
import { voiceCopy, offerWhisper } from "../sessions/voice-copy.js";
import { acceptOffer, declineOffer, expertLineOf, timeOutOffer, type RoutingDeps } from "./offers.js";

/** An offer's call rings at most this long, and never past the offer's own time. */
const OFFER_RING_SECONDS = 25;
const OFFER_BRIDGE_CAUSE = "offer";

function hangUpWith(text: string): string {
  const twiml = new twilio.twiml.VoiceResponse();
  twiml.say(text);
  twiml.hangup();
  return twiml.toString();
}

/** The voice message a caller left instead of speaking (question intake keeps its URL in the question's context). */
function recordingOf(context: unknown): string | null {
  const url = (context as { recordingUrl?: unknown } | null)?.recordingUrl;
  return typeof url === "string" && /^https:\/\//.test(url) ? url : null;
}

/** PLACE_OFFER_CALL: rings the expert once (the call's dedupe key is the offer's). */
export async function placeOfferCall(deps: RoutingDeps, offerId: string): Promise<void> {
  const offer = await deps.prisma.offer.findUnique({
    where: { id: offerId },
    select: { status: true, expiresAt: true, questionId: true, expert: { select: { phone: true, shopId: true } } },
  });
  if (offer?.status !== "pending") return;
  const line = await expertLineOf(deps.prisma, offer.expert.shopId);
  const secondsLeft = Math.floor((offer.expiresAt.getTime() - deps.clock.now().getTime()) / 1000);
  if (!line || secondsLeft <= 0) {
    await timeOutOffer(deps, offerId, { unanswered: true });
    return;
  }
  const outcome = await createCallService(deps).placeCall({
    from: line,
    to: offer.expert.phone,
    twimlUrl: voiceUrls(deps.config.PUBLIC_BASE_URL).offerWhisper(offerId),
    ringSeconds: Math.min(OFFER_RING_SECONDS, secondsLeft),
    dedupeKey: `offer-call:${offerId}`,
    purpose: "offer",
    party: "expert",
    offerId,
    questionId: offer.questionId,
  });
  if (!outcome.placed && outcome.reason === "refused") await timeOutOffer(deps, offerId, { unanswered: true });
}

/** What the expert hears on picking up: the question in one line, and the keys. */
export async function offerWhisperTwiml(deps: RoutingDeps, offerId: string, again = false): Promise<string> {
  const offer = await deps.prisma.offer.findUnique({
    where: { id: offerId },
    select: {
      status: true,
      question: { select: { status: true, customerName: true, context: true, shop: { select: { name: true } }, product: { select: { name: true } } } },
    },
  });
  if (!offer || offer.status !== "pending") return hangUpWith(voiceCopy.taken);
  const urls = voiceUrls(deps.config.PUBLIC_BASE_URL);
  const twiml = new twilio.twiml.VoiceResponse();
  const gather = twiml.gather({ input: ["dtmf"], numDigits: 1, timeout: 8, action: urls.offerAnswer(offerId, again), method: "POST" });
  // A question left as a voice message is heard in the customer's own words before the keys.
  const recording = recordingOf(offer.question.context);
  if (recording) {
    gather.say(voiceCopy.theirMessage);
    gather.play(recording);
  }
  gather.say(offerWhisper({ customerName: offer.question.customerName, productName: offer.question.product?.name ?? null, shopName: offer.question.shop.name }));
  // No key pressed: the same action without Digits, which is a miss.
  twiml.redirect({ method: "POST" }, urls.offerAnswer(offerId, again));
  return twiml.toString();
}

/** The expert's key: 1 takes the question and joins the bridge, 2 passes, anything else is a miss. */
export async function offerAnswerTwiml(deps: RoutingDeps, offerId: string, digits: string, callSid: string, again = false): Promise<string> {
  // Another key (a pocket press, a slip): the question once more before it counts as a miss.
  if (digits !== "" && digits !== "1" && digits !== "2" && !again) return offerWhisperTwiml(deps, offerId, true);
  if (digits === "2") {
    await declineOffer(deps, offerId);
    return hangUpWith(voiceCopy.passed);
  }
  if (digits !== "1") {
    await timeOutOffer(deps, offerId, { unanswered: true });
    return hangUpWith(voiceCopy.noChoice);
  }
  const outcome = await acceptOffer(deps, offerId);
  if (outcome.outcome === "busy") return hangUpWith(voiceCopy.atCapacity);
  if (outcome.outcome === "taken" || outcome.outcome === "timed-out") return hangUpWith(voiceCopy.taken);
  // Won now, or a replay of this very press (Twilio retried the action): the same bridge either way.
  const session = await deps.prisma.session.findUnique({ where: { offerId }, select: { id: true } });
  if (!session) return hangUpWith(voiceCopy.notAvailable);
  await deps.prisma.call.updateMany({ where: { twilioSid: callSid }, data: { sessionId: session.id } });
  const bridge = await openBridge(deps.prisma, session.id, OFFER_BRIDGE_CAUSE);
  return joinTwiml(deps, bridge.id, "expert", callSid);
}

/**
 * An offer's call ended (CALL_ENDED). Still pending: nobody pressed a key,
 * a miss. Accepted: the caller judges whether the expert reached the
 * conference (they may have hung up right after pressing 1).
 */
export async function offerCallEnded(deps: RoutingDeps, call: { offerId: string | null }): Promise<{ acceptedBridgeId?: string }> {
  if (!call.offerId) return {};
  const offer = await deps.prisma.offer.findUnique({ where: { id: call.offerId }, select: { status: true, session: { select: { id: true } } } });
  if (offer?.status === "pending") {
    await timeOutOffer(deps, call.offerId, { unanswered: true });
    return {};
  }
  if (offer?.status !== "accepted" || !offer.session) return {};
  const bridge = await deps.prisma.voiceBridge.findUnique({ where: { name: `vb-${offer.session.id}-${OFFER_BRIDGE_CAUSE}` }, select: { id: true } });
  return bridge ? { acceptedBridgeId: bridge.id } : {};
}
