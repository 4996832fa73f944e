/**
 * Guards against SMS pumping (OWASP API4, unrestricted access to paid
 * resources). Every question ends in texts to a number that a shop's form or
 * a stranger's text supplied, and the platform pays for each one; fraudsters
 * feed premium-rate numbers they share revenue on. Three checks, cheapest
 * first:
 *   1. the destination's country must be one the shop serves (pumping
 *      favours far-away premium ranges, and a shop's customers live near it);
 *   2. a daily cap on new customer numbers per shop, in PostgreSQL, exact
 *      under concurrency, which the admin raises for a shop that grows;
 *   3. rate limits in Redis per shop (a burst ceiling) and per destination
 *      number (across shops: the platform pays whichever form supplied it).
 *
 * `guardQuestionDestination` throws the matching DomainError for REST intake;
 * SMS intake calls `checkQuestionDestination` and stays silent on a refusal.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { SMS_GUARD_DEFAULTS, type Config } from "../../config.js";
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { DomainError } from "../../lib/problems.js";

// ---------------------------------------------------------------- countries

export interface ShopSmsCountries {
  country: string;
  smsCountries: readonly string[];
}

/** The countries a shop may text: its list, or only its own country when the list is empty. */
export function smsCountriesOf(shop: ShopSmsCountries): string[] {
  return shop.smsCountries.length > 0 ? [...shop.smsCountries] : [shop.country];
}

/**
 * The region a number belongs to, by its number range: +1 is shared by the
 * US, Canada and the Caribbean (+1 876 is Jamaica), +44 by the UK and the
 * Channel Islands, so the calling code alone would let a US shop text
 * Jamaican or Jersey premium ranges. Null for an invalid number or one of no
 * country (+800 international freephone).
 */
export function countryOfPhone(phone: string): string | null {
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid()) return null;
  return parsed.country ?? null;
}

export function destinationAllowed(phone: string, shop: ShopSmsCountries): boolean {
  const country = countryOfPhone(phone);
  return country !== null && smsCountriesOf(shop).includes(country);
}

/** Number types where the caller, or a texter, pays more and someone else earns: the goal of SMS pumping. */
const COSTLY_NUMBER_TYPES: ReadonlySet<string> = new Set(["PREMIUM_RATE", "SHARED_COST"]);

/** A premium-rate or shared-cost number (a US 900 number, a UK 09): never a customer's mobile. */
export function isCostlyNumber(phone: string): boolean {
  const type = parsePhoneNumberFromString(phone)?.getType();
  return type !== undefined && COSTLY_NUMBER_TYPES.has(type);
}

// ---------------------------------------------------------------- rate limits

export interface TextLimits {
  /** New questions per shop per rolling minute. */
  shopPerMinute: number;
  /** Questions per destination number per rolling hour, across shops. */
  destinationPerHour: number;
  /** ...and per rolling 24 hours. */
  destinationPerDay: number;
}

type TextLimitsConfig = Pick<Config, "SMS_GUARD_SHOP_PER_MINUTE" | "SMS_GUARD_DESTINATION_PER_HOUR" | "SMS_GUARD_DESTINATION_PER_DAY">;

export function textLimitsOf(config: TextLimitsConfig): TextLimits {
  return {
    shopPerMinute: config.SMS_GUARD_SHOP_PER_MINUTE,
    destinationPerHour: config.SMS_GUARD_DESTINATION_PER_HOUR,
    destinationPerDay: config.SMS_GUARD_DESTINATION_PER_DAY,
  };
}

export type RateScope = "shop" | "destination";
export type RateWindow = "minute" | "hour" | "day";

export type TextAllowance =
  | { allowed: true }
  | { allowed: false; scope: RateScope; retryAfterSeconds: number; window: RateWindow; limit: number };

const WINDOW_MS: Record<RateWindow, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Sliding-window logs: one sorted set per limit, scored by time, holding one
 * member per allowance taken in its window. Exact at window edges (a fixed
 * window lets twice the limit through around a boundary), and bounded: a set
 * never holds more than its limit (refusals add nothing) and expires one
 * window after its last entry. All limits are checked before any is taken,
 * in one script, so a refused call consumes nothing and concurrent callers
 * cannot both take the last slot. The wait reported is the longest one among
 * the refusing limits: the call succeeds only once all of them allow it.
 * In Redis Cluster the keys share the deployment prefix's hash tag, so they
 * live in one slot as a script's keys must.
 */
const TAKE_ALLOWANCE = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local refused, wait = 0, 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call("ZREMRANGEBYSCORE", KEYS[i], "-inf", now - window)
  local count = redis.call("ZCARD", KEYS[i])
  if count >= limit then
    local freeing = redis.call("ZRANGE", KEYS[i], count - limit, count - limit, "WITHSCORES")
    local retry = tonumber(freeing[2]) + window - now
    if retry > wait then refused, wait = i, retry end
  end
end
if refused > 0 then return {refused, wait} end
for i = 1, #KEYS do
  redis.call("ZADD", KEYS[i], now, member)
  redis.call("PEXPIRE", KEYS[i], ARGV[2 + 2 * i])
end
return {0, 0}`;

/** Phone numbers stay out of Redis key names (visible to MONITOR, KEYS and memory reports). */
function destinationKeyOf(phone: string): string {
  return createHash("sha256").update(phone).digest("hex").slice(0, 32);
}

interface RateRule {
  key: string;
  scope: RateScope;
  window: RateWindow;
  limit: number;
}

export function rateRulesOf(prefix: string, shopId: string, phone: string, limits: TextLimits): RateRule[] {
  const destination = destinationKeyOf(phone);
  return [
    { key: `${prefix}:rate:shop:${shopId}:minute`, scope: "shop", window: "minute", limit: limits.shopPerMinute },
    { key: `${prefix}:rate:destination:${destination}:hour`, scope: "destination", window: "hour", limit: limits.destinationPerHour },
    { key: `${prefix}:rate:destination:${destination}:day`, scope: "destination", window: "day", limit: limits.destinationPerDay },
  ];
}

export interface TextAllowanceRequest {
  /** Key namespace (the deployment's queue prefix). */
  prefix: string;
  shopId: string;
  /** E.164. */
  phone: string;
  now: Date;
  limits?: TextLimits;
}

/** Takes one question's allowance from every limit, or none when any limit refuses. */
export async function takeTextAllowance(
  redis: Redis,
  { prefix, shopId, phone, now, limits = SMS_GUARD_DEFAULTS }: TextAllowanceRequest,
): Promise<TextAllowance> {
  const rules = rateRulesOf(prefix, shopId, phone, limits);
  const args = rules.flatMap((rule) => [String(rule.limit), String(WINDOW_MS[rule.window])]);
  const [refused, waitMs] = (await redis.eval(
    TAKE_ALLOWANCE,
    rules.length,
    ...rules.map((rule) => rule.key),
    String(now.getTime()),
    randomUUID(),
    ...args,
  )) as [number, number];
  const rule = rules[refused - 1];
  if (!rule) return { allowed: true };
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { allowed: false, scope: rule.scope, window: rule.window, limit: rule.limit, retryAfterSeconds };
}

// ---------------------------------------------------------------- daily cap on new numbers

/** The UTC day `now` falls in: [start, end). */
export function utcDayOf(now: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start, end: new Date(start.getTime() + WINDOW_MS.day) };
}

/** Whole seconds until the next UTC midnight, at least 1: the Retry-After of a spent daily cap. */
export function secondsUntilNextUtcDay(now: Date): number {
  return Math.max(1, Math.ceil((utcDayOf(now).end.getTime() - now.getTime()) / 1000));
}

export interface CustomerNumberRequest {
  shopId: string;
  /** E.164. */
  phone: string;
  /** New numbers the shop may take per UTC day. */
  cap: number;
  now: Date;
}

type Admission = "known" | "new" | "refused";

async function admit(tx: Prisma.TransactionClient, { shopId, phone, cap, now }: CustomerNumberRequest): Promise<Admission> {
  const known = () =>
    tx.$queryRaw<unknown[]>`SELECT 1 FROM "ShopCustomer" WHERE "shopId" = ${shopId}::uuid AND "phone" = ${phone}`;
  // A returning customer is the common case and needs no lock.
  if ((await known()).length > 0) return "known";
  // New numbers of one shop are admitted one transaction at a time, so the
  // count below sees every admission committed before it (READ COMMITTED
  // takes a fresh snapshot per statement) and none can slip in beside it.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`shop-customers:${shopId}`}, 0))`;
  const { start, end } = utcDayOf(now);
  const inserted = await tx.$queryRaw<unknown[]>`
    INSERT INTO "ShopCustomer" ("shopId", "phone", "firstSeenAt")
    SELECT ${shopId}::uuid, ${phone}, ${now}
    WHERE (SELECT count(*) FROM "ShopCustomer"
           WHERE "shopId" = ${shopId}::uuid AND "firstSeenAt" >= ${start} AND "firstSeenAt" < ${end}) < ${cap}::int
    ON CONFLICT DO NOTHING
    RETURNING 1`;
  if (inserted.length > 0) return "new";
  // Refused by the cap, or another transaction admitted this very number
  // between our first look and the lock: that one is known now.
  return (await known()).length > 0 ? "known" : "refused";
}

/**
 * Records the number as the shop's customer and says whether it may be
 * texted: a number seen before always; a new one while fewer than `cap`
 * numbers were first seen this UTC day. `tx` must be an interactive
 * transaction at READ COMMITTED (Prisma's default): the shop's lock is held
 * until it ends.
 */
export async function admitCustomerNumber(tx: Prisma.TransactionClient, request: CustomerNumberRequest): Promise<boolean> {
  return (await admit(tx, request)) !== "refused";
}

// ---------------------------------------------------------------- all three, for intake

export interface GuardedShop extends ShopSmsCountries {
  id: string;
  dailyNewCustomerCap: number;
}

export type DestinationRefusal =
  | { reason: "country-not-allowed"; country: string | null }
  | { reason: "costly-number" }
  | { reason: "rate-limited"; scope: RateScope; window: RateWindow; limit: number; retryAfterSeconds: number }
  | { reason: "new-customer-cap"; cap: number; retryAfterSeconds: number };

export type GuardDeps = Pick<Deps, "redis" | "queuePrefix" | "clock" | "config" | "logger">;

/**
 * Runs the three checks for a question that will text `phone`; null when it
 * may go ahead, else why not. Call it inside the transaction that creates
 * the question: a new number is recorded there, and a refusal leaves no
 * record behind. A refusal by the rate limits takes nothing from them.
 *
 * Redis unreachable: the rate limits are skipped with a warning rather than
 * refusing every question, since PostgreSQL still caps the new numbers a
 * shop can reach and nothing is texted while the queues (Redis) are down.
 */
export async function checkQuestionDestination(
  deps: GuardDeps,
  tx: Prisma.TransactionClient,
  { shop, phone }: { shop: GuardedShop; phone: string },
): Promise<DestinationRefusal | null> {
  if (!destinationAllowed(phone, shop)) return { reason: "country-not-allowed", country: countryOfPhone(phone) };
  if (isCostlyNumber(phone)) return { reason: "costly-number" };

  const now = deps.clock.now();
  const admission = await admit(tx, { shopId: shop.id, phone, cap: shop.dailyNewCustomerCap, now });
  if (admission === "refused") {
    return { reason: "new-customer-cap", cap: shop.dailyNewCustomerCap, retryAfterSeconds: secondsUntilNextUtcDay(now) };
  }

  let allowance: TextAllowance;
  try {
    allowance = await takeTextAllowance(deps.redis, {
      prefix: deps.queuePrefix,
      shopId: shop.id,
      phone,
      now,
      limits: textLimitsOf(deps.config),
    });
  } catch (error) {
    // Redis answered with an error: a bug in the script or the keys, not an outage.
    if (error instanceof Error && error.name === "ReplyError") throw error;
    deps.logger.warn({ err: error, shopId: shop.id }, "SMS rate limits unavailable (Redis); question let through");
    return null;
  }
  if (allowance.allowed) return null;
  // Not texted, so not a customer yet: the number must not use up the day's cap.
  if (admission === "new") {
    await tx.$executeRaw`DELETE FROM "ShopCustomer" WHERE "shopId" = ${shop.id}::uuid AND "phone" = ${phone}`;
  }
  const { scope, window, limit, retryAfterSeconds } = allowance;
  return { reason: "rate-limited", scope, window, limit, retryAfterSeconds };
}

const WINDOW_WORDS: Record<RateWindow, string> = { minute: "a minute", hour: "an hour", day: "a day" };

/**
 * The problem a REST caller gets for a refusal. `fieldPath` names the
 * request field that carried the number.
 */
export function refusalError(refusal: DestinationRefusal, fieldPath = "body.customer.phone"): DomainError {
  switch (refusal.reason) {
    case "costly-number":
      return new DomainError(422, "sms-costly-number", "This is a premium-rate or shared-cost number; questions go to mobile numbers", [
        { path: fieldPath, message: "is a premium-rate or shared-cost number", code: "sms-costly-number" },
      ]);
    case "country-not-allowed": {
      const where = refusal.country ? `numbers in ${refusal.country}` : "this number (no country could be told from it)";
      return new DomainError(422, "sms-country-not-allowed", `This shop cannot text ${where}`, [
        { path: fieldPath, message: `this shop cannot text ${where}`, code: "sms-country-not-allowed" },
      ]);
    }
    case "rate-limited": {
      const what =
        refusal.scope === "shop"
          ? `This shop may start at most ${refusal.limit} questions ${WINDOW_WORDS[refusal.window]}`
          : `One phone number may be sent at most ${refusal.limit} questions ${WINDOW_WORDS[refusal.window]}`;
      return new DomainError(
        429,
        "rate-limited",
        `${what} (limit: ${refusal.scope} per ${refusal.window}); retry in ${refusal.retryAfterSeconds} s`,
        undefined,
        { "retry-after": String(refusal.retryAfterSeconds) },
      );
    }
    case "new-customer-cap":
      return new DomainError(
        429,
        "new-customer-cap",
        `This shop reached its cap of ${refusal.cap} new customer numbers today (UTC); ` +
          "numbers that asked before still work, the cap resets at 00:00 UTC, and the platform admin can raise it",
        undefined,
        { "retry-after": String(refusal.retryAfterSeconds) },
      );
  }
}

/** checkQuestionDestination for REST intake: throws the refusal as a problem. */
export async function guardQuestionDestination(
  deps: GuardDeps,
  tx: Prisma.TransactionClient,
  request: { shop: GuardedShop; phone: string; fieldPath?: string },
): Promise<void> {
  const refusal = await checkQuestionDestination(deps, tx, request);
  if (refusal) throw refusalError(refusal, request.fieldPath);
}
