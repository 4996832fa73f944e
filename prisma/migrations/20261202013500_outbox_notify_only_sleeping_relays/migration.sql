-- NOTIFY is not free: at commit, a transaction that notified takes one
-- database-wide lock and holds it through its commit record, so notifying
-- commits take turns (measured: inbound-SMS webhooks at 50 connections fell
-- from 0.75 to 0.54 of a bare INSERT route). Only a relay that is asleep needs
-- the wake-up, so the trigger now notifies only then.
--
-- A relay about to sleep takes an exclusive session advisory lock on its
-- schema's key (src/modules/outbox/outbox-wakeup.ts). An insert takes the
-- same key shared until its commit: when it can, no relay sleeps and nobody
-- is told; when it cannot, a relay sleeps and is notified. No wake-up is lost:
-- a relay gets the exclusive lock only when no insert holds it shared, so any
-- insert that skipped its notification has committed, and the relay looks at
-- the outbox once more after taking the lock. Advisory locks write nothing.
-- 1869903979 is this lock's class ('outb' read as a number; the migration
-- runner uses a one-number key, so the two cannot collide).
CREATE OR REPLACE FUNCTION "outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Statement-level: an INSERT that skipped every row (a replayed webhook) wakes nobody.
  IF EXISTS (SELECT 1 FROM inserted)
     AND NOT pg_try_advisory_xact_lock_shared(1869903979, hashtext(TG_TABLE_SCHEMA)) THEN
    PERFORM pg_notify('expertline_outbox', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END
$$;
