-- groupd schema, version 5: the events feed in an order no later commit can
-- insert into. Event ids come from a sequence when the event is written,
-- not when its transaction commits, so a reader that follows ids can pass
-- an id whose transaction is still in flight and never see that event. Each
-- event now records its transaction's id (xid8: 64 bits, never wraps), and
-- the feed is served in (xid, id) order up to the oldest transaction of this
-- database still in flight: every later commit's events sort after the
-- feed's end. Events written before this migration all take its xid, and
-- keep their id order.
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_feed_idx ON events (xid, id);
DROP INDEX events_object_idx;
CREATE INDEX events_object_idx ON events (object_type, object_id, xid, id);
-- The audit retention (-audit-retention) deletes events by age.
CREATE INDEX events_at_idx ON events (at);
