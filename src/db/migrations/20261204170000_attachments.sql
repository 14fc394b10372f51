-- Attachments: files uploaded to tasks. The bytes live under the data directory, named by the
-- attachment's id (never by anything a client sent); the row says what they are. A file is
-- written and synced before its row is committed, so a row never names a missing file; files
-- without a row (a failed upload, a task deleted with its project) are swept away.

create table attachments (
  id text primary key,
  workspace_id text not null,
  project_id text not null,
  task_id text not null references tasks (id) on delete cascade,
  uploaded_by text references users (id) on delete set null,
  filename text not null check (length(filename) between 1 and 255),
  content_type text not null check (length(content_type) between 3 and 100),
  size_bytes bigint not null check (size_bytes >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null
);
create index attachments_task_idx on attachments (task_id, created_at, id);
