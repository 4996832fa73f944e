/**
 * Wakes the outbox relay when an OutboxEvent insert commits while it sleeps:
 * the table's trigger sends NOTIFY expertline_outbox with its schema's name,
 * and this holds a LISTEN on a connection of its own. Without it the relay
 * would only see new work at its next poll, paid twice per SMS round trip
 * (the inbound job, then the reply's send job). The poll stays as the
 * fallback: a lost notification (listener reconnecting) costs latency, never work.
 *
 * NOTIFY makes commits take turns, so inserts notify only while a relay
 * sleeps: it says so by holding an advisory lock that every insert tries to
 * take shared (see the migration outbox_notify_only_sleeping_relays). A busy
 * relay costs the hot path nothing.
 */
import pg from "pg";
import type { Logger } from "pino";

export const OUTBOX_CHANNEL = "expertline_outbox";
/** The advisory lock class of the sleeping relay; the trigger uses the same key. */
const SLEEP_LOCK_CLASS = 1869903979;
const SLEEP_LOCK_KEY = `${SLEEP_LOCK_CLASS}, hashtext(current_schema())`;

export interface OutboxWakeup {
  /**
   * Announces that the relay is about to sleep, so that inserts from now on notify.
   * - "asleep": announced; look at the outbox once more (a row committed just before was not
   *   notified), then wait, then endSleep();
   * - "another-relay-sleeps": inserts notify already (every listener hears it): just wait;
   * - "busy": an insert is committing right now, or the listener is down: look again soon.
   */
  announceSleep(): Promise<"asleep" | "another-relay-sleeps" | "busy">;
  /** Ends the announcement (after waking): inserts stop notifying. */
  endSleep(): Promise<void>;
  /** Resolves at the next notification for our schema, or after `ms`; true when woken. */
  wait(ms: number): Promise<boolean>;
  /** Whether notifications arrive (the relay polls more often when they do not). */
  readonly listening: boolean;
  close(): Promise<void>;
}

const RECONNECT_MS = 1_000;

/** `connection`: the pool's own settings (URL and search_path), so we listen where the app writes. */
export function listenForOutbox(connection: pg.ClientConfig, logger: Logger): OutboxWakeup {
  let client: pg.Client | null = null;
  let listening = false;
  let closed = false;
  let pending = false;
  let waiter: (() => void) | null = null;
  let retry: NodeJS.Timeout | null = null;

  const wake = () => {
    if (waiter) waiter();
    else pending = true; // the relay is busy: it looks again as soon as it is done
  };

  const connect = async () => {
    if (closed) return;
    // keepAlive and a query timeout: the relay waits on this connection's queries, and a
    // half-open socket must not stall it until TCP gives up.
    const next = new pg.Client({ ...connection, keepAlive: true, query_timeout: 10_000 });
    next.on("error", (error) => {
      logger.warn({ err: error }, "outbox listener connection failed; polling until it is back");
      drop(next);
    });
    next.on("end", () => drop(next));
    try {
      await next.connect();
      const { rows } = await next.query<{ schema: string }>("SELECT current_schema() AS schema");
      const schema = rows[0]?.schema;
      next.on("notification", (message) => {
        if (message.channel !== OUTBOX_CHANNEL || message.payload !== schema) return;
        // Counted as listening only once a notification really arrived: behind a pooler in
        // transaction mode, LISTEN "succeeds" on one server connection and hears nothing,
        // and the relay must then keep its quick poll.
        if (client === next) listening = true;
        wake();
      });
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (closed) return void (await next.end());
      client = next;
      // Our own notification proves the channel works (it also wakes the relay for
      // anything committed while we were not listening).
      await next.query("SELECT pg_notify($1, $2)", [OUTBOX_CHANNEL, schema]);
    } catch (error) {
      logger.warn({ err: error }, "outbox listener could not connect; polling until it can");
      drop(next);
    }
  };

  const drop = (which: pg.Client) => {
    if (client === which) {
      client = null;
      listening = false;
    }
    which.removeAllListeners("notification");
    void which.end().catch(() => {});
    if (!closed && !retry && client === null) {
      retry = setTimeout(() => {
        retry = null;
        void connect();
      }, RECONNECT_MS);
    }
  };

  void connect();

  let sleeping: pg.Client | null = null;

  return {
    get listening() {
      return listening;
    },
    async announceSleep() {
      const current = client;
      if (!current || !listening) return "busy";
      try {
        // Not our lock: probe with a shared one, which only an exclusive holder (a sleeping
        // relay of this database and schema) refuses. Advisory locks are per database, unlike
        // a look at pg_locks, which would also see relays of other databases on the server.
        const { rows } = await current.query<{ locked: boolean; other: boolean }>(
          `SELECT locked, CASE
             WHEN locked THEN false
             WHEN pg_try_advisory_lock_shared(${SLEEP_LOCK_KEY}) THEN NOT pg_advisory_unlock_shared(${SLEEP_LOCK_KEY})
             ELSE true
           END AS other
           FROM (SELECT pg_try_advisory_lock(${SLEEP_LOCK_KEY}) AS locked) AS attempt`,
        );
        if (rows[0]?.locked === true) {
          sleeping = current;
          return "asleep";
        }
        return rows[0]?.other === true ? "another-relay-sleeps" : "busy";
      } catch (error) {
        logger.warn({ err: error }, "outbox listener could not announce sleep; polling");
        return "busy";
      }
    },
    async endSleep() {
      const holder = sleeping;
      sleeping = null;
      // A connection that dropped meanwhile took its session lock with it.
      if (!holder || holder !== client) return;
      try {
        const { rows } = await holder.query<{ unlocked: boolean }>(`SELECT pg_advisory_unlock(${SLEEP_LOCK_KEY}) AS unlocked`);
        if (rows[0]?.unlocked !== true) throw new Error("the sleep lock was not held");
      } catch (error) {
        // A lock left held would make every insert notify for good: drop the connection
        // (which releases it) and reconnect.
        logger.warn({ err: error }, "outbox listener could not end its sleep; reconnecting");
        drop(holder);
      }
    },
    wait(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiter = null;
          resolve(false);
        }, ms);
        waiter = () => {
          clearTimeout(timer);
          waiter = null;
          resolve(true);
        };
      });
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      waiter?.();
      const current = client;
      client = null;
      listening = false;
      if (current) {
        current.removeAllListeners();
        current.on("error", () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
