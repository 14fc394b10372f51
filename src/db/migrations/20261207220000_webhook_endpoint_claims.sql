-- Workers claim due deliveries endpoint by endpoint, at most a few in flight for each (see the
-- claim in webhook.repository.ts), so that one slow or hanging receiver holds only its own share of
-- a worker's slots. The claim walks each active endpoint's due deliveries in order, and counts the
-- ones leased by a worker now.
drop index webhook_deliveries_due_idx;
create index webhook_deliveries_endpoint_due_idx on webhook_deliveries (webhook_id, next_attempt_at) where status = 'pending';
create index webhook_deliveries_leased_idx on webhook_deliveries (webhook_id) where status = 'pending' and lease_until is not null;
