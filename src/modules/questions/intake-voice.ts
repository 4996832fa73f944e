/**
 * A call to a shop's expert line: the third door for questions, beside REST
 * and SMS (intake-sms.ts is the model for its guards and its first text).
 *
 * Each step of the IVR is one webhook request, and each answers with the
 * next step (an IvrStep, turned into TwiML by ivr-script.ts):
 *   start    -> who calls? An expert hears their status or joins their open
 *               session; a customer with an open question hears where it
 *               stands; anyone else is asked the product (skipped with one
 *               product or none), then the question.
 *   product  -> the key or the name; once more on a miss, then no product.
 *   question -> the transcript opens the question; too unsure: a recording.
 *   recording-> the recording opens the question.
 *
 * Opening is idempotent per call: the Call row (unique CallSid) is locked in
 * the transaction that opens the question and records it, so Twilio
 * retrying an action, or the caller's two fast requests, open one question.
 * Nothing is written before that transaction, and a refusal writes nothing.
 */
import type { Deps } from "../../deps.js";
import type { Prisma, Shop } from "../../generated/prisma/client.js";
import { toE164 } from "../../lib/phone.js";
import { firstName } from "../sessions/copy.js";
import { ivrCopy, MAX_PRODUCTS_LISTED, callbackEstimateMinutes, pickSpokenProduct, usableSpeech, voiceMessageBody, type IvrStep } from "./ivr-script.js";
import { checkQuestionDestination, destinationAllowed, isCostlyNumber, type DestinationRefusal } from "./sms-guards.js";
import { OPEN_STATUSES, SEARCHING_STATUSES, openQuestion, primaryPoolId } from "./service.js";
import { buildStatusView, EVENTS_SHOWN } from "./status-view.js";

type VoiceIntakeDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;
type Db = VoiceIntakeDeps["prisma"];

/** As for SMS intake: a day to find an expert. */
const VOICE_QUESTION_TTL_MS = 24 * 60 * 60 * 1000;
/** As for SMS intake: a question grows by what the customer adds up to this length. */
const MAX_QUESTION_CHARS = 4000;
/** How often the product menu is read before the question goes on without a product. */
export const PRODUCT_ATTEMPTS = 2;

export interface CallParties {
  /** The caller: E.164, or what Twilio sends for a withheld number ("anonymous", "+266696687"...). */
  from: string;
  /** The number called. */
  to: string;
}

/**
 * The Call row of an inbound call, on its first request. A status callback
 * for the same call may be writing it at this moment: insert or leave it.
 */
export async function recordInboundCall(prisma: Db, call: CallParties & { callSid: string; callStatus: string }): Promise<void> {
  await prisma.call.createMany({
    data: [{ twilioSid: call.callSid, direction: "inbound", from: call.from, to: call.to, status: call.callStatus === "in-progress" ? "in_progress" : "ringing" }],
    skipDuplicates: true,
  });
}

/** A number we can call and text back; a withheld caller ID ("anonymous", "Restricted", Twilio's +266696687) is not one. */
function callBackNumber(from: string): string | null {
  return from.startsWith("+") && toE164(from) === from ? from : null;
}

type Line = { kind: "shop"; shop: Shop; e164: string } | { kind: "proxy"; id: string } | { kind: "closed"; step: IvrStep };

const hangUp = (text: string): IvrStep => ({ kind: "hang-up", text });

async function lineOf(prisma: Db, to: string): Promise<Line> {
  const line = await prisma.phoneNumber.findUnique({ where: { e164: to }, include: { shop: true } });
  if (line?.purpose === "proxy") return { kind: "proxy", id: line.id };
  if (!line?.shop) return { kind: "closed", step: hangUp(ivrCopy.notInService) };
  if (line.shop.status !== "active") return { kind: "closed", step: hangUp(ivrCopy.lineClosed(line.shop.name)) };
  return { kind: "shop", shop: line.shop, e164: line.e164 };
}

/**
 * A shop's line with a caller we can call back, or the step that ends the
 * call. Every step looks again: a shop can be suspended mid-call.
 */
async function shopLineFor(prisma: Db, parties: CallParties): Promise<{ shop: Shop; line: string; caller: string } | IvrStep> {
  const line = await lineOf(prisma, parties.to);
  if (line.kind === "closed") return line.step;
  if (line.kind === "proxy") return hangUp(ivrCopy.notInService);
  const caller = callBackNumber(parties.from);
  if (!caller) return hangUp(ivrCopy.withheld);
  return { shop: line.shop, line: line.e164, caller };
}

const isStep = (value: object): value is IvrStep => "kind" in value;

/**
 * A call to a proxy number: a participant of the session on it is put
 * through (the session's route bridges them); a session that ended is said
 * so; anyone else hears the number is not in service.
 */
async function proxyCall(prisma: Db, proxyNumberId: string, from: string): Promise<IvrStep> {
  const session = await prisma.session.findFirst({
    where: { proxyNumberId, OR: [{ customerPhone: from }, { expertPhone: from }] },
    orderBy: { id: "desc" },
    select: { id: true, status: true },
  });
  if (!session) return hangUp(ivrCopy.notInService);
  return session.status === "ended" ? hangUp(ivrCopy.sessionOver) : { kind: "session", sessionId: session.id };
}

/** An expert of the shop calling its line: into their open session, else their status, as the STATUS text gives it. */
async function expertCall(prisma: Db, shop: Shop, expert: { id: string; name: string; status: "invited" | "active" | "suspended"; paused: boolean }): Promise<IvrStep> {
  const session = await prisma.session.findFirst({ where: { expertId: expert.id, status: { not: "ended" } }, orderBy: { id: "desc" }, select: { id: true } });
  if (session && expert.status === "active") return { kind: "session", sessionId: session.id };
  const openOffers = await prisma.offer.count({ where: { expertId: expert.id, status: "pending" } });
  return hangUp(ivrCopy.expertStatus({ name: expert.name, shopName: shop.name, status: expert.status, paused: expert.paused, openOffers }));
}

/** Where the caller's open question stands, in the status page's words (first names only, never a number). */
async function openQuestionStep(deps: Pick<VoiceIntakeDeps, "prisma" | "clock">, shop: Shop, caller: string): Promise<IvrStep | null> {
  const question = await deps.prisma.question.findFirst({
    where: { shopId: shop.id, customerPhone: caller, status: { in: [...OPEN_STATUSES] } },
    orderBy: { id: "desc" },
    include: {
      product: { select: { name: true } },
      session: { select: { status: true, expert: { select: { name: true } } } },
      events: { where: { kind: { in: [...EVENTS_SHOWN] } }, orderBy: { id: "asc" }, select: { kind: true, data: true, createdAt: true } },
    },
  });
  if (!question) return null;
  const view = buildStatusView({ question, productName: question.product?.name ?? null, shopName: shop.name, events: question.events, now: deps.clock.now() });
  const session = question.session;
  const connectTo = session && session.status !== "ended" ? firstName(session.expert.name, "your expert") : null;
  return { kind: "open-question", shopName: shop.name, headline: view.headline, next: view.next, connectTo };
}

type NamedProducts = { id: string; name: string; aliases: string[] }[];

async function productsOf(prisma: Db, shopId: string): Promise<NamedProducts> {
  // The order of SMS intake's "which product?" list, so key 2 is the same product by text and by phone.
  return prisma.product.findMany({ where: { shopId }, orderBy: { id: "asc" }, select: { id: true, name: true, aliases: true } });
}

/** The first step a new question needs: the product menu, or the question when there is nothing to choose. */
function firstQuestionStep(products: NamedProducts, preface: string[]): IvrStep {
  if (products.length >= 2) return { kind: "ask-product", attempt: 1, preface, listed: products.slice(0, MAX_PRODUCTS_LISTED), all: products };
  const [only] = products;
  return { kind: "ask-question", preface, product: only ? { id: only.id, name: only.name } : null };
}

/** The call's first request: who is calling decides what they hear. */
export async function startCall(deps: VoiceIntakeDeps, parties: CallParties): Promise<IvrStep> {
  const { prisma } = deps;
  const line = await lineOf(prisma, parties.to);
  if (line.kind === "proxy") return proxyCall(prisma, line.id, parties.from);
  const resolved = await shopLineFor(prisma, parties);
  if (isStep(resolved)) return resolved;
  const { shop, caller } = resolved;

  const expert = await prisma.expert.findUnique({
    where: { shopId_phone: { shopId: shop.id, phone: caller } },
    select: { id: true, name: true, status: true, paused: true },
  });
  if (expert) return expertCall(prisma, shop, expert);

  const open = await openQuestionStep(deps, shop, caller);
  if (open) return open;

  // The pumping guards that need no writes, before the caller spends time on the menu;
  // the daily cap and the rate limits are taken when the question opens.
  if (!destinationAllowed(caller, shop) || isCostlyNumber(caller)) {
    deps.logger.warn({ shopId: shop.id, reason: isCostlyNumber(caller) ? "costly-number" : "country-not-allowed" }, "a call to the expert line was not taken as a question");
    return hangUp(ivrCopy.refusedNumber(shop.name));
  }
  return firstQuestionStep(await productsOf(prisma, shop.id), [ivrCopy.greeting(shop.name)]);
}

/** The product menu's answer: a key, a name, or nothing (asked once more, then no product). */
export async function chooseProduct(
  deps: VoiceIntakeDeps,
  input: CallParties & { attempt: number; digits: string | undefined; speech: string | undefined },
): Promise<IvrStep> {
  const resolved = await shopLineFor(deps.prisma, input);
  if (isStep(resolved)) return resolved;
  const products = await productsOf(deps.prisma, resolved.shop.id);
  // The shop's products changed during the call: nothing left to choose between.
  if (products.length < 2) return firstQuestionStep(products, []);
  const listed = products.slice(0, MAX_PRODUCTS_LISTED);
  const picked = products.find((product) => product.id === pickSpokenProduct({ digits: input.digits, speech: input.speech }, listed, products));
  if (picked) return { kind: "ask-question", preface: [], product: { id: picked.id, name: picked.name } };
  if (input.attempt < PRODUCT_ATTEMPTS) return { kind: "ask-product", attempt: input.attempt + 1, preface: [ivrCopy.productUnclear], listed, all: products };
  // As SMS intake without a product: the question goes to the shop-wide pool.
  return { kind: "ask-question", preface: [ivrCopy.productSkipped], product: null };
}

export interface SpokenQuestion extends CallParties {
  callSid: string;
  productId: string | null;
}

/** The question's transcript: opens the question, or asks for a recording when it is unusable. */
export async function takeSpokenQuestion(deps: VoiceIntakeDeps, input: SpokenQuestion & { speech: string | undefined; confidence: number | undefined }): Promise<IvrStep> {
  const text = usableSpeech(input.speech, input.confidence);
  if (text === null) return { kind: "record", productId: input.productId };
  return openVoiceQuestion(deps, {
    ...input,
    text,
    context: { source: "a phone call", ...(input.confidence === undefined ? {} : { speechConfidence: input.confidence }) },
  });
}

/** The recorded question: the audio stays with the question (its context), the body says what it is. */
export async function takeRecordedQuestion(
  deps: VoiceIntakeDeps,
  input: SpokenQuestion & { recordingUrl: string | undefined; seconds: number | undefined },
): Promise<IvrStep> {
  if (!input.recordingUrl || !input.seconds) return hangUp(ivrCopy.noRecording);
  return openVoiceQuestion(deps, {
    ...input,
    text: voiceMessageBody(input.seconds),
    context: { source: "a phone call", recordingUrl: input.recordingUrl, recordingSeconds: input.seconds },
  });
}

type Opening =
  | { kind: "opened"; questionId: string; poolId: string | null; fresh: boolean }
  | { kind: "joined"; added: boolean }
  | { kind: "refused"; refusal: DestinationRefusal };

function refusedStep(shop: Shop, refusal: DestinationRefusal): IvrStep {
  const byNumber = refusal.reason === "country-not-allowed" || refusal.reason === "costly-number";
  return hangUp(byNumber ? ivrCopy.refusedNumber(shop.name) : ivrCopy.refusedBusy(shop.name));
}

async function openVoiceQuestion(deps: VoiceIntakeDeps, input: SpokenQuestion & { text: string; context: Prisma.InputJsonObject }): Promise<IvrStep> {
  const { prisma, config, clock, logger } = deps;
  const resolved = await shopLineFor(prisma, input);
  if (isStep(resolved)) return resolved;
  const { shop, line, caller } = resolved;
  const now = clock.now();
  const text = input.text.slice(0, MAX_QUESTION_CHARS);

  const opening = await prisma.$transaction(
    async (tx): Promise<Opening> => {
      // The call's row is the idempotency key: locked, a retried action waits here and then finds its question.
      await tx.call.createMany({ data: [{ twilioSid: input.callSid, direction: "inbound", from: input.from, to: input.to, status: "in_progress" }], skipDuplicates: true });
      const [call] = await tx.$queryRaw<{ id: string; questionId: string | null }[]>`
        SELECT id, "questionId" FROM "Call" WHERE "twilioSid" = ${input.callSid} FOR UPDATE`;
      if (!call) throw new Error("the call's row vanished inside its own transaction");
      if (call.questionId) {
        const asked = await tx.question.findUnique({ where: { id: call.questionId }, select: { id: true, poolId: true, channel: true } });
        // A retried action: answer as the first time (a call that joined a texted question hears its status).
        if (asked?.channel === "voice") return { kind: "opened", questionId: asked.id, poolId: asked.poolId, fresh: false };
        return { kind: "joined", added: false };
      }
      // The same lock as SMS intake: a text and a call of one customer open one question, not two.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`customer:${shop.id}:${caller}`}))`;
      const open = await tx.question.findFirst({
        where: { shopId: shop.id, customerPhone: caller, status: { in: [...OPEN_STATUSES] } },
        orderBy: { id: "desc" },
        select: { id: true, status: true, body: true },
      });
      if (open) {
        // Asked by text (or another call) while this call went through the menu: what was said is
        // more detail for the open question while we still search, as a second text would be.
        await tx.call.update({ where: { id: call.id }, data: { questionId: open.id } });
        const searching = (SEARCHING_STATUSES as readonly string[]).includes(open.status) && open.body.length < MAX_QUESTION_CHARS;
        if (searching) await tx.question.update({ where: { id: open.id }, data: { body: `${open.body}\n${text}`.slice(0, MAX_QUESTION_CHARS) } });
        return { kind: "joined", added: searching };
      }
      const refusal = await checkQuestionDestination(deps, tx, { shop, phone: caller });
      if (refusal) return { kind: "refused", refusal };
      const product = input.productId
        ? await tx.product.findFirst({ where: { id: input.productId, shopId: shop.id }, select: { id: true, name: true, tags: true } })
        : null;
      const poolId = await primaryPoolId(tx, shop.id, product?.id ?? null);
      const question = await openQuestion(tx, config, now, {
        shop,
        line,
        channel: "voice",
        text,
        customerPhone: caller,
        customerName: null,
        product: product ? { id: product.id, name: product.name } : null,
        poolId,
        tags: product?.tags ?? [],
        optionalTags: [],
        preferredMode: "voice",
        context: input.context,
        expiresAt: new Date(now.getTime() + VOICE_QUESTION_TTL_MS),
      });
      await tx.call.update({ where: { id: call.id }, data: { questionId: question.id } });
      return { kind: "opened", questionId: question.id, poolId, fresh: true };
    },
    { timeout: 15_000 },
  );

  if (opening.kind === "refused") {
    logger.warn({ shopId: shop.id, callSid: input.callSid, refusal: opening.refusal.reason }, "a call to the expert line was not taken as a question");
    return refusedStep(shop, opening.refusal);
  }
  if (opening.kind === "opened" && opening.fresh) logger.info({ shopId: shop.id, questionId: opening.questionId, callSid: input.callSid }, "question opened by phone");
  if (opening.kind === "joined") {
    if (opening.added) return hangUp(ivrCopy.addedToOpenQuestion);
    return (await openQuestionStep(deps, shop, caller)) ?? hangUp(ivrCopy.goodbye);
  }
  const pool = opening.poolId ? await prisma.pool.findUnique({ where: { id: opening.poolId }, select: { offerTimeoutSeconds: true } }) : null;
  // A caller who texted STOP to this line gets no texts: do not promise them.
  const optedOut = await prisma.optOut.findUnique({ where: { phone_platformNumber: { phone: caller, platformNumber: line } }, select: { phone: true } });
  return hangUp(ivrCopy.thanks({ minutes: callbackEstimateMinutes(pool), texts: !optedOut }));
}

/** "Press 1 to be connected": into the caller's open session on this shop, if it is still open. */
export async function connectCaller(deps: VoiceIntakeDeps, input: CallParties & { digits: string | undefined }): Promise<IvrStep> {
  if (input.digits !== "1") return hangUp(ivrCopy.goodbye);
  const resolved = await shopLineFor(deps.prisma, input);
  if (isStep(resolved)) return resolved;
  const session = await deps.prisma.session.findFirst({
    where: { shopId: resolved.shop.id, customerPhone: resolved.caller, status: { not: "ended" } },
    orderBy: { id: "desc" },
    select: { id: true },
  });
  return session ? { kind: "session", sessionId: session.id } : hangUp(ivrCopy.sessionOver);
}
