-- Comments on tasks: written by members, edited only by their authors, deleted by their authors
-- or the workspace's admins; they go with their task.

create table comments (
  id text primary key,
  workspace_id text not null,
  project_id text not null,
  task_id text not null references tasks (id) on delete cascade,
  -- Null once the author's account is gone: the comment stays.
  author_id text references users (id) on delete set null,
  body text not null check (length(body) between 1 and 65535),
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index comments_task_idx on comments (task_id, created_at, id);
