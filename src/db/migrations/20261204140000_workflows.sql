-- Workflows: each project's board columns (a status key, a name, a category and an optional WIP
-- limit) in order. Tasks reference their project's columns by key, so that a task can never be
-- in a status its project does not have, and a column that holds tasks cannot be removed.
-- projects.statuses stays the columns' keys in board order (kept by the workflow service in the
-- transaction of each change), for the checks that read a project row anyway.

create table project_statuses (
  id text primary key,
  workspace_id text not null,
  project_id text not null,
  key text not null check (key ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  name text not null check (length(name) between 1 and 100),
  category text not null check (category in ('todo', 'in_progress', 'done')),
  wip_limit integer check (wip_limit is null or wip_limit between 1 and 100000),
  position integer not null check (position >= 0),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, workspace_id) references projects (id, workspace_id) on delete cascade,
  constraint project_statuses_key unique (project_id, key),
  -- Deferred, so that a reorder can move columns past each other in one transaction.
  constraint project_statuses_position_key unique (project_id, position) deferrable initially deferred
);
create unique index project_statuses_name_key on project_statuses (project_id, lower(name));

-- The columns a project's statuses array names: the foundation's defaults for a new project.
create function project_columns_from_statuses(p projects) returns setof project_statuses language sql as $$
  select 'sts_' || replace(gen_random_uuid()::text, '-', ''), p.workspace_id, p.id, s.key,
         case s.key when 'todo' then 'To do' when 'in_progress' then 'In progress' else initcap(replace(s.key, '_', ' ')) end,
         case when s.k = cardinality(p.statuses) then 'done' when s.key in ('in_progress', 'review') then 'in_progress' else 'todo' end,
         null::integer, (s.k - 1)::integer, 1, p.created_at, p.created_at
  from unnest(p.statuses) with ordinality as s(key, k)
$$;

create function projects_default_columns() returns trigger language plpgsql as $$
begin
  insert into project_statuses select * from project_columns_from_statuses(new);
  return null;
end
$$;
create trigger projects_default_columns after insert on projects for each row execute function projects_default_columns();

insert into project_statuses select c.* from projects p cross join lateral project_columns_from_statuses(p) c;

alter table tasks add constraint tasks_status_fkey foreign key (project_id, status) references project_statuses (project_id, key);

-- A task's place in its column: boards order by it. New tasks go to the end of their column.
create sequence tasks_rank_seq;
alter table tasks add column rank double precision not null default nextval('tasks_rank_seq');
create index tasks_board_idx on tasks (project_id, status, rank);
