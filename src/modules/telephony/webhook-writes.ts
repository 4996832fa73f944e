/**
 * What Twilio's webhooks write, each in ONE statement (a data-modifying CTE):
 * the dedupe receipt and its effects commit together or not at all, in one
 * round trip, with no interactive transaction holding a pooled connection.
 * Webhooks are the hot path (every SMS, every status callback), so they skip
 * Prisma's query compiler and go straight to the pool Prisma itself uses.
 *
 * Each statement starts by inserting the receipt; every later part reads
 * FROM that insert's RETURNING, so a replay (receipt conflict) changes nothing.
 * Unqualified table names resolve through the pool's search_path (see deps.ts).
 */
import type pg from "pg";
import type { CallStatus, MessageStatus } from "../../generated/prisma/enums.js";
import { QUEUES } from "../../jobs/define.js";
import { uuidv7 } from "../../lib/ids.js";
import { CALL_ENDED } from "./calls.js";

type Sql = Pick<pg.Pool, "query">;

/**
 * The CTE every statement here starts with: the dedupe receipt, id in $1, key
 * built by `keySql` from the statement's own parameters. Its RETURNING row
 * exists only for a first delivery; every effect reads FROM it.
 */
function receiptCte(keySql: string): string {
  return `receipt AS (
        INSERT INTO "WebhookReceipt" ("id", "provider", "dedupeKey")
        VALUES ($1, 'twilio', ${keySql})
        ON CONFLICT ("provider", "dedupeKey") DO NOTHING
        RETURNING 1
      )`;
}

export interface InboundSms {
  messageSid: string;
  from: string;
  to: string;
  body: string;
  /** Outbox topic and job name of the job that handles the message. */
  topic: string;
  /** Job id from the new message's id (e.g. `inbound-<id>`). */
  jobIdPrefix: string;
}

const RECORD_INBOUND_SMS = `
  WITH ${receiptCte("'sms:' || $2::text")}, message AS (
    INSERT INTO "Message" ("id", "shopId", "direction", "purpose", "from", "to", "body", "status", "twilioSid", "updatedAt")
    SELECT $3, (SELECT "shopId" FROM "PhoneNumber" WHERE "e164" = $5::text), 'inbound', 'inbound', $4, $5::text, $6, 'received', $2::text, now()
    FROM receipt
    -- The receipt is the dedupe; a message with this SID already stored (receipts purged) is also a replay.
    ON CONFLICT ("twilioSid") DO NOTHING
    RETURNING "id"
  ), outbox AS (
    INSERT INTO "OutboxEvent" ("id", "topic", "payload", "jobId")
    SELECT $7, $8, jsonb_build_object('messageId', message."id"), $9::text || message."id"::text
    FROM message
    ON CONFLICT ("jobId") DO NOTHING
  )
  SELECT "id" FROM message`;

/**
 * Receipt + inbound Message + OutboxEvent for the job that handles it.
 * The outbox insert fires the relay's wake-up (a trigger's NOTIFY, sent at commit).
 * Returns the new message's id, or null when this MessageSid was seen before.
 */
export async function recordInboundSms(sql: Sql, sms: InboundSms): Promise<string | null> {
  const messageId = uuidv7();
  const { rows } = await sql.query<{ id: string }>({
    name: "record-inbound-sms",
    text: RECORD_INBOUND_SMS,
    values: [uuidv7(), sms.messageSid, messageId, sms.from, sms.to, sms.body, uuidv7(), sms.topic, sms.jobIdPrefix],
  });
  return rows[0]?.id ?? null;
}

export interface MessageStatusUpdate {
  messageSid: string;
  /** Twilio's own status word, part of the dedupe key: each distinct callback counts once. */
  twilioStatus: string;
  /** Ours, or null for a status we do not track (only the receipt is written). */
  status: MessageStatus | null;
  /** Stored statuses that `status` may replace: status only moves forward. */
  replaces: MessageStatus[];
  errorCode: number | undefined;
  /** Our message id from the callback URL: finds a message whose SID we never got to store. */
  ourId: string | undefined;
}

const RECORD_MESSAGE_STATUS = `
  WITH ${receiptCte("'message-status:' || $2::text || ':' || $3::text")}, updated AS (
    UPDATE "Message"
    SET "status" = $4::"MessageStatus", "twilioSid" = $2::text, "errorCode" = COALESCE($5::int, "errorCode"), "updatedAt" = now(),
        -- A row moved into sending by a callback (its send job's claim was cleared by a retryable
        -- error, yet Twilio had it) gets a claim time, so the stuck-SMS sweep can still settle it.
        "sendingClaimedAt" = CASE WHEN $4::"MessageStatus" = 'sending' THEN COALESCE("sendingClaimedAt", now()) ELSE "sendingClaimedAt" END
    WHERE EXISTS (SELECT 1 FROM receipt)
      AND $4::"MessageStatus" IS NOT NULL
      AND ("twilioSid" = $2::text OR ("id" = $6::uuid AND "twilioSid" IS NULL))
      AND "direction" = 'outbound'
      AND "status" = ANY($7::"MessageStatus"[])
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM receipt) AS fresh, (SELECT count(*) FROM updated) AS updated`;

/** Receipt + forward-only status update of an outbound message. Returns how many messages changed (0 or 1). */
export async function recordMessageStatus(sql: Sql, update: MessageStatusUpdate): Promise<{ fresh: boolean; updated: number }> {
  const { rows } = await sql.query<{ fresh: boolean; updated: string }>({
    name: "record-message-status",
    text: RECORD_MESSAGE_STATUS,
    values: [uuidv7(), update.messageSid, update.twilioStatus, update.status, update.errorCode ?? null, update.ourId ?? null, update.replaces],
  });
  const row = rows[0];
  return { fresh: row?.fresh ?? false, updated: Number(row?.updated ?? 0) };
}

export interface CallStatusUpdate {
  callSid: string;
  twilioStatus: string;
  status: CallStatus | null;
  replaces: CallStatus[];
  final: boolean;
  from: string;
  to: string;
  durationSeconds: number | undefined;
  now: Date;
}

const RECORD_CALL_STATUS = `
  WITH ${receiptCte("'call-status:' || $2::text || ':' || $3::text")}, upserted AS (
    -- One upsert, not UPDATE-else-INSERT: a row being inserted right now (placeCall, the voice
    -- webhook) is invisible to an UPDATE, and a skipped INSERT would lose this status for good
    -- (its receipt commits, so Twilio's retry is a replay). ON CONFLICT waits for that insert
    -- and updates the committed row.
    INSERT INTO "Call" AS c ("id", "twilioSid", "direction", "from", "to", "status", "durationSeconds", "startedAt", "endedAt", "updatedAt")
    SELECT $9, $2::text,
           CASE WHEN EXISTS (SELECT 1 FROM "PhoneNumber" WHERE "e164" = $10::text) THEN 'outbound'::"Direction" ELSE 'inbound'::"Direction" END,
           $10::text, $11, $4::"CallStatus", $7::int,
           CASE WHEN $4::"CallStatus" = 'in_progress' THEN $5::timestamptz
                WHEN $6::boolean AND $7::int > 0 THEN $5::timestamptz - make_interval(secs => $7::int) END,
           CASE WHEN $6::boolean THEN $5::timestamptz END,
           now()
    FROM receipt
    WHERE $4::"CallStatus" IS NOT NULL
    ON CONFLICT ("twilioSid") DO UPDATE
    SET "status" = EXCLUDED."status",
        "startedAt" = CASE WHEN EXCLUDED."status" = 'in_progress' THEN $5::timestamptz
                           -- "answered" can arrive after "completed" (and is then ignored): date it from the length
                           WHEN $6::boolean AND c."startedAt" IS NULL AND $7::int > 0 THEN $5::timestamptz - make_interval(secs => $7::int)
                           ELSE c."startedAt" END,
        "endedAt" = CASE WHEN $6::boolean THEN $5::timestamptz ELSE c."endedAt" END,
        "durationSeconds" = COALESCE($7::int, c."durationSeconds"),
        "updatedAt" = now()
    WHERE c."status" = ANY($8::"CallStatus"[])
  ), reaction AS (
    -- A call's end may move a voice flow on (an unanswered offer, a customer who did not pick up):
    -- the job is written with the status, so a crash after this commit loses nothing.
    INSERT INTO "OutboxEvent" ("id", "topic", "payload", "jobId")
    SELECT $12, '${QUEUES.sessions}/${CALL_ENDED}', jsonb_build_object('callSid', $2::text), 'call-ended-' || $2::text
    FROM receipt WHERE $6::boolean
    ON CONFLICT ("jobId") DO NOTHING
  )
  SELECT EXISTS (SELECT 1 FROM receipt) AS fresh`;

/**
 * Receipt + forward-only status update of a call, or the call's row when this
 * is the first we hear of it (a callback can beat the code that placed it):
 * a call from one of our numbers is ours (outbound).
 */
export async function recordCallStatus(sql: Sql, update: CallStatusUpdate): Promise<{ fresh: boolean }> {
  const { rows } = await sql.query<{ fresh: boolean }>({
    name: "record-call-status",
    text: RECORD_CALL_STATUS,
    values: [
      uuidv7(),
      update.callSid,
      update.twilioStatus,
      update.status,
      update.now,
      update.final,
      update.durationSeconds ?? null,
      update.replaces,
      uuidv7(),
      update.from,
      update.to,
      uuidv7(),
    ],
  });
  return { fresh: rows[0]?.fresh ?? false };
}

/**
 * A status callback of a call we placed names our claimed Call row
 * (`?callId=`): the SID is written onto it unless it has one. Safe against
 * placeCall writing the same SID at the same moment; a row that already
 * holds the SID elsewhere (a callback that came without the id) wins.
 */
export async function attachCallSid(sql: Sql, input: { callId: string; callSid: string }): Promise<void> {
  await sql
    .query({
    name: "attach-call-sid",
    text: `UPDATE "Call" SET "twilioSid" = $2, "updatedAt" = now()
           WHERE "id" = $1::uuid AND "twilioSid" IS NULL
             AND NOT EXISTS (SELECT 1 FROM "Call" WHERE "twilioSid" = $2)`,
    values: [input.callId, input.callSid],
    })
    .catch((error: unknown) => {
      // Another row took the SID between the check and the write: the upsert that follows uses that row.
      if ((error as { code?: string }).code !== "23505") throw error;
    });
}
