-- The change feed: events in the order they became visible, with a cursor that never skips one.
--
-- `seq` is taken when an event is written, so a transaction that writes seq 10 and commits after
-- the one that wrote seq 11 would be passed over by a reader already past 11. Instead, a
-- sequencer (one at a time, see events/sequencer.ts) gives `position`s, counting on from the last one, to
-- the events of transactions that have finished (their xid is below the oldest running one),
-- in order of seq; the feed reads by position. Every position it gives is above every one given
-- before, and a reader only ever sees whole batches: a cursor can never be overtaken.
alter table events add column tx xid8 not null default pg_current_xact_id();
alter table events add column position bigint;
-- Events already written are in the feed, in their order.
with o as (select seq, row_number() over (order by seq) as n from events) update events set position = o.n from o where events.seq = o.seq;
-- The last position given, which the sequencer counts on from (one row).
create table event_feed_state (
  singleton boolean primary key default true check (singleton),
  last_position bigint not null
);
insert into event_feed_state (last_position) select coalesce(max(position), 0) from events;
-- The feed reads each workspace's events from here, in position order. The only index on
-- position: with one on position alone, generic plans scanned it for a workspace's events,
-- filtering out every other workspace's (250 ms for a page of a small workspace among 1,000,000).
create index events_workspace_position_idx on events (workspace_id, position);
-- What the sequencer has left to do.
create index events_unpositioned_idx on events (seq) where position is null;
-- Nothing reads events by (workspace, seq) any more: the feed goes by position. Dropped, so that
-- writing an event maintains as many indexes as before (the one above stands in for it).
drop index events_workspace_seq_idx;
