-- A sprint's scope over time: a row each time a task joins or leaves a sprint, and each time a
-- task in it changes status or estimate, written in the transaction of the change. Sprint reports
-- (scope added and removed, the burndown) replay it. It is kept apart from the events so that a
-- report reads only its own sprint's rows, through one index, whatever else happened.

create table sprint_task_log (
  seq bigint generated always as identity primary key,
  sprint_id text not null references sprints (id) on delete cascade,
  -- No reference: the row of a deleted task says when it left.
  task_id text not null,
  -- The task's updated_at (the server's clock) for a change; the time of the deletion for one.
  at timestamptz not null,
  in_sprint boolean not null,
  -- The task's status and estimate from then on (as they were when it left, for a departure).
  status text not null,
  estimated_minutes integer
);

create index sprint_task_log_sprint_idx on sprint_task_log (sprint_id, at, seq);

-- Tasks already planned into sprints: in since they were created, or since their sprint started
-- if that came first, so that they count as committed rather than added.
insert into sprint_task_log (sprint_id, task_id, at, in_sprint, status, estimated_minutes)
select t.sprint_id, t.id, least(t.created_at, coalesce(s.started_at, t.created_at)), true, t.status, t.estimated_minutes
from tasks t
join sprints s on s.id = t.sprint_id
order by t.created_at, t.id;
