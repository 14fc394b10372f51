-- Keys: the address of their last use (kept with last_used_at, at most once a minute per key, so
-- never a write per request), and when their key.expiring event was written (7 days before
-- expiry, once).

alter table api_keys add column last_used_ip text check (last_used_ip is null or length(last_used_ip) <= 64);
alter table api_keys add column expiry_notified_at timestamptz;
create index api_keys_expiring_idx on api_keys (expires_at) where revoked_at is null and expiry_notified_at is null;
