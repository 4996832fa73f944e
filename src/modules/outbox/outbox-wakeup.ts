/**
 * Wakes the outbox relay when an OutboxEvent insert commits: the table's
 * trigger sends NOTIFY expertline_outbox with its schema's name, and this
 * holds a LISTEN on a connection of its own. Without it the relay would only
 * see new work at its next poll, paid twice per SMS round trip (the inbound
 * job, then the reply's send job). The poll stays as the fallback: a lost
 * notification (listener reconnecting) only costs latency, never work.
 */
import pg from "pg";
import type { Logger } from "pino";

export const OUTBOX_CHANNEL = "expertline_outbox";

export interface OutboxWakeup {
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
    const next = new pg.Client(connection);
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

  return {
    get listening() {
      return listening;
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
