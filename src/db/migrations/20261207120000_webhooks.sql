-- Webhooks: endpoints that receive the events of a workspace (or of one of its projects), the
-- deliveries made to them (one per event and endpoint: its id is the webhook-id header, the same
-- for every attempt), and every attempt of each. The dispatcher fans the change feed out into
-- deliveries in feed order, recording how far it got in the same transaction, so that no event is
-- skipped or fanned out twice; workers claim due deliveries with FOR UPDATE SKIP LOCKED.

create table webhooks (
  id text primary key,
  workspace_id text not null references workspaces (id) on delete cascade,
  -- Null: every project of the workspace.
  project_id text references projects (id) on delete cascade,
  url text not null check (length(url) between 1 and 2048),
  -- Event types, resource wildcards (task.*) and *.
  events text[] not null check (cardinality(events) between 1 and 100),
  description text not null default '' check (length(description) <= 500),
  -- The signing secret, sealed (lib/secret-box.ts); after a rotation the previous one signs
  -- alongside it until previous_secret_expires_at.
  secret_sealed text not null,
  previous_secret_sealed text,
  previous_secret_expires_at timestamptz,
  active boolean not null default true,
  disabled_reason text check (disabled_reason in ('by_request', 'gone', 'failing')),
  check (active = (disabled_reason is null)),
  -- Since when every attempt has failed (null: the last one succeeded, or none was made).
  failing_since timestamptz,
  -- Null once its creator's account is gone; it then delivers nothing (nobody it may speak for).
  created_by text references users (id) on delete set null,
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index webhooks_workspace_idx on webhooks (workspace_id, created_at, id);

create table webhook_deliveries (
  -- msg_…: the webhook-id header.
  id text primary key,
  webhook_id text not null references webhooks (id) on delete cascade,
  -- Null for a ping.
  event_id text,
  event_type text not null,
  -- The body as it is sent, every time.
  payload text not null,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  -- A worker that claimed the delivery holds it until then (a worker that died lets it go).
  lease_until timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (webhook_id, event_id)
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_list_idx on webhook_deliveries (webhook_id, created_at, id);

create table webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id text not null references webhook_deliveries (id) on delete cascade,
  attempted_at timestamptz not null,
  status_code integer,
  duration_ms integer not null,
  response_excerpt text,
  error text
);
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, id);

-- How far the dispatcher has fanned the change feed out into deliveries (one row).
create table webhook_dispatch_state (
  only_row boolean primary key default true check (only_row),
  last_position bigint not null
);
-- Events already in the feed when webhooks arrive are not delivered: no webhook existed for them.
insert into webhook_dispatch_state (last_position) select coalesce(max(position), 0) from events;
