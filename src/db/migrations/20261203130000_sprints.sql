-- Sprints: a project's time boxes, planned, then active (one at a time), then completed.

create table sprints (
  id text primary key,
  workspace_id text not null,
  project_id text not null,
  name text not null check (length(name) between 1 and 100),
  goal text not null default '' check (length(goal) <= 10000),
  -- Planned dates (local dates; either may be left open until the sprint starts).
  start_date date,
  end_date date,
  status text not null default 'planned' check (status in ('planned', 'active', 'completed')),
  -- When it was started and ended, by the server's clock.
  started_at timestamptz,
  ended_at timestamptz,
  -- What the sprint held when it started (tasks and their estimates in minutes), and what of it,
  -- or of what was added later, was finished when it ended.
  committed_tasks integer,
  committed_minutes integer,
  completed_tasks integer,
  completed_minutes integer,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, workspace_id) references projects (id, workspace_id) on delete cascade,
  -- For tasks' (sprint_id, project_id) reference: a task's sprint is one of its own project's.
  unique (id, project_id),
  check (end_date is null or start_date is null or end_date >= start_date),
  check ((status = 'planned') = (started_at is null)),
  check ((status = 'completed') = (ended_at is not null)),
  check ((status = 'planned') = (committed_tasks is null)),
  check ((status = 'completed') = (completed_tasks is not null))
);

-- One active sprint per project: a second start fails on this index, however the starts interleave.
create unique index sprints_one_active_key on sprints (project_id) where status = 'active';
-- Names are unique in a project, whatever their case.
create unique index sprints_project_name_key on sprints (project_id, lower(name));
create index sprints_project_created_idx on sprints (project_id, created_at desc, id desc);

-- A task is in at most one sprint, of its own project; deleting the sprint returns its tasks to the backlog.
alter table tasks add column sprint_id text;
alter table tasks
  add constraint tasks_sprint_fkey foreign key (sprint_id, project_id) references sprints (id, project_id) on delete set null (sprint_id);
create index tasks_sprint_idx on tasks (sprint_id) where sprint_id is not null;
