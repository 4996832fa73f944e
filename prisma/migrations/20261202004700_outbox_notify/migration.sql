-- Wakes the outbox relay when work is committed, instead of leaving it to the
-- relay's poll. NOTIFY is delivered at commit (never for a rolled-back insert),
-- and identical notifications within one transaction are folded into one.
-- The payload names the schema, so relays of other schemas (tests) ignore it.
-- Hand-written: triggers are not in schema.prisma, so `db:diff` cannot make this.
CREATE FUNCTION "outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Statement-level: an INSERT that skipped every row (a replayed webhook) wakes nobody.
  IF EXISTS (SELECT 1 FROM inserted) THEN
    PERFORM pg_notify('expertline_outbox', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "OutboxEvent_notify"
AFTER INSERT ON "OutboxEvent"
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION "outbox_notify"();
