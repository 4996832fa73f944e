/**
 * A customer texts the shop's expert line. With no open question, that text
 * is the question; with one open, the text continues it (the product choice,
 * more detail, or a pointer to the number their expert texts from).
 */
import type { Deps } from "../../deps.js";
import type { Message, Prisma, Shop } from "../../generated/prisma/client.js";
import { closeQuestionInTx, enqueueRouting } from "../routing/offers.js";
import { customerCopy } from "../routing/offer-text.js";
import { firstName } from "../sessions/copy.js";
import { copy } from "../telephony/copy.js";
import type { InboundIntent } from "../telephony/keywords.js";
import { queueSms } from "../telephony/sms.js";
import { matchProductInText, parseProductChoice } from "./product-match.js";
import { checkQuestionDestination } from "./sms-guards.js";
import { OPEN_STATUSES, openQuestion, primaryPoolId, statusUrl } from "./service.js";
import { recordQuestionEvent } from "./timeline.js";

type IntakeDeps = Pick<Deps, "prisma" | "sql" | "redis" | "twilio" | "config" | "clock" | "logger" | "queuePrefix">;
type Tx = Prisma.TransactionClient;

/** The SMS door has no form to say how long to look: a day, as for REST by default. */
const SMS_QUESTION_TTL_MS = 24 * 60 * 60 * 1000;
/** At most this many products are listed in the "which product?" text. */
const MAX_PRODUCT_CHOICES = 5;
/** A question grows by the customer's follow-ups up to this length (what an expert can read in a few texts). */
const MAX_QUESTION_CHARS = 4000;
/** "Got it, added" is said at most once per question in this long: every reply is a paid text. */
const ADDED_REPLY_EVERY_MS = 10 * 60 * 1000;

export async function handleCustomerText(deps: IntakeDeps, input: { inbound: Message; shop: Shop; intent: InboundIntent }): Promise<void> {
  const { prisma, clock, config } = deps;
  const { inbound, shop, intent } = input;
  const now = clock.now();
  const reply = (tx: Tx, body: string, questionId?: string) =>
    queueSms(tx, {
      shopId: shop.id,
      from: inbound.to,
      to: inbound.from,
      body,
      purpose: "customer_reply",
      isReply: true,
      dedupeKey: `reply:${inbound.id}`,
      ...(questionId ? { questionId } : {}),
    });

  if (intent.kind === "help") {
    await prisma.$transaction((tx) => reply(tx, copy.help({ shopName: shop.name, contact: config.SUPPORT_CONTACT })));
    return;
  }

  await prisma.$transaction(
    async (tx) => {
      // One customer's texts to one shop apply in order: two quick texts open one question, not two.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`customer:${shop.id}:${inbound.from}`}))`;
      // Every path below links the text to its question in this transaction: a linked text was
      // handled already (a retried job, a worker that died after the commit) and changes nothing more.
      const handled = await tx.message.findUnique({ where: { id: inbound.id }, select: { questionId: true } });
      if (handled?.questionId) return;
      const open = await tx.question.findFirst({
        where: { shopId: shop.id, customerPhone: inbound.from, status: { in: [...OPEN_STATUSES] } },
        orderBy: { id: "desc" },
        include: { session: { include: { expert: { select: { name: true } } } } },
      });
      if (open) {
        await tx.message.update({ where: { id: inbound.id }, data: { questionId: open.id } });
        if (open.productChoices.length > 0) {
          const choices = await tx.product.findMany({ where: { id: { in: open.productChoices } }, select: { id: true, name: true, aliases: true, tags: true } });
          const ordered = open.productChoices.flatMap((id) => choices.filter((product) => product.id === id));
          const picked = parseProductChoice(inbound.body, ordered);
          const product = ordered.find((choice) => choice.id === picked);
          if (!product) {
            await reply(tx, customerCopy.productUnclear(ordered.length), open.id);
            return;
          }
          await tx.question.update({
            where: { id: open.id },
            data: { productId: product.id, tags: product.tags, productChoices: [], status: "routing", searchStartedAt: now, poolId: await primaryPoolId(tx, shop.id, product.id) },
          });
          await recordQuestionEvent(tx, { questionId: open.id, kind: "product_chosen", dedupeKey: `product-chosen:${open.id}`, at: now });
          await recordQuestionEvent(tx, { questionId: open.id, kind: "searching", dedupeKey: `searching:${open.id}:0`, at: now });
          await reply(
            tx,
            customerCopy.received({ name: open.customerName, shopName: shop.name, productName: product.name, statusUrl: statusUrl(config.PUBLIC_BASE_URL, open.statusToken) }),
            open.id,
          );
          await enqueueRouting(tx, open.id, "product-chosen");
          return;
        }
        if (open.session && open.session.status !== "ended") {
          await reply(tx, customerCopy.talkingOnOtherNumber(firstName(open.session.expert.name, "Your expert")), open.id);
          return;
        }
        if (intent.kind === "end-session" && (open.status === "routing" || open.status === "offered" || open.status === "received")) {
          // DONE before anyone took it: the customer no longer needs an answer.
          await closeQuestionInTx(tx, { questionId: open.id, outcome: "cancelled", now });
          return;
        }
        // More detail while we search: the expert will see it with the question.
        const more = inbound.body.trim();
        if (more && open.body.length < MAX_QUESTION_CHARS) {
          await tx.question.update({ where: { id: open.id }, data: { body: `${open.body}\n${more}`.slice(0, MAX_QUESTION_CHARS) } });
        }
        const slot = Math.floor(now.getTime() / ADDED_REPLY_EVERY_MS);
        await queueSms(tx, {
          shopId: shop.id,
          from: inbound.to,
          to: inbound.from,
          body: customerCopy.addedToQuestion,
          purpose: "customer_reply",
          isReply: true,
          questionId: open.id,
          dedupeKey: `question-added:${open.id}:${slot}`,
        });
        return;
      }

      // A picture or an empty text is no question to route: ask for words (once per text, like any reply).
      if (!inbound.body.trim()) {
        await reply(tx, customerCopy.askInWords(shop.name));
        return;
      }
      // Every answer costs a text to a number someone else chose: the pumping guards decide first, and a refusal is silent.
      const refusal = await checkQuestionDestination(deps, tx, { shop, phone: inbound.from });
      if (refusal) {
        deps.logger.warn({ shopId: shop.id, messageId: inbound.id, refusal: refusal.reason }, "a text to the expert line was not taken as a question");
        return;
      }
      const products = await tx.product.findMany({ where: { shopId: shop.id }, orderBy: { id: "asc" }, select: { id: true, name: true, aliases: true, tags: true } });
      const namedId = products.length === 1 ? products[0]!.id : matchProductInText(inbound.body, products);
      const product = products.find((candidate) => candidate.id === namedId) ?? null;
      const question = await openQuestion(tx, config, now, {
        shop,
        line: inbound.to,
        channel: "sms",
        text: inbound.body.trim(),
        customerPhone: inbound.from,
        customerName: null,
        product: product ? { id: product.id, name: product.name } : null,
        poolId: await primaryPoolId(tx, shop.id, product?.id ?? null),
        tags: product?.tags ?? [],
        optionalTags: [],
        preferredMode: "sms",
        context: null,
        expiresAt: new Date(now.getTime() + SMS_QUESTION_TTL_MS),
        ...(product || products.length === 0 ? {} : { productChoices: products.slice(0, MAX_PRODUCT_CHOICES).map(({ id, name }) => ({ id, name })) }),
      });
      await tx.message.update({ where: { id: inbound.id }, data: { questionId: question.id } });
    },
    { timeout: 15_000 },
  );
}
