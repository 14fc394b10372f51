-- Labels: a workspace's named, coloured tags for tasks. Tasks carry their labels' names (the
-- spec's examples send names); a name given to a task that has no label yet creates one.

create table labels (
  id text primary key,
  workspace_id text not null references workspaces (id) on delete cascade,
  name text not null check (length(name) between 1 and 50 and position(',' in name) = 0 and name = btrim(name)),
  color text not null check (color ~ '^#[0-9a-f]{6}$'),
  description text not null default '' check (length(description) <= 500),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One label per name in a workspace, whatever its case.
create unique index labels_workspace_name_key on labels (workspace_id, lower(name));

-- The labels tasks already carry (their first spelling in each workspace).
insert into labels (id, workspace_id, name, color, created_at, updated_at)
select distinct on (t.workspace_id, lower(btrim(l.name)))
  'lbl' || '_' || substr(md5(t.workspace_id || ':' || lower(btrim(l.name))), 1, 24), t.workspace_id, btrim(l.name), '#6b7280', t.created_at, t.created_at
from tasks t cross join unnest(t.labels) as l(name)
where btrim(l.name) <> '' and position(',' in l.name) = 0 and length(btrim(l.name)) <= 50
order by t.workspace_id, lower(btrim(l.name)), t.created_at;
