// Bulk seeding of tasks with one `insert … select … from generate_series(…)`, the same SQL on the
// embedded database and on PostgreSQL. Ids are deterministic so the load generator can compute
// them without reading them back: 'task_' + the first 16 hex digits of md5('sprintlane-bench-<n>')
// (hex digits are a subset of the server's base62 alphabet, and the length matches its ids).
import { createHash } from 'node:crypto';

export const ID_SEED = 'sprintlane-bench-';

export function seededTaskId(n: number): string {
  return `task_${createHash('md5').update(`${ID_SEED}${n}`).digest('hex').slice(0, 16)}`;
}

/** Executes one statement with $n parameters. */
export type Exec = (text: string, params: unknown[]) => Promise<unknown>;

// $1 workspace id, $2 user id (creator, assignee of some), $3 project ids (text[]), $4 task count.
// Task g goes to project (g % P) + 1 with number g / P + 1, so each project gets 1..N/P in order
// and created_at grows with the number over the past year. Status, priority, labels and the
// optional fields are drawn per row with realistic skews.
const INSERT_TASKS = `
with p as (
  select id, ord::int as ord, count(*) over () as n from unnest($3::text[]) with ordinality as t(id, ord)
), r as (
  select g, random() as r1, random() as r2, random() as r3, random() as r4, random() as r5, random() as r6,
         (random() * 8)::int % 8 as l1, 1 + (random() * 6)::int as step, random() as jitter
  from generate_series(0, $4::int - 1) as g
  offset 0
), rows as (
  select r.*, p.id as project_id, (r.g / p.n + 1)::int as number,
         now() - ((($4::int / p.n) - (r.g / p.n)) * interval '105 minutes') - r.jitter * interval '100 minutes' as created
  from r join p on p.ord = (r.g % p.n) + 1
)
insert into tasks (id, uuid, workspace_id, project_id, number, title, description, status, priority, labels,
                   assignee_id, due_date, estimated_minutes, created_by, version, created_at, updated_at)
select
  'task_' || substr(md5('${ID_SEED}' || g), 1, 16),
  gen_random_uuid(),
  $1, project_id, number,
  (array['Fix','Add','Refactor','Document','Investigate','Polish','Remove','Speed up'])[1 + (g % 8)] || ' ' ||
  (array['login flow','task board','sprint report','webhook retries','CSV export','search','time entries','settings page','API pagination','notifications'])[1 + ((g / 8) % 10)] ||
  ' (#' || number || ')',
  case when r4 < 0.4 then '' else repeat('Steps to reproduce, expected and actual behaviour. ', 1 + (r4 * 10)::int) end,
  case when r1 < 0.20 then 'backlog' when r1 < 0.40 then 'todo' when r1 < 0.55 then 'in_progress' when r1 < 0.65 then 'review' else 'done' end,
  case when r2 < 0.25 then 'low' when r2 < 0.65 then 'medium' when r2 < 0.90 then 'high' else 'urgent' end,
  case when r3 < 0.30 then '{}'::text[]
       when r3 < 0.75 then array[(array['bug','feature','frontend','backend','docs','ux','infra','security'])[1 + l1]]
       else array[(array['bug','feature','frontend','backend','docs','ux','infra','security'])[1 + l1],
                  (array['bug','feature','frontend','backend','docs','ux','infra','security'])[1 + (l1 + step) % 8]] end,
  case when r5 < 0.6 then $2 else null end,
  case when r6 < 0.3 then (created + (1 + (r6 * 100)::int) * interval '1 day')::date else null end,
  case when r5 < 0.5 then 15 * (1 + (r5 * 40)::int) else null end,
  $2,
  1 + (r6 * 3)::int,
  created,
  created + r4 * interval '10 days'
from rows
`;

export async function seedTasks(exec: Exec, o: { workspaceId: string; userId: string; projectIds: string[]; count: number; analyze: boolean }): Promise<void> {
  if (o.count % o.projectIds.length !== 0) throw new Error('task count must divide evenly among projects');
  await exec(INSERT_TASKS, [o.workspaceId, o.userId, o.projectIds, o.count]);
  await exec('update projects set last_task_number = $2::int where id = any($1::text[])', [o.projectIds, o.count / o.projectIds.length]);
  // The state a settled database is in: PostgreSQL's autovacuum, or the server's own housekeeping
  // on the embedded database (src/maintenance.ts), vacuums and analyzes after bulk changes.
  if (o.analyze) await exec('vacuum (analyze)', []);
}

// Time entries for the time-tracking budgets (issue 3): $1 workspace id, $2 project ids (text[],
// in the order tasks were seeded), $3 user ids (text[]), $4 tasks per project, $5 entry count.
// Entry g belongs to user g % U, in project (g / U) % P, on a random task of that project, and
// starts at a random second of the past 365 days; it lasts 5 minutes to 4 hours; 80% billable.
// Task n was seeded into project (n % P) + 1, so project p's tasks are n = p + P·k.
const INSERT_TIME_ENTRIES = `
with p as (
  select id, ord::int - 1 as idx, count(*) over () as n from unnest($2::text[]) with ordinality as t(id, ord)
), u as (
  select id, ord::int - 1 as idx, count(*) over () as n from unnest($3::text[]) with ordinality as t(id, ord)
), r as (
  select g, random() as r1, random() as r2, random() as r3, random() as r4 from generate_series(0, $5::int - 1) as g
  offset 0
), rows as (
  select r.*, u.id as user_id, p.id as project_id, p.idx + p.n * floor(r1 * $4::int)::int as task_n,
         date_trunc('second', now() - r2 * interval '365 days') as started
  from r
  join u on u.idx = r.g % u.n
  join p on p.idx = (r.g / u.n) % p.n
)
insert into time_entries (workspace_id, project_id, task_id, user_id, started_at, ended_at, description, billable, is_manual, created_at, updated_at)
select $1, project_id, 'task_' || substr(md5('${ID_SEED}' || task_n), 1, 16), user_id,
       started, started + (300 + floor(r3 * 14100)::int) * interval '1 second',
       case when r4 < 0.5 then '' else 'Worked on it' end, r4 < 0.8, r4 < 0.3, started, started
from rows
`;

export async function seedTimeEntries(exec: Exec, o: { workspaceId: string; projectIds: string[]; userIds: string[]; tasksPerProject: number; count: number; analyze: boolean }): Promise<void> {
  // One statement for a million rows: the per-row roll-up into tasks.tracked_seconds is switched
  // off while it runs, and the totals are computed once afterwards, as the trigger would have.
  await exec('alter table time_entries disable trigger time_entries_roll_up', []);
  try {
    await exec(INSERT_TIME_ENTRIES, [o.workspaceId, o.projectIds, o.userIds, o.tasksPerProject, o.count]);
  } finally {
    await exec('alter table time_entries enable trigger time_entries_roll_up', []);
  }
  await exec(
    `update tasks t set tracked_seconds = s.seconds
     from (select task_id, sum(extract(epoch from ended_at - started_at))::int as seconds from time_entries where ended_at is not null group by task_id) s
     where t.id = s.task_id`,
    [],
  );
  if (o.analyze) await exec('vacuum (analyze)', []);
}

// Events for the change-feed budget (issue 4): $1 workspace id, $2 project ids (text[]), $3 event
// count; task events as the API writes them (a presented task of about 500 bytes), already given
// their feed positions, as the sequencer would have.
const INSERT_EVENTS = `
insert into events (id, workspace_id, project_id, type, resource_type, resource_id, data, changes, position)
select 'evt_bench' || g, $1, ($2::text[])[1 + g % array_length($2::text[], 1)],
       (array['task.created', 'task.updated', 'task.moved', 'task.deleted'])[1 + g % 4], 'task', 'task_bench' || (g / 4),
       jsonb_build_object('id', 'task_bench' || (g / 4), 'number', g / 4, 'title', 'Benchmark task ' || (g / 4), 'description', repeat('x', 200),
                          'status', 'todo', 'priority', 'medium', 'labels', jsonb_build_array('bench'), 'assignee_id', null,
                          'due_date', null, 'estimated_minutes', 60, 'sprint_id', null, 'total_tracked_minutes', 0,
                          'created_at', '2026-12-01T00:00:00Z', 'updated_at', '2026-12-01T00:00:00Z'),
       case when g % 4 = 1 then '{"title": {"from": "a", "to": "b"}}'::jsonb end,
       (select last_position from event_feed_state) + g
from generate_series(1, $3::int) as g
`;

export async function seedEvents(exec: Exec, o: { workspaceId: string; projectIds: string[]; count: number; analyze: boolean }): Promise<void> {
  await exec(INSERT_EVENTS, [o.workspaceId, o.projectIds, o.count]);
  await exec('update event_feed_state set last_position = (select max(position) from events)', []);
  if (o.analyze) await exec('vacuum (analyze) events', []);
}
