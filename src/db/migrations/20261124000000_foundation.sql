-- Foundation: users, workspaces, memberships, API keys, projects, tasks, the event outbox and idempotency records.

create table users (
  id text primary key,
  email text not null,
  username text not null,
  name text not null,
  is_instance_admin boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));
create unique index users_username_key on users (lower(username));

create table workspaces (
  id text primary key,
  slug text not null,
  name text not null,
  plan text not null default 'free' check (plan in ('free', 'pro', 'enterprise')),
  rate_limit_hourly integer check (rate_limit_hourly > 0),
  rate_limit_burst integer check (rate_limit_burst > 0),
  time_zone text not null default 'UTC',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index workspaces_slug_key on workspaces (lower(slug));

create table memberships (
  id text primary key,
  workspace_id text not null references workspaces (id) on delete cascade,
  user_id text not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

create table projects (
  id text primary key,
  workspace_id text not null references workspaces (id) on delete cascade,
  name text not null,
  slug text not null,
  description text not null default '',
  statuses text[] not null default array['backlog', 'todo', 'in_progress', 'review', 'done'],
  last_task_number integer not null default 0,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index projects_slug_key on projects (workspace_id, lower(slug));
create unique index projects_name_key on projects (workspace_id, lower(name));
create index projects_created_idx on projects (workspace_id, created_at, id);

create table api_keys (
  id text primary key,
  user_id text not null references users (id) on delete cascade,
  name text not null,
  secret_hash text not null,
  display_prefix text not null,
  scopes text[] not null check (cardinality(scopes) > 0),
  workspace_id text references workspaces (id) on delete cascade,
  project_id text references projects (id) on delete cascade,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  check (project_id is null or workspace_id is not null)
);
create unique index api_keys_secret_hash_key on api_keys (secret_hash);
create index api_keys_user_idx on api_keys (user_id, created_at);

create table tasks (
  id text primary key,
  uuid uuid not null,
  workspace_id text not null references workspaces (id) on delete cascade,
  project_id text not null references projects (id) on delete cascade,
  number integer not null check (number > 0),
  title text not null check (length(title) between 1 and 500),
  description text not null default '',
  status text not null,
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high', 'urgent')),
  labels text[] not null default '{}',
  assignee_id text references users (id) on delete set null,
  due_date date,
  estimated_minutes integer check (estimated_minutes >= 0),
  created_by text references users (id) on delete set null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, number)
);
create unique index tasks_uuid_key on tasks (uuid);
create index tasks_project_created_idx on tasks (project_id, created_at desc, id desc);
create index tasks_project_status_idx on tasks (project_id, status, created_at desc);
create index tasks_workspace_created_idx on tasks (workspace_id, created_at desc, id desc);
create index tasks_assignee_idx on tasks (assignee_id, created_at desc) where assignee_id is not null;
create index tasks_labels_idx on tasks using gin (labels);

-- The outbox: every mutation writes its event in the same transaction.
create table events (
  seq bigint generated always as identity primary key,
  id text not null unique,
  workspace_id text not null references workspaces (id) on delete cascade,
  project_id text,
  type text not null,
  resource_type text not null,
  resource_id text not null,
  actor_user_id text,
  actor_key_id text,
  data jsonb not null,
  changes jsonb,
  occurred_at timestamptz not null default now()
);
create index events_workspace_seq_idx on events (workspace_id, seq);

-- Idempotency-Key records, written in the same transaction as the change they describe.
create table idempotency_keys (
  credential_id text not null,
  route text not null,
  key text not null,
  request_hash text not null,
  status_code integer not null,
  response_body text not null,
  response_headers jsonb not null default '{}',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (credential_id, route, key)
);
create index idempotency_keys_expires_idx on idempotency_keys (expires_at);
