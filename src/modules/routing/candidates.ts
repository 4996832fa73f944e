/**
 * Who may be offered a question now: ONE SQL statement through the pool
 * Prisma itself uses (`deps.sql`), a prepared statement whose generic plan
 * PostgreSQL keeps, so it is not planned again on every call. Ranking them
 * is rank.ts (pure). The pools' mean ratings (the rating prior) come from a
 * per-process cache; only a miss costs another query (poolMeanRatings).
 *
 * An expert is a candidate when they are active, approved and not paused; a
 * member of a pool covering the question; hold every tag the search asks for;
 * are inside their weekly schedule and outside their quiet hours in their own
 * time zone (PostgreSQL's AT TIME ZONE, the same rules as src/lib/schedule.ts);
 * have fewer open sessions than their cap; have not opted out of the shop's
 * expert line; and have not been offered this question before.
 *
 * At 100,000 experts the eligible set of a common tag runs into thousands, and
 * checking one expert costs a few microseconds, so the query does not look at
 * all of them. It walks ONE driving set in expert-id order and stops as soon
 * as it has `limit` candidates:
 *   - `pool`: the members of the covering pools, when they are few
 *     (POOL_DOMAIN_MAX) and no more than the holders of the rarest tag;
 *   - `tag`: the holders of the rarest required tag (an index range);
 *   - `shop`: every expert of the shop (widened search without tags).
 * Every candidate is in each set, so when fewer than `limit` exist the walk
 * reads its whole set and finds them all: a small or rare search is exact.
 * The walk starts just after the expert offered most recently in the shop and
 * wraps around (round robin), so a large eligible set is taken in turns
 * instead of always from its start; rank.ts then orders the window. The
 * customer's earlier expert (continuity) is checked on its own, first, so a
 * window never leaves them out.
 *
 * Each check is a sub-select evaluated per row in a fixed order (cheap index
 * probes first, the expert's row next, then sessions, opt-outs, offers): the
 * planner cannot turn one into a join over a whole table, which it would
 * otherwise do for a table it knows nothing about.
 *
 * Known limit: ExpertSkill has no shop column, so a tag's holders are counted
 * and walked across all shops. A tag common in other shops but rare in this
 * one makes the tag walk read the others' holders; ExpertSkill.shopId with an
 * index on (shopId, tag, expertId) would remove that.
 */
import type pg from "pg";
import type { Candidate } from "./rank.js";

type Sql = Pick<pg.Pool, "query">;

export interface CandidateQuery {
  shopId: string;
  questionId: string;
  productId: string | null;
  tags: string[];
  optionalTags: string[];
  /** 0 = every tag and optional tag, 1 = optional tags dropped, 2 = also every pool of the shop. */
  widenLevel: 0 | 1 | 2;
  now: Date;
  /** How many candidates to return at most (1-1000), besides the customer's earlier expert. */
  limit?: number;
}

/** Enough for a broadcast round and for ranking to choose among; more only costs time. */
export const DEFAULT_CANDIDATE_LIMIT = 25;
/** Covering pools with at most this many members are walked whole; past it, the tag or shop walk is cheaper. */
export const POOL_DOMAIN_MAX = 500;
/** Holders of a tag are counted up to this to find the rarest one (an index range of at most this many entries per tag). */
const TAG_COUNT_CAP = 500;
/** Pool means are recomputed at most this often per process (see poolMeanRatings). */
export const POOL_MEAN_MAX_AGE_MS = 60_000;

// ---------------------------------------------------------------- the statement
//
// $1 shopId, $2 questionId, $3 productId (nullable), $4 tags required at this level,
// $5 widen level, $6 now, $7 every tag of the question (for the skill levels returned). The limit is in the text.

/** Covering pools, most specific first: listing the product, overlapping the tags (no product), shop-wide, any (level 2). */
const COVERING = `
  SELECT COALESCE(array_agg(p.id ORDER BY p.specificity, p.id), '{}') AS ids
  FROM (
    SELECT p.id, CASE
        WHEN bool_or(pp."productId" = $3::uuid) THEN 0
        WHEN $3::uuid IS NULL AND p.tags && $4::text[] THEN 1
        WHEN count(pp."productId") = 0 THEN 2
        ELSE 3 END AS specificity
    FROM "Pool" p LEFT JOIN "PoolProduct" pp ON pp."poolId" = p.id
    WHERE p."shopId" = $1::uuid
    GROUP BY p.id
  ) p
  WHERE p.specificity < 3 OR $5::int >= 2`;

const COVERING_IDS = `(SELECT ids FROM covering)::uuid[]`;
const DRIVER = `(SELECT driver FROM plan)`;
const CURSOR = `(SELECT id FROM cursor)`;

// Both probes read the expert's few index entries in one descent and filter them (array_position), where
// "= ANY" on the second index column would descend once per element: per covering pool, per tag.
const IN_COVERING_POOL = (id: string) =>
  `(SELECT true FROM "PoolMember" pm WHERE pm."expertId" = ${id} AND array_position(${COVERING_IDS}, pm."poolId") IS NOT NULL LIMIT 1)`;

const HOLDS_EVERY_TAG = (id: string) =>
  `(SELECT count(*) FROM "ExpertSkill" s WHERE s."expertId" = ${id} AND array_position($4::text[], s.tag) IS NOT NULL) = cardinality($4::text[])`;

/** The expert's wall clock now: "HH:MM" and "mon".."sun" in their own zone. */
const LOCAL_TIME = `
  SELECT to_char(z.local, 'HH24:MI') COLLATE "C" AS hm, lower(to_char(z.local, 'Dy')) AS dy
  FROM (SELECT $6::timestamptz AT TIME ZONE e."timeZone" AS local) z`;

/**
 * The expert's own row and everything checked against it, for one id.
 * "HH:MM" strings compare in byte order ("C"), which is clock order; an
 * availability window may end at "24:00". Mirrors isReachable() of
 * src/lib/schedule.ts: no schedule (or not a list) = any hour.
 */
const EXPERT_CHECKS = (id: string) => `
  SELECT e.id, e.name, e."ratingSum", e."ratingCount", e."offersReceived", e."offersAccepted",
         e."offersDeclined", e."offersTimedOut", e."lastOfferedAt"
  FROM "Expert" e CROSS JOIN LATERAL (${LOCAL_TIME}) lt
  WHERE e.id = ${id} AND CASE
    WHEN NOT (e."shopId" = $1::uuid AND e.status = 'active' AND e."vettingStatus" = 'approved' AND NOT e.paused) THEN false
    WHEN jsonb_typeof(e."weeklyAvailability") = 'array' AND NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements(e."weeklyAvailability") w
        WHERE w->>'day' = lt.dy AND (w->>'start') COLLATE "C" <= lt.hm AND (w->>'end') COLLATE "C" > lt.hm) THEN false
    WHEN e."quietHoursStart" IS NOT NULL AND e."quietHoursEnd" IS NOT NULL AND CASE
        WHEN e."quietHoursStart" COLLATE "C" < e."quietHoursEnd" THEN lt.hm >= e."quietHoursStart" AND lt.hm < e."quietHoursEnd"
        ELSE lt.hm >= e."quietHoursStart" OR lt.hm < e."quietHoursEnd" END THEN false
    WHEN (SELECT count(*) FROM "Session" ss WHERE ss."expertId" = e.id AND ss.status <> 'ended') >= e."maxConcurrentSessions" THEN false
    WHEN (SELECT true FROM "OptOut" oo WHERE oo.phone = e.phone AND oo."platformNumber" = ANY ((SELECT lines FROM line)::text[]) LIMIT 1) THEN false
    WHEN (SELECT true FROM "Offer" o WHERE o."questionId" = $2::uuid AND o."expertId" = e.id) THEN false
    ELSE true END
  OFFSET 0`;

/**
 * The rarest tag's holders in id order; with a second tag, only those holding
 * it too: a merge of the two tags' index ranges, both read in id order, costs
 * far less per holder than a probe for each.
 */
const TAG_WALK = (from: ">" | "<=") => `
    (SELECT s."expertId", false FROM "ExpertSkill" s
     WHERE ${DRIVER} = 'tag' AND (SELECT second FROM plan) IS NULL
       AND s.tag = (SELECT tag FROM plan) AND s."expertId" ${from} ${CURSOR} ORDER BY s."expertId")
    UNION ALL (SELECT a."expertId", false FROM "ExpertSkill" a JOIN "ExpertSkill" b ON b."expertId" = a."expertId"
     WHERE ${DRIVER} = 'tag' AND (SELECT second FROM plan) IS NOT NULL
       AND a.tag = (SELECT tag FROM plan) AND b.tag = (SELECT second FROM plan)
       AND a."expertId" ${from} ${CURSOR} AND b."expertId" ${from} ${CURSOR} ORDER BY a."expertId")`;

/**
 * The ids to walk, in order: the customer's earlier expert first, then the
 * chosen driver's set from the round-robin cursor on, then from its start up
 * to the cursor. A branch whose driver was not chosen is skipped by its
 * one-time filter; the LIMIT above stops the rest as soon as it is reached.
 */
const DRIVEN_IDS = `
    SELECT id, true AS earlier FROM previous WHERE id IS NOT NULL
    UNION ALL (SELECT id, false FROM pool_domain WHERE ${DRIVER} = 'pool' AND id > ${CURSOR} ORDER BY id)
    UNION ALL (SELECT id, false FROM pool_domain WHERE ${DRIVER} = 'pool' AND id <= ${CURSOR} ORDER BY id)
    UNION ALL ${TAG_WALK(">")}
    UNION ALL ${TAG_WALK("<=")}
    UNION ALL (SELECT x.id, false FROM "Expert" x WHERE ${DRIVER} = 'shop' AND x."shopId" = $1::uuid AND x.id > ${CURSOR} ORDER BY x.id)
    UNION ALL (SELECT x.id, false FROM "Expert" x WHERE ${DRIVER} = 'shop' AND x."shopId" = $1::uuid AND x.id <= ${CURSOR} ORDER BY x.id)`;

/**
 * The customer's latest session with this shop, for this product (any product
 * when the question has none): its expert is offered first (continuity).
 * $1 shop, $2 customer phone, $3 product.
 */
const PREVIOUS_SESSION = `
  SELECT s."expertId" AS id
  FROM "Session" s JOIN "Question" q ON q.id = s."questionId"
  WHERE s."customerPhone" = $2 AND s."shopId" = $1::uuid AND ($3::uuid IS NULL OR q."productId" = $3::uuid)
  ORDER BY s."createdAt" DESC, s.id DESC
  LIMIT 1`;

/**
 * The statement for one limit. The limit is written into the text, not bound:
 * with a bound LIMIT the planner guesses a tenth of the driving set, a cost
 * that switches on PostgreSQL's JIT compiler and its ~100 ms of compiling.
 * One extra row leaves room for the customer's earlier expert.
 */
export function findCandidatesSql(limit: number): string {
  return `
WITH covering AS MATERIALIZED (${COVERING}
), line AS MATERIALIZED (
  SELECT array_agg(n.e164) AS lines FROM "PhoneNumber" n WHERE n.purpose = 'expert_line' AND n."shopId" = $1::uuid
), previous AS MATERIALIZED (
  SELECT (${PREVIOUS_SESSION.replace("$2", () => `(SELECT q."customerPhone" FROM "Question" q WHERE q.id = $2::uuid)`)}) AS id
), ranked_tags AS MATERIALIZED (
  -- The required tags, rarest first: the rarest's holders are the smallest set every candidate is in.
  -- Holders are counted up to the cap; among tags past it, the one whose cap-th holder comes latest in id
  -- order is the sparser (ids are spread evenly enough for that: random bits, or creation time).
  -- (SELECT $4) hides the array's length from the planner, as it is hidden from the generic plan: custom
  -- plans then cost no less, and PostgreSQL keeps the generic plan instead of planning every call.
  SELECT t.tag, h.holders, row_number() OVER (ORDER BY h.holders, h.last_counted DESC, t.tag) AS rarity
  FROM unnest((SELECT $4::text[])) t(tag)
  CROSS JOIN LATERAL (
    SELECT count(*) AS holders, max(x.id::text) AS last_counted
    FROM (SELECT s."expertId" AS id FROM "ExpertSkill" s WHERE s.tag = t.tag ORDER BY s."expertId" LIMIT ${TAG_COUNT_CAP}) x
  ) h
), plan AS MATERIALIZED (
  -- Members are counted only as far as they could still be the smaller set.
  SELECT a.tag, (SELECT tag FROM ranked_tags WHERE rarity = 2) AS second, CASE
      WHEN m.members <= ${POOL_DOMAIN_MAX} AND (a.tag IS NULL OR m.members <= a.holders) THEN 'pool'
      WHEN a.tag IS NOT NULL THEN 'tag'
      ELSE 'shop' END AS driver
  FROM (SELECT 1) one
  LEFT JOIN ranked_tags a ON a.rarity = 1
  CROSS JOIN LATERAL (
    SELECT count(*) AS members FROM (
      SELECT 1 FROM "PoolMember" pm WHERE pm."poolId" = ANY (${COVERING_IDS})
      LIMIT least(${POOL_DOMAIN_MAX}, coalesce(a.holders, ${POOL_DOMAIN_MAX})) + 1) x
  ) m
), pool_domain AS MATERIALIZED (
  SELECT DISTINCT pm."expertId" AS id FROM "PoolMember" pm
  WHERE ${DRIVER} = 'pool' AND pm."poolId" = ANY (${COVERING_IDS})
), cursor AS MATERIALIZED (
  -- Round robin: the walk starts after the expert who got the shop's latest offer.
  SELECT COALESCE(
    (SELECT x.id FROM "Expert" x WHERE x."shopId" = $1::uuid AND x."lastOfferedAt" IS NOT NULL ORDER BY x."lastOfferedAt" DESC LIMIT 1),
    '00000000-0000-0000-0000-000000000000'::uuid) AS id
)
SELECT c.*,
  (SELECT pm."poolId" FROM "PoolMember" pm WHERE pm."expertId" = c.id AND pm."poolId" = ANY (${COVERING_IDS})
   ORDER BY array_position(${COVERING_IDS}, pm."poolId") LIMIT 1) AS "poolId",
  (SELECT COALESCE(jsonb_object_agg(s.tag, s.level), '{}') FROM "ExpertSkill" s
   WHERE s."expertId" = c.id AND array_position($7::text[], s.tag) IS NOT NULL) AS skills
FROM (
  SELECT c.*, d.earlier FROM (
    -- Cheap checks on the id first (index-only probes; tags, then pools), in this order; OFFSET 0 keeps them per row.
    SELECT d.id, d.earlier FROM (${DRIVEN_IDS}
    ) d
    WHERE CASE
      WHEN NOT d.earlier AND d.id = (SELECT id FROM previous) THEN false
      -- The tag walk has checked its one or two tags already; the pool walk, the pools.
      WHEN cardinality($4::text[]) > CASE WHEN ${DRIVER} = 'tag' AND NOT d.earlier
                                          THEN CASE WHEN (SELECT second FROM plan) IS NULL THEN 1 ELSE 2 END ELSE 0 END
        AND NOT ${HOLDS_EVERY_TAG("d.id")} THEN false
      WHEN (d.earlier OR ${DRIVER} <> 'pool') AND ${IN_COVERING_POOL("d.id")} IS NULL THEN false
      ELSE true END
    OFFSET 0
  ) d
  CROSS JOIN LATERAL (${EXPERT_CHECKS("d.id")}) c
  LIMIT ${limit + 1}
) c`;
}

// ---------------------------------------------------------------- pool means

/**
 * The mean rating of a pool's members, sum over count, null without ratings.
 * Computing it reads every member's row (a pool may have thousands), which
 * costs more than the whole candidate query, and it changes only when a
 * rating lands: each process keeps it for POOL_MEAN_MAX_AGE_MS. A stale mean
 * is served while one refresh runs in the background; only a pool never seen
 * waits for its mean. The cache belongs to the connection pool it was read
 * through, so test databases never share one.
 */
interface PoolMean {
  mean: number | null;
  fetchedAt: number;
  refreshing: boolean;
}

const poolMeans = new WeakMap<Sql, Map<string, PoolMean>>();

const POOL_MEANS_SQL = `
  SELECT pm."poolId" AS "poolId", sum(e."ratingSum")::float8 AS "ratingSum", sum(e."ratingCount")::float8 AS "ratingCount"
  FROM "PoolMember" pm JOIN "Expert" e ON e.id = pm."expertId"
  WHERE pm."poolId" = ANY ($1::uuid[])
  GROUP BY pm."poolId"`;

async function fetchPoolMeans(sql: Sql, cache: Map<string, PoolMean>, poolIds: string[]): Promise<void> {
  const { rows } = await sql.query<{ poolId: string; ratingSum: number; ratingCount: number }>({
    name: "routing-pool-means",
    text: POOL_MEANS_SQL,
    values: [poolIds],
  });
  const fetchedAt = Date.now();
  for (const poolId of poolIds) cache.set(poolId, { mean: null, fetchedAt, refreshing: false });
  for (const row of rows) {
    cache.set(row.poolId, { mean: row.ratingCount > 0 ? row.ratingSum / row.ratingCount : null, fetchedAt, refreshing: false });
  }
}

async function poolMeanRatings(sql: Sql, poolIds: string[]): Promise<Map<string, number | null>> {
  let cache = poolMeans.get(sql);
  if (!cache) {
    cache = new Map();
    poolMeans.set(sql, cache);
  }
  const unique = [...new Set(poolIds)];
  const missing = unique.filter((poolId) => !cache.has(poolId));
  if (missing.length > 0) await fetchPoolMeans(sql, cache, missing);
  const stale = unique.filter((poolId) => {
    const entry = cache.get(poolId);
    return entry !== undefined && !entry.refreshing && Date.now() - entry.fetchedAt > POOL_MEAN_MAX_AGE_MS;
  });
  if (stale.length > 0) {
    for (const poolId of stale) cache.get(poolId)!.refreshing = true;
    // A failed refresh keeps the old mean and is retried by the next query that finds it stale.
    fetchPoolMeans(sql, cache, stale).catch(() => {
      for (const poolId of stale) {
        const entry = cache.get(poolId);
        if (entry) entry.refreshing = false;
      }
    });
  }
  return new Map(unique.map((poolId) => [poolId, cache.get(poolId)?.mean ?? null]));
}

// ---------------------------------------------------------------- the functions

interface CandidateRow {
  id: string;
  earlier: boolean;
  name: string;
  poolId: string;
  skills: Record<string, number>;
  ratingSum: number;
  ratingCount: number;
  offersReceived: number;
  offersAccepted: number;
  offersDeclined: number;
  offersTimedOut: number;
  lastOfferedAt: Date | null;
}

/** The tags a search at `widenLevel` requires of every candidate: optional ones only before the first widening. */
export function requiredTags(query: Pick<CandidateQuery, "tags" | "optionalTags" | "widenLevel">): string[] {
  return [...new Set(query.widenLevel === 0 ? [...query.tags, ...query.optionalTags] : query.tags)];
}

const MAX_LIMIT = 1_000;
const statements = new Map<number, { name: string; text: string }>();

function statementFor(limit: number): { name: string; text: string } {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  let statement = statements.get(limit);
  if (!statement) {
    statement = { name: `routing-find-candidates-${limit}`, text: findCandidatesSql(limit) };
    statements.set(limit, statement);
  }
  return statement;
}

/**
 * Up to `limit` experts who may be offered this question now, plus the
 * customer's earlier expert when they may be. Unordered: rank them with
 * rankCandidates.
 */
export async function findCandidates(sql: Sql, query: CandidateQuery): Promise<Candidate[]> {
  const limit = query.limit ?? DEFAULT_CANDIDATE_LIMIT;
  const { rows } = await sql.query<CandidateRow>({
    ...statementFor(limit),
    values: [
      query.shopId,
      query.questionId,
      query.productId,
      requiredTags(query),
      query.widenLevel,
      query.now,
      [...new Set([...query.tags, ...query.optionalTags])],
    ],
  });
  // The statement reads one row more than the limit, room for the earlier expert; without them it is one too many.
  const others = rows.filter((row) => !row.earlier).slice(0, limit);
  const kept = [...rows.filter((row) => row.earlier), ...others];
  const means = await poolMeanRatings(
    sql,
    kept.map((row) => row.poolId),
  );
  return kept.map((row) => ({
    expertId: row.id,
    name: row.name,
    poolId: row.poolId,
    skills: row.skills,
    ratingSum: row.ratingSum,
    ratingCount: row.ratingCount,
    poolMeanRating: means.get(row.poolId) ?? null,
    offersReceived: row.offersReceived,
    offersAccepted: row.offersAccepted,
    offersDeclined: row.offersDeclined,
    offersTimedOut: row.offersTimedOut,
    lastOfferedAt: row.lastOfferedAt,
  }));
}

/**
 * The expert of the customer's latest session with this shop, for this
 * product (any product when `productId` is null), or null.
 */
export async function findPreviousExpert(
  sql: Sql,
  input: { shopId: string; customerPhone: string; productId: string | null },
): Promise<string | null> {
  const { rows } = await sql.query<{ id: string }>({
    name: "routing-previous-expert",
    text: PREVIOUS_SESSION,
    values: [input.shopId, input.customerPhone, input.productId],
  });
  return rows[0]?.id ?? null;
}
