/**
 * Texts to a proxy number: routed by the pair (sender, proxy number), as
 * Twilio Proxy does, to the one open session that pair belongs to. STOP and
 * START never get here (telephony records them first); HELP and DONE are
 * answered, never relayed; everything else goes to the other side with the
 * sender's first name. After the end, the same pair carries the rating.
 *
 * Running this twice for one inbound text (a worker killed mid-way) does
 * everything once: each reply's dedupe key derives from the inbound message.
 */
import type { Message, Prisma } from "../../generated/prisma/client.js";
import { QUEUES } from "../../jobs/define.js";
import { uuidv7 } from "../../lib/ids.js";
import { copy as telephonyCopy, PROGRAM_NAME } from "../telephony/copy.js";
import { parseInbound, type InboundIntent } from "../telephony/keywords.js";
import { queueSms, SEND_SMS } from "../telephony/sms.js";
import { firstName, relayText, sessionCopy } from "./copy.js";
import { endSession } from "./end.js";
import type { SessionDeps } from "./jobs.js";
import { COMMENT_WINDOW_MS, recordComment, recordRating, replyToSender } from "./ratings.js";
import { RATING_WINDOW_MS } from "./start.js";
import { hangUpLiveCall } from "./voice-bridge.js";
import { requestCall } from "./voice-connect.js";

type RelayDeps = Pick<SessionDeps, "prisma" | "sql" | "clock" | "config" | "logger" | "twilio">;

/** What a text to an ended session needs to answer it (the rating, the names). */
const SESSION_FIELDS = {
  id: true,
  questionId: true,
  shopId: true,
  expertId: true,
  customerPhone: true,
  expertPhone: true,
  status: true,
  ratingRequestedAt: true,
  expert: { select: { name: true } },
  question: { select: { customerName: true, shop: { select: { name: true } } } },
} as const;

/**
 * The open session of the pair (sender, proxy number), with the names its
 * texts need, in one indexed query (the hot path: every relayed text).
 */
const FIND_OPEN_SESSION = `
  SELECT s."id", s."questionId", s."shopId", s."customerPhone", s."expertPhone",
         e."name" AS "expertName", q."customerName", sh."name" AS "shopName"
  FROM "PhoneNumber" p
  JOIN "Session" s ON s."proxyNumberId" = p."id" AND s."status" IN ('active', 'connecting')
  JOIN "Expert" e ON e."id" = s."expertId"
  JOIN "Question" q ON q."id" = s."questionId"
  JOIN "Shop" sh ON sh."id" = s."shopId"
  WHERE p."e164" = $1 AND $2 IN (s."customerPhone", s."expertPhone")
  LIMIT 1`;

interface OpenSession {
  id: string;
  questionId: string;
  shopId: string;
  customerPhone: string;
  expertPhone: string;
  expertName: string;
  customerName: string | null;
  shopName: string;
}

async function findOpenSession(deps: RelayDeps, inbound: Message): Promise<OpenSession | null> {
  const { rows } = await deps.sql.query<OpenSession>({ name: "session-find-open", text: FIND_OPEN_SESSION, values: [inbound.to, inbound.from] });
  return rows[0] ?? null;
}

/** Which side of the session `phone` is. The same phone on both sides (a shop testing itself) counts as the customer. */
function sideOf(session: { customerPhone: string }, phone: string): "customer" | "expert" {
  return phone === session.customerPhone ? "customer" : "expert";
}

/**
 * The relay's writes in ONE statement (the hot path): activity on the
 * session, the inbound text into its transcript, the relayed text and its
 * send job. Everything reads FROM the session update, which holds only
 * while the session is open: a relay racing an end either lands before it
 * or not at all. The dedupe key makes a second run a no-op.
 */
const RELAY = `
  WITH session AS (
    UPDATE "Session" SET "lastActivityAt" = GREATEST("lastActivityAt", $3::timestamptz), "updatedAt" = $3::timestamptz
    WHERE "id" = $1::uuid AND "status" <> 'ended'
    RETURNING "id", "questionId", "shopId"
  ), linked AS (
    UPDATE "Message" m SET "sessionId" = session."id", "questionId" = session."questionId", "shopId" = session."shopId", "updatedAt" = $3::timestamptz
    FROM session WHERE m."id" = $2::uuid
  ), relayed AS (
    INSERT INTO "Message" ("id", "shopId", "questionId", "sessionId", "direction", "purpose", "from", "to", "body", "status", "isReply", "dedupeKey", "updatedAt")
    SELECT $4::uuid, session."shopId", session."questionId", session."id", 'outbound', 'relay', $5::text, $6::text, $7::text, 'queued', true,
           'relay:' || $2::text, $3::timestamptz
    FROM session
    ON CONFLICT ("dedupeKey") DO NOTHING
    RETURNING "id"
  ), job AS (
    INSERT INTO "OutboxEvent" ("id", "topic", "payload", "jobId")
    SELECT $8::uuid, $9::text, jsonb_build_object('messageId', relayed."id"), 'sms-' || relayed."id"::text FROM relayed
    ON CONFLICT ("jobId") DO NOTHING
  )
  SELECT EXISTS (SELECT 1 FROM session) AS "open"`;

/** Returns false when the session had ended by the time the text got there. */
async function relay(deps: RelayDeps, input: { sessionId: string; inbound: Message; recipient: string; body: string }): Promise<boolean> {
  const { rows } = await deps.sql.query<{ open: boolean }>({
    name: "session-relay",
    text: RELAY,
    values: [
      input.sessionId,
      input.inbound.id,
      deps.clock.now(),
      uuidv7(),
      input.inbound.to,
      input.recipient,
      input.body,
      uuidv7(),
      `${QUEUES.telephony}/${SEND_SMS}`,
    ],
  });
  return rows[0]?.open ?? false;
}

/** Puts the inbound text in the session's transcript (a no-op the second time). */
function linkToSession(db: Pick<Prisma.TransactionClient, "message">, inbound: Message, session: { id: string; questionId: string; shopId: string }) {
  return db.message.updateMany({
    where: { id: inbound.id, sessionId: null },
    data: { sessionId: session.id, questionId: session.questionId, shopId: session.shopId },
  });
}

export async function handleProxyText(deps: RelayDeps, inbound: Message): Promise<void> {
  const intent = parseInbound(inbound.body);
  const open = await findOpenSession(deps, inbound);
  if (open) {
    const side = sideOf(open, inbound.from);
    if (intent.kind === "help") {
      await replyHelp(deps, inbound, open);
      return;
    }
    if (intent.kind === "end-session") {
      await linkToSession(deps.prisma, inbound, open);
      // During a call, DONE hangs it up; the call's end then ends the session with its billable seconds.
      if (await hangUpLiveCall(deps, open.id)) return;
      await endSession(deps, { sessionId: open.id, endedBy: side, reason: "done_keyword" });
      return;
    }
    if (intent.kind === "call") {
      // CALL from either side: the conversation moves to the phone (voice-connect.ts).
      await deps.prisma.$transaction(async (tx) => {
        await linkToSession(tx, inbound, open);
        await requestCall(tx, { session: open, from: inbound.from, proxy: inbound.to, messageId: inbound.id });
      });
      return;
    }
    const sender = side === "customer" ? firstName(open.customerName, "Customer") : firstName(open.expertName, "Expert");
    const recipient = side === "customer" ? open.expertPhone : open.customerPhone;
    if (await relay(deps, { sessionId: open.id, inbound, recipient, body: relayText(sender, inbound.body) })) return;
    // Ended between the look and the relay: answered below, as a text to an ended session.
  }
  // Already in a transcript: an earlier run of this job handled it (every path links the text
  // in the same statement or transaction as its effect, DONE just before its end), and the
  // session has ended since. Answering now would tell someone "it has ended" about a text that counted.
  if (inbound.sessionId !== null) return;
  await handleTextToEndedPair(deps, inbound, intent);
}

/** HELP on a proxy number: the shop's help text, in the session's transcript. */
function replyHelp(deps: RelayDeps, inbound: Message, session: { id: string; questionId: string; shopId: string; shopName: string }) {
  return deps.prisma.$transaction(async (tx) => {
    await linkToSession(tx, inbound, session);
    await replyToSender(tx, { session, inbound, body: telephonyCopy.help({ shopName: session.shopName, contact: deps.config.SUPPORT_CONTACT }) });
  });
}

/**
 * No open session on the pair: the customer's rating and comment, or a
 * polite word that the conversation is over. A stranger (no session ever on
 * this pair) gets nothing but HELP's answer: replying to every sender of a
 * text would let anyone make us text any number.
 */
async function handleTextToEndedPair(deps: RelayDeps, inbound: Message, intent: InboundIntent): Promise<void> {
  const pair = { proxyNumber: { e164: inbound.to }, OR: [{ customerPhone: inbound.from }, { expertPhone: inbound.from }] };
  const ended = await deps.prisma.session.findFirst({
    where: { ...pair, status: "ended" },
    orderBy: { endedAt: "desc" },
    select: { ...SESSION_FIELDS, rating: { select: { comment: true, createdAt: true } } },
  });
  if (!ended) {
    if (intent.kind === "help") {
      const body = telephonyCopy.help({ shopName: PROGRAM_NAME, contact: deps.config.SUPPORT_CONTACT });
      await deps.prisma.$transaction((tx) =>
        queueSms(tx, { shopId: null, from: inbound.to, to: inbound.from, body, purpose: "keyword_reply", isReply: true, dedupeKey: `reply:${inbound.id}` }),
      );
    } else {
      deps.logger.info({ messageId: inbound.id }, "text to a proxy number from someone with no session on it; ignored");
    }
    return;
  }
  const shopName = ended.question.shop.name;
  if (intent.kind === "help") {
    await replyHelp(deps, inbound, { ...ended, shopName });
    return;
  }
  const expertFirstName = firstName(ended.expert.name, "your expert");
  const now = deps.clock.now();
  await deps.prisma.$transaction(async (tx) => {
    await linkToSession(tx, inbound, ended);
    if (sideOf(ended, inbound.from) === "expert") {
      await replyToSender(tx, { session: ended, inbound, body: sessionCopy.endedExpert });
      return;
    }
    const awaitingRating = ended.ratingRequestedAt !== null && now.getTime() - ended.ratingRequestedAt.getTime() <= RATING_WINDOW_MS;
    if (intent.kind === "rating" && awaitingRating) {
      await recordRating(tx, { session: ended, expertFirstName, score: intent.score, inbound, now });
      return;
    }
    const { rating } = ended;
    const commentOpen = rating !== null && rating.comment === null && now.getTime() - rating.createdAt.getTime() <= COMMENT_WINDOW_MS;
    if (commentOpen && intent.kind !== "rating" && intent.kind !== "end-session" && (await recordComment(tx, { session: ended, expertFirstName, comment: inbound.body, inbound }))) {
      return;
    }
    const body = rating === null && awaitingRating ? sessionCopy.endedAwaitingRating(expertFirstName) : sessionCopy.endedCustomer(shopName);
    await replyToSender(tx, { session: ended, inbound, body });
  });
}

/**
 * STOP to a proxy number mid-conversation: nothing more can reach the one who
 * stopped, so the conversation ends and the other side is told (by endSession).
 */
export async function endSessionOnOptOut(deps: RelayDeps, inbound: Message): Promise<boolean> {
  const session = await findOpenSession(deps, inbound);
  if (!session) return false;
  // During a call, the call is hung up and its end ends the session, with the call's seconds.
  if (await hangUpLiveCall(deps, session.id)) return true;
  return endSession(deps, { sessionId: session.id, endedBy: sideOf(session, inbound.from), reason: "opted_out" });
}
