/**
 * Questions: opened by REST (the shop's site) or by a text to the shop's
 * expert line, read and cancelled by the shop. Routing takes over once a
 * question is open; this module only opens, shows and closes them.
 */
import { randomBytes } from "node:crypto";
import type { Deps } from "../../deps.js";
import type { Prisma, Question } from "../../generated/prisma/client.js";
import { afterCursor, pageArgs, toPage, type PageQuery } from "../../lib/pagination.js";
import { conflict, notFound, unprocessable } from "../../lib/problems.js";
import { closeQuestion, enqueueRouting } from "../routing/offers.js";
import { customerCopy } from "../routing/offer-text.js";
import { createNumberService } from "../telephony/numbers.js";
import { queueSms } from "../telephony/sms.js";
import { webhookEvents } from "../webhooks/emit.js";
import { guardQuestionDestination } from "./sms-guards.js";
import { recordQuestionEvent } from "./timeline.js";
import type { CreateQuestion } from "./schemas.js";

type QuestionDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;
type Tx = Prisma.TransactionClient;

/** 144 random bits, URL-safe: the status page's only key, so it must not be guessable. */
export function newStatusToken(): string {
  return randomBytes(18).toString("base64url");
}

export function statusUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/q/${token}`;
}

export const OPEN_STATUSES = ["received", "routing", "offered", "matched", "in_session"] as const;
/** Still looking for an expert: cancel and expiry apply. */
export const SEARCHING_STATUSES = ["received", "routing", "offered"] as const;

export interface NewQuestion {
  shop: { id: string; name: string };
  /** The shop's expert line, which sends the customer's texts. */
  line: string;
  channel: "api" | "sms" | "voice";
  text: string;
  customerPhone: string;
  customerName: string | null;
  product: { id: string; name: string } | null;
  poolId: string | null;
  tags: string[];
  optionalTags: string[];
  preferredMode: "sms" | "voice";
  context: Prisma.InputJsonObject | null;
  expiresAt: Date;
  /** SMS intake with several products: ask which one before routing. */
  productChoices?: { id: string; name: string }[];
}

/**
 * The pool whose offer policy a question follows: the oldest pool that lists
 * the product, else the oldest shop-wide pool (one without products).
 */
export async function primaryPoolId(tx: Tx, shopId: string, productId: string | null): Promise<string | null> {
  if (productId) {
    const listed = await tx.pool.findFirst({ where: { shopId, products: { some: { productId } } }, orderBy: { id: "asc" }, select: { id: true } });
    if (listed) return listed.id;
  }
  const shopWide = await tx.pool.findFirst({ where: { shopId, products: { none: {} } }, orderBy: { id: "asc" }, select: { id: true } });
  return shopWide?.id ?? null;
}

/** Stores the question, its first timeline event and the customer's first text, and starts routing; all in the caller's transaction. */
export async function openQuestion(tx: Tx, config: Pick<Deps["config"], "PUBLIC_BASE_URL">, now: Date, input: NewQuestion): Promise<Question> {
  const token = newStatusToken();
  const askFirst = input.productChoices && input.productChoices.length > 0 ? input.productChoices : null;
  const question = await tx.question.create({
    data: {
      shopId: input.shop.id,
      productId: input.product?.id ?? null,
      poolId: input.poolId,
      status: askFirst ? "received" : "routing",
      statusToken: token,
      channel: input.channel,
      preferredMode: input.preferredMode,
      tags: input.tags,
      optionalTags: input.optionalTags,
      body: input.text,
      ...(input.context ? { context: input.context } : {}),
      customerPhone: input.customerPhone,
      customerName: input.customerName,
      productChoices: askFirst ? askFirst.map((product) => product.id) : [],
      searchStartedAt: askFirst ? null : now,
      expiresAt: input.expiresAt,
      createdAt: now,
    },
  });
  await recordQuestionEvent(tx, { questionId: question.id, kind: "received", dedupeKey: `received:${question.id}`, at: now });
  await webhookEvents.questionCreated(tx, question);
  const url = statusUrl(config.PUBLIC_BASE_URL, token);
  const sms = { shopId: input.shop.id, from: input.line, to: input.customerPhone, questionId: question.id, isReply: input.channel !== "api" };
  if (askFirst) {
    await recordQuestionEvent(tx, { questionId: question.id, kind: "product_asked", at: now });
    await queueSms(tx, {
      ...sms,
      // The link goes in the first text, whatever it asks.
      body: customerCopy.askProduct({ shopName: input.shop.name, products: askFirst.map((product) => product.name), statusUrl: url }),
      purpose: "question_product_choice",
      dedupeKey: `question-ask-product:${question.id}`,
    });
    return question;
  }
  await queueSms(tx, {
    ...sms,
    body: customerCopy.received({
      name: input.customerName,
      shopName: input.shop.name,
      productName: input.product?.name ?? null,
      statusUrl: url,
      callBack: input.preferredMode === "voice",
    }),
    purpose: "question_received",
    dedupeKey: `question-received:${question.id}`,
  });
  await recordQuestionEvent(tx, { questionId: question.id, kind: "searching", dedupeKey: `searching:${question.id}:0`, at: now });
  await enqueueRouting(tx, question.id, "opened");
  return question;
}

export function toQuestionView(question: Question, publicBaseUrl: string) {
  return {
    id: question.id,
    status: question.status,
    channel: question.channel,
    preferredMode: question.preferredMode,
    text: question.body,
    productId: question.productId,
    tags: question.tags,
    optionalTags: question.optionalTags,
    customer: { phone: question.customerPhone, name: question.customerName },
    context: (question.context ?? null) as Record<string, unknown> | null,
    statusUrl: statusUrl(publicBaseUrl, question.statusToken),
    expertId: question.matchedExpertId,
    widenLevel: question.widenLevel,
    expiresAt: question.expiresAt,
    closedAt: question.closedAt,
    createdAt: question.createdAt,
    updatedAt: question.updatedAt,
  };
}

export function createQuestionService(deps: QuestionDeps) {
  const { prisma, config, clock } = deps;
  const numbers = createNumberService(deps);

  async function findQuestion(shopId: string, id: string) {
    const question = await prisma.question.findFirst({ where: { id, shopId } });
    if (!question) throw notFound("Question");
    return question;
  }

  return {
    async createQuestion(shopId: string, input: CreateQuestion) {
      const product = input.productId
        ? await prisma.product.findFirst({ where: { id: input.productId, shopId }, select: { id: true, name: true, tags: true } })
        : null;
      if (input.productId && !product) throw unprocessable("No such product", [{ path: "body.productId", message: "no such product in this shop" }]);
      const tags = input.tags ?? product?.tags ?? null;
      // `tags: []` says nothing about the question either: without a product it would reach any expert of the shop.
      if (!product && (input.tags ?? []).length === 0) {
        throw unprocessable("Say what the question is about", [
          { path: "body.productId", message: "send productId or tags" },
          { path: "body.tags", message: "send productId or tags" },
        ]);
      }
      const shop = await prisma.shop.findUniqueOrThrow({ where: { id: shopId } });
      const line = await numbers.ensureExpertLine(shopId); // may buy a number: outside the transaction
      const now = clock.now();
      // The guards first, in a transaction of their own: the daily cap serialises a shop's new numbers
      // on a lock, which must not be held while the question is written. A number admitted here whose
      // question then fails to open stays counted for the day: the cap errs on the safe side.
      await prisma.$transaction((tx) => guardQuestionDestination(deps, tx, { shop, phone: input.customer.phone }));
      const question = await prisma.$transaction(async (tx) => {
        return openQuestion(tx, config, now, {
          shop,
          line: line.e164,
          channel: "api",
          text: input.text,
          customerPhone: input.customer.phone,
          customerName: input.customer.name ?? null,
          product: product ? { id: product.id, name: product.name } : null,
          poolId: await primaryPoolId(tx, shopId, product?.id ?? null),
          tags: tags ?? [],
          optionalTags: (input.optionalTags ?? []).filter((tag) => !(tags ?? []).includes(tag)),
          preferredMode: input.preferredMode,
          context: input.context ? { ...input.context } : null,
          expiresAt: new Date(now.getTime() + input.ttlMinutes * 60_000),
        });
      });
      return toQuestionView(question, config.PUBLIC_BASE_URL);
    },

    async listQuestions(shopId: string, query: PageQuery & { status?: Question["status"] | undefined; productId?: string | undefined }) {
      const rows = await prisma.question.findMany({
        ...pageArgs(query),
        where: {
          shopId,
          ...afterCursor(query),
          ...(query.status ? { status: query.status } : {}),
          ...(query.productId ? { productId: query.productId } : {}),
        },
      });
      const page = toPage(rows, query.limit);
      return { data: page.data.map((row) => toQuestionView(row, config.PUBLIC_BASE_URL)), nextCursor: page.nextCursor };
    },

    async getQuestion(shopId: string, id: string) {
      const question = await prisma.question.findFirst({
        where: { id, shopId },
        include: {
          events: { orderBy: { id: "asc" } },
          offers: { orderBy: [{ round: "asc" }, { rank: "asc" }, { id: "asc" }], include: { expert: { select: { name: true } } } },
          session: { include: { rating: true } },
        },
      });
      if (!question) throw notFound("Question");
      return {
        ...toQuestionView(question, config.PUBLIC_BASE_URL),
        timeline: question.events.map((event) => ({ kind: event.kind, at: event.createdAt, data: (event.data ?? null) as Record<string, unknown> | null })),
        offers: question.offers.map((offer) => ({
          id: offer.id,
          expertId: offer.expertId,
          expertName: offer.expert.name,
          status: offer.status,
          round: offer.round,
          widenLevel: offer.widenLevel,
          rank: offer.rank,
          score: offer.score,
          reasons: Array.isArray(offer.reasons) ? (offer.reasons as { factor: string; weight: number; value: number; points: number; detail: string }[]) : [],
          sentAt: offer.sentAt,
          expiresAt: offer.expiresAt,
          respondedAt: offer.respondedAt,
        })),
        session: question.session
          ? {
              id: question.session.id,
              status: question.session.status,
              mode: question.session.mode,
              startedAt: question.session.startedAt,
              endedAt: question.session.endedAt,
              endedBy: question.session.endedBy,
              rating: question.session.rating ? { score: question.session.rating.score, comment: question.session.rating.comment } : null,
            }
          : null,
      };
    },

    /** Only while still searching: once an expert accepted, the conversation is theirs to finish. */
    async cancelQuestion(shopId: string, id: string) {
      const question = await findQuestion(shopId, id);
      if (question.status === "cancelled") return toQuestionView(question, config.PUBLIC_BASE_URL);
      const closed = await closeQuestion(deps, { questionId: question.id, outcome: "cancelled" });
      if (!closed) {
        const now = await findQuestion(shopId, id);
        if (now.status === "cancelled") return toQuestionView(now, config.PUBLIC_BASE_URL);
        throw conflict("question-not-cancellable", `The question is ${now.status.replace("_", " ")}; only a question still looking for an expert can be cancelled`);
      }
      return toQuestionView(await findQuestion(shopId, id), config.PUBLIC_BASE_URL);
    },
  };
}

export type QuestionService = ReturnType<typeof createQuestionService>;
