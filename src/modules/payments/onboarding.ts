/**
 * Stripe Connect onboarding of experts, by SMS (issue 9 §2).
 *
 * - When an expert becomes active and approved without payouts enabled, the
 *   transaction that made them so queues an `expert-onboarding-link` job
 *   (outbox). The job texts OUR link, /e/onboard/<token>, from the shop's
 *   expert line: a random token whose sha256 alone is stored, as an
 *   OnboardingLink row that works for ONBOARDING_LINK_TTL_DAYS. (A job, as for
 *   invites, because the expert line may have to be bought first, which is
 *   no work for inside a transaction.)
 * - Each text is its own link, valid until its own expiry: a newer text (the
 *   weekly reminder) does not break the refresh_url / return_url of an
 *   onboarding in progress. An expired link says so and queues a fresh text
 *   (at most one an hour). Only active experts' links work: a suspended or
 *   invited expert's link is the not-found page.
 * - GET /e/onboard/<token> creates the expert's Express account once
 *   (Accounts v1 with controller properties; idempotency key per expert,
 *   stored by a conditional update) and sends the browser to a fresh
 *   `account_onboarding` link. Express accounts cannot get `account_update`
 *   links, so that is the only kind ever asked for.
 * - The return URL proves nothing: it retrieves the account and says what it
 *   finds. The expert's state comes only from the account itself
 *   (`syncConnectedAccount`), retrieved or from `account.updated`.
 * - Earnings that wait for payouts to be set up are announced to active
 *   experts at most once a week, with a fresh link
 *   (`remindExpertsWithWaitingEarnings`).
 */
import type Stripe from "stripe";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { defineJob, QUEUES } from "../../jobs/define.js";
import { formatMoney } from "../../lib/money.js";
import { randomBase62, sha256Hex } from "../../lib/tokens.js";
import { enqueue } from "../outbox/outbox.js";
import { createNumberService } from "../telephony/numbers.js";
import { queueSms } from "../telephony/sms.js";
import { accountState, expertIdOf, stateTime, type AccountLike } from "./connect-account.js";
import { onboardingLinkText, onboardingUrl, payoutReminderText } from "./onboarding-copy.js";

export const EXPERT_ONBOARDING_LINK = "expert-onboarding-link";
export const REMIND_WAITING_EARNINGS = "remind-waiting-earnings";
/** The reminder job runs daily; each expert hears from it at most once a week. */
export const REMIND_WAITING_EARNINGS_EVERY_MS = 24 * 60 * 60 * 1000;
export const PAYOUT_REMINDER_INTERVAL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * How long a texted onboarding link works. The link is a bearer credential:
 * whoever opens it enters bank and identity details on the expert's Express
 * account, and an SMS gets forwarded, read on a shared phone or leaked. A
 * week bounds that exposure yet leaves an expert time to get to it; it
 * matches the weekly reminder, which texts a fresh link to anyone whose
 * earnings still wait, and an expired link asks for a new one itself.
 */
export const ONBOARDING_LINK_TTL_DAYS = 7;
const ONBOARDING_LINK_TTL_MS = ONBOARDING_LINK_TTL_DAYS * 24 * 60 * 60 * 1000;
/** An expired link queues a new text unless a link was texted within this (no SMS spam by reloading an old link). */
export const ONBOARDING_LINK_RESEND_INTERVAL_MS = 60 * 60 * 1000;

/** Onboarding tokens: 32 base62 characters (~190 bits). Anything else is answered 404 without a query. */
export const ONBOARDING_TOKEN_PATTERN = /^[0-9A-Za-z]{32}$/;

type Tx = Prisma.TransactionClient;
type MessagingDeps = Pick<Deps, "prisma" | "clock" | "config" | "logger" | "twilio">;
export type OnboardingDeps = MessagingDeps & Pick<Deps, "stripe">;

interface ExpertStanding {
  status: string;
  vettingStatus: string;
  payoutsEnabled: boolean;
}

/** Active, approved, and not yet able to be paid: who needs the onboarding link. */
function needsOnboarding(expert: ExpertStanding): boolean {
  return expert.status === "active" && expert.vettingStatus === "approved" && !expert.payoutsEnabled;
}

/** Only an active expert's links work, and only active experts are texted (not suspended, not invited). */
function isActive(expert: Pick<ExpertStanding, "status">): boolean {
  return expert.status === "active";
}

function isActiveAndApproved(expert: Pick<ExpertStanding, "status" | "vettingStatus">): boolean {
  return isActive(expert) && expert.vettingStatus === "approved";
}

/**
 * Called by the experts service in the transaction of every life-cycle or
 * vetting change: when the expert has just become active and approved (from
 * either side: a YES while approved, an approval while active, a
 * reinstatement) and payouts are off, the onboarding text is queued. The job
 * id carries the moment, so a later activation is a new text while a replay
 * of this one is not.
 */
export async function enqueueOnboardingLinkOnActivation(
  tx: Tx,
  input: { before: Pick<ExpertStanding, "status" | "vettingStatus">; after: ExpertStanding & { id: string }; now: Date },
): Promise<void> {
  const { before, after, now } = input;
  if (isActiveAndApproved(before) || !needsOnboarding(after)) return;
  await enqueue(tx, {
    queue: QUEUES.payments,
    name: EXPERT_ONBOARDING_LINK,
    // No phone, no token: the job reads the expert and mints the token.
    payload: { expertId: after.id, at: now.toISOString() },
    jobId: `onboard-link-${after.id}-${now.getTime()}`,
  });
}

interface LockedExpert extends ExpertStanding {
  phone: string;
  onboardingLinkSentAt: Date | null;
  payoutReminderSentAt: Date | null;
}

async function lockExpert(tx: Tx, expertId: string): Promise<LockedExpert | undefined> {
  const [row] = await tx.$queryRaw<LockedExpert[]>`
    SELECT phone, status::text AS status, "vettingStatus"::text AS "vettingStatus", "payoutsEnabled",
           "onboardingLinkSentAt", "payoutReminderSentAt"
    FROM "Expert" WHERE id = ${expertId}::uuid FOR UPDATE`;
  return row;
}

/** A fresh onboarding token (32 base62 characters); only its sha256 is ever stored. */
function newToken(): string {
  return randomBase62(32);
}

/**
 * Stores a texted token as a link (its sha256 and expiry), in the transaction
 * that queued its text. Older links stay valid until their own expiry.
 */
async function storeLink(tx: Tx, expertId: string, token: string, now: Date): Promise<void> {
  await tx.onboardingLink.create({
    data: { expertId, tokenHash: sha256Hex(token), createdAt: now, expiresAt: new Date(now.getTime() + ONBOARDING_LINK_TTL_MS) },
  });
}

/** Why a link is texted: the expert became active and approved, or opened an expired link. */
const linkReason = z.enum(["activation", "expired"]);

/**
 * Texts the onboarding link for one activation, or one expired-link request
 * (`at`); a retry after it was sent does nothing. An expired-link request is
 * also dropped when any link was texted within the hour before it.
 */
export function onboardingLinkJob(deps: MessagingDeps) {
  const numbers = createNumberService(deps);
  return defineJob({
    name: EXPERT_ONBOARDING_LINK,
    payload: z.object({
      expertId: z.uuid(),
      at: z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
      reason: linkReason.default("activation"),
    }),
    async handle({ expertId, at, reason }) {
      // Sent already: this activation's text (at or after `at`), or for an expired link any text of the hour before.
      const sentFor = ({ onboardingLinkSentAt: sentAt }: { onboardingLinkSentAt: Date | null }) =>
        sentAt !== null && (reason === "expired" ? sentAt.getTime() > at.getTime() - ONBOARDING_LINK_RESEND_INTERVAL_MS : sentAt >= at);
      const expert = await deps.prisma.expert.findUnique({ where: { id: expertId }, include: { shop: { select: { name: true } } } });
      if (!expert || !needsOnboarding(expert) || sentFor(expert)) return;
      const line = await numbers.ensureExpertLine(expert.shopId); // may buy a number: outside the transaction
      await deps.prisma.$transaction(async (tx) => {
        const locked = await lockExpert(tx, expertId);
        if (!locked || !needsOnboarding(locked) || sentFor(locked)) return;
        const now = deps.clock.now();
        const token = newToken();
        const sent = await queueSms(tx, {
          shopId: expert.shopId,
          from: line.e164,
          to: locked.phone,
          body: onboardingLinkText({ expertName: expert.name, shopName: expert.shop.name, url: onboardingUrl(deps.config.PUBLIC_BASE_URL, token) }),
          purpose: "payout_onboarding",
          dedupeKey: `onboard:${expertId}:${at.getTime()}`,
        });
        // The text for this activation exists already (a replay): its link is the one, and this token is never stored.
        if (!sent) return;
        await storeLink(tx, expertId, token, now);
        await tx.expert.update({ where: { id: expertId }, data: { onboardingLinkSentAt: now < at ? at : now } });
      });
    },
  });
}

// ---------------------------------------------------------------- account state

export type SyncOutcome = "applied" | "stale" | "unknown-account";

/**
 * Applies a connected account's state (retrieved at `at`, or an event's
 * `created`) to the expert who holds it, unless a state of a later second is
 * already applied: one conditional UPDATE, so concurrent events cannot
 * interleave and an old event delivered late changes nothing. An account no
 * expert holds yet, but whose metadata names an expert without one (a crash
 * between creating it and storing its id), is linked to that expert.
 */
export async function syncConnectedAccount(
  deps: Pick<Deps, "prisma" | "logger">,
  account: AccountLike,
  at: Date,
): Promise<{ outcome: SyncOutcome; expertId: string | null }> {
  const state = accountState(account);
  const syncedAt = stateTime(at);
  const data = {
    payoutsEnabled: state.payoutsEnabled,
    stripeDetailsSubmitted: state.detailsSubmitted,
    stripeDisabledReason: state.disabledReason,
    stripeRequirementsDue: state.requirementsDue,
    stripeAccountSyncedAt: syncedAt,
  };
  const notNewer = { OR: [{ stripeAccountSyncedAt: null }, { stripeAccountSyncedAt: { lte: syncedAt } }] };
  const applied = await deps.prisma.expert.updateManyAndReturn({
    where: { stripeAccountId: account.id, ...notNewer },
    data,
    select: { id: true },
  });
  if (applied[0]) return { outcome: "applied", expertId: applied[0].id };
  const holder = await deps.prisma.expert.findUnique({ where: { stripeAccountId: account.id }, select: { id: true } });
  if (holder) return { outcome: "stale", expertId: holder.id };
  const named = expertIdOf(account);
  if (named) {
    const linked = await deps.prisma.expert.updateManyAndReturn({
      where: { id: named, stripeAccountId: null, ...notNewer },
      data: { ...data, stripeAccountId: account.id },
      select: { id: true },
    });
    if (linked[0]) {
      deps.logger.info({ expertId: named, accountId: account.id }, "linked a connected account found by its metadata");
      return { outcome: "applied", expertId: named };
    }
  }
  return { outcome: "unknown-account", expertId: null };
}

// ---------------------------------------------------------------- the pages' work

export type OnboardingStep =
  | { kind: "not-found" }
  | { kind: "expired" }
  | { kind: "done" }
  | { kind: "redirect"; url: string }
  | { kind: "pending"; requirementsDue: string[]; detailsSubmitted: boolean; disabledReason: string | null }
  | { kind: "unavailable" };

interface LinkedExpert {
  id: string;
  stripeAccountId: string | null;
  payoutsEnabled: boolean;
}

/**
 * Whose link this is, and whether it may be used: not-found for an unknown
 * token or an expert who is not active (suspended, invited: the same page,
 * nothing told); expired once its week is over, which also asks for a fresh
 * text, unless payouts are on by now (done: nothing to do, nothing created);
 * else the expert.
 */
async function expertByToken(deps: Pick<Deps, "prisma" | "clock">, token: string): Promise<LinkedExpert | Extract<OnboardingStep, { kind: "not-found" | "done" | "expired" }>> {
  if (!ONBOARDING_TOKEN_PATTERN.test(token)) return { kind: "not-found" };
  const link = await deps.prisma.onboardingLink.findUnique({
    where: { tokenHash: sha256Hex(token) },
    select: { expiresAt: true, expert: { select: { id: true, status: true, stripeAccountId: true, payoutsEnabled: true } } },
  });
  if (!link || !isActive(link.expert)) return { kind: "not-found" };
  if (link.expiresAt <= deps.clock.now()) {
    if (link.expert.payoutsEnabled) return { kind: "done" };
    await requestFreshLink(deps, link.expert.id);
    return { kind: "expired" };
  }
  return { id: link.expert.id, stripeAccountId: link.expert.stripeAccountId, payoutsEnabled: link.expert.payoutsEnabled };
}

/**
 * An expired link was opened: queue a fresh text (the link job) if the expert
 * still needs onboarding and no link was texted in the last hour. The job id
 * is per expert and hour, so reloading the page queues nothing more; the job
 * checks the hour again under the expert's row lock.
 */
async function requestFreshLink(deps: Pick<Deps, "prisma" | "clock">, expertId: string): Promise<void> {
  const now = deps.clock.now();
  await deps.prisma.$transaction(async (tx) => {
    const expert = await tx.expert.findUnique({
      where: { id: expertId },
      select: { status: true, vettingStatus: true, payoutsEnabled: true, onboardingLinkSentAt: true },
    });
    if (!expert || !needsOnboarding(expert)) return;
    if (expert.onboardingLinkSentAt && expert.onboardingLinkSentAt.getTime() > now.getTime() - ONBOARDING_LINK_RESEND_INTERVAL_MS) return;
    await enqueue(tx, {
      queue: QUEUES.payments,
      name: EXPERT_ONBOARDING_LINK,
      payload: { expertId, at: now.toISOString(), reason: "expired" },
      jobId: `onboard-link-expired-${expertId}-${Math.floor(now.getTime() / ONBOARDING_LINK_RESEND_INTERVAL_MS)}`,
    });
  });
}

function isStripeError(error: unknown): error is Stripe.errors.StripeError {
  return error instanceof Error && typeof (error as { type?: unknown }).type === "string" && "statusCode" in error;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a click waits for a concurrent click's account creation (409 idempotency_key_in_use) beyond the SDK's own retries. */
const IN_USE_RETRIES = 6;
const IN_USE_WAIT_MS = 250;

/**
 * The expert's connected account id, created once. The idempotency key makes
 * Stripe answer a concurrent or repeated create with the same account (a 409
 * while the first is still running: the SDK retries it, and so does this,
 * briefly); the conditional update stores it once whoever gets there first.
 */
async function ensureAccount(deps: OnboardingDeps, expertId: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const account = await deps.stripe.accounts.create(
        {
          controller: {
            stripe_dashboard: { type: "express" },
            fees: { payer: "application" },
            losses: { payments: "application" },
            requirement_collection: "stripe",
          },
          capabilities: { transfers: { requested: true } },
          metadata: { expertId },
        },
        { idempotencyKey: `expert-account-${expertId}` },
      );
      await deps.prisma.expert.updateMany({ where: { id: expertId, stripeAccountId: null }, data: { stripeAccountId: account.id } });
      const stored = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expertId }, select: { stripeAccountId: true } });
      return stored.stripeAccountId ?? account.id;
    } catch (error) {
      const inUse = isStripeError(error) && error.statusCode === 409;
      if (!inUse || attempt >= IN_USE_RETRIES) throw error;
      await sleep(IN_USE_WAIT_MS);
    }
  }
}

/**
 * GET /e/onboard/<token>: an account (created once) and a fresh onboarding
 * link to it; or "done" when payouts are already on. Also the link's
 * refresh_url: Stripe sends the browser back here when its link was spent
 * or expired, and a new one is made. The refresh and return URLs carry this
 * link's token, so they work as long as this link does, whatever was texted
 * since.
 */
export async function startOnboarding(deps: OnboardingDeps, token: string): Promise<OnboardingStep> {
  const expert = await expertByToken(deps, token);
  if ("kind" in expert) return expert;
  if (expert.payoutsEnabled) return { kind: "done" };
  try {
    const accountId = expert.stripeAccountId ?? (await ensureAccount(deps, expert.id));
    const link = await deps.stripe.accountLinks.create({
      account: accountId,
      type: "account_onboarding",
      refresh_url: onboardingUrl(deps.config.PUBLIC_BASE_URL, token),
      return_url: `${onboardingUrl(deps.config.PUBLIC_BASE_URL, token)}/return`,
    });
    return { kind: "redirect", url: link.url };
  } catch (error) {
    if (!isStripeError(error)) throw error;
    deps.logger.warn({ err: error, expertId: expert.id }, "could not start Stripe onboarding");
    return { kind: "unavailable" };
  }
}

/**
 * GET /e/onboard/<token>/return: Stripe passes no state, and the expert may
 * have chosen "save for later". The account says how things are.
 */
export async function finishOnboarding(deps: OnboardingDeps, token: string): Promise<OnboardingStep> {
  const expert = await expertByToken(deps, token);
  if ("kind" in expert) return expert;
  if (!expert.stripeAccountId) return { kind: "pending", requirementsDue: [], detailsSubmitted: false, disabledReason: null };
  try {
    const account = await deps.stripe.accounts.retrieve(expert.stripeAccountId);
    await syncConnectedAccount(deps, account, deps.clock.now());
  } catch (error) {
    if (!isStripeError(error)) throw error;
    deps.logger.warn({ err: error, expertId: expert.id }, "could not retrieve the connected account on return");
    return { kind: "unavailable" };
  }
  // What is applied now (this state, or a newer one an event brought meanwhile).
  const now = await deps.prisma.expert.findUniqueOrThrow({
    where: { id: expert.id },
    select: { payoutsEnabled: true, stripeRequirementsDue: true, stripeDetailsSubmitted: true, stripeDisabledReason: true },
  });
  if (now.payoutsEnabled) return { kind: "done" };
  return { kind: "pending", requirementsDue: now.stripeRequirementsDue, detailsSubmitted: now.stripeDetailsSubmitted, disabledReason: now.stripeDisabledReason };
}

// ---------------------------------------------------------------- the weekly reminder

interface WaitingRow {
  expertId: string;
  shopId: string;
  currency: string;
  waiting: bigint;
}

/** Experts per run; the rest wait for the next day's run. */
const REMINDER_BATCH = 500;

/**
 * Active experts whose earnings wait because payouts are off hear about it
 * at most once a week, with a fresh link (earlier links keep working until
 * their own expiry). Suspended and invited experts hear nothing. Earnings counted are
 * session earnings net of their reversals that no active payout holds.
 * Returns how many experts were texted. Safe to run twice: the week is
 * checked again under the expert's row lock.
 */
export async function remindExpertsWithWaitingEarnings(deps: MessagingDeps): Promise<number> {
  const now = deps.clock.now();
  const weekAgo = new Date(now.getTime() - PAYOUT_REMINDER_INTERVAL_MS);
  const rows = await deps.prisma.$queryRaw<WaitingRow[]>`
    SELECT e."expertId", x."shopId", e.currency, SUM(e."amountMinor")::bigint AS waiting
    FROM "LedgerEntry" e
    JOIN "Expert" x ON x.id = e."expertId"
    WHERE e.kind IN ('session_earning', 'earning_reversal')
      AND NOT EXISTS (SELECT 1 FROM "PayoutItem" i WHERE i."entryId" = e.id AND i."releasedAt" IS NULL)
      AND x."payoutsEnabled" = false
      AND x.status = 'active'
      AND (x."payoutReminderSentAt" IS NULL OR x."payoutReminderSentAt" <= ${weekAgo})
    GROUP BY e."expertId", x."shopId", e.currency
    HAVING SUM(e."amountMinor") > 0
    ORDER BY e."expertId", e.currency
    LIMIT ${REMINDER_BATCH}`;
  const byExpert = new Map<string, { shopId: string; amounts: { currency: string; minor: number }[] }>();
  for (const row of rows) {
    const entry = byExpert.get(row.expertId) ?? { shopId: row.shopId, amounts: [] };
    entry.amounts.push({ currency: row.currency.trim(), minor: Number(row.waiting) });
    byExpert.set(row.expertId, entry);
  }
  const numbers = createNumberService(deps);
  let texted = 0;
  for (const [expertId, { shopId, amounts }] of byExpert) {
    try {
      const line = await numbers.ensureExpertLine(shopId);
      const sent = await deps.prisma.$transaction(async (tx) => {
        const locked = await lockExpert(tx, expertId);
        if (!locked || locked.payoutsEnabled || !isActive(locked)) return false;
        if (locked.payoutReminderSentAt && locked.payoutReminderSentAt > weekAgo) return false;
        const token = newToken();
        const earned = amounts.map(({ minor, currency }) => formatMoney(minor, currency)).join(" + ");
        const id = await queueSms(tx, {
          shopId,
          from: line.e164,
          to: locked.phone,
          body: payoutReminderText({ earned, url: onboardingUrl(deps.config.PUBLIC_BASE_URL, token) }),
          purpose: "payout_reminder",
          dedupeKey: `payout-reminder:${expertId}:${now.getTime()}`,
        });
        if (!id) return false; // this run's text exists already
        await storeLink(tx, expertId, token, now);
        await tx.expert.update({ where: { id: expertId }, data: { onboardingLinkSentAt: now, payoutReminderSentAt: now } });
        return true;
      });
      if (sent) texted++;
    } catch (error) {
      deps.logger.warn({ err: error, expertId }, "could not remind an expert of waiting earnings; trying again at the next run");
    }
  }
  if (texted > 0) deps.logger.info({ texted }, "reminded experts of earnings waiting for payout set-up");
  return texted;
}

/** The maintenance queue's daily run of the reminder. */
export function remindWaitingEarningsJob(deps: MessagingDeps) {
  return defineJob({
    name: REMIND_WAITING_EARNINGS,
    payload: z.object({}).loose(),
    async handle() {
      await remindExpertsWithWaitingEarnings(deps);
    },
  });
}

/** The payments queue's onboarding jobs (register beside stripeEventJobs). */
export function onboardingJobs(deps: MessagingDeps) {
  return [onboardingLinkJob(deps)];
}
