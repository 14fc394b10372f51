-- Subtasks: a task may have a parent, a task of the same project that has no parent itself (one
-- level, as Jira's sub-tasks). A parent keeps how many subtasks it has and how many of them are
-- finished (in a done column), kept by triggers in the transaction of each change, with its
-- version moved on (its representation changed). Deleting a parent leaves its subtasks as tasks.

alter table tasks add column parent_id text;
alter table tasks add column subtask_count integer not null default 0 check (subtask_count >= 0);
alter table tasks add column subtask_done_count integer not null default 0 check (subtask_done_count between 0 and subtask_count);
create unique index tasks_id_project_key on tasks (id, project_id);
alter table tasks add constraint tasks_parent_fkey foreign key (parent_id, project_id) references tasks (id, project_id) on delete set null (parent_id);
alter table tasks add constraint tasks_parent_not_self check (parent_id is null or parent_id <> id);
create index tasks_parent_idx on tasks (parent_id) where parent_id is not null;

create function task_is_done(project text, status text) returns boolean language sql stable as $$
  select exists (select 1 from project_statuses s where s.project_id = project and s.key = status and s.category = 'done')
$$;

create function tasks_subtasks_roll_up() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.parent_id is not null then
    update tasks set subtask_count = subtask_count - 1,
                     subtask_done_count = subtask_done_count - (case when task_is_done(old.project_id, old.status) then 1 else 0 end),
                     version = version + 1
    where id = old.parent_id;
  end if;
  if tg_op in ('UPDATE', 'INSERT') and new.parent_id is not null then
    update tasks set subtask_count = subtask_count + 1,
                     subtask_done_count = subtask_done_count + (case when task_is_done(new.project_id, new.status) then 1 else 0 end),
                     version = version + 1
    where id = new.parent_id;
  end if;
  return null;
end
$$;

create trigger tasks_subtasks_insert after insert on tasks for each row when (new.parent_id is not null)
  execute function tasks_subtasks_roll_up();
create trigger tasks_subtasks_delete after delete on tasks for each row when (old.parent_id is not null)
  execute function tasks_subtasks_roll_up();
create trigger tasks_subtasks_update after update of parent_id, status on tasks for each row
  when ((old.parent_id is not null or new.parent_id is not null)
        and (old.parent_id is distinct from new.parent_id or old.status is distinct from new.status))
  execute function tasks_subtasks_roll_up();

-- A column's category decides which subtasks are finished: when it changes, the parents of the
-- project count again.
create function project_statuses_recount_subtasks() returns trigger language plpgsql as $$
begin
  update tasks p set subtask_done_count = (select count(*) from tasks c where c.parent_id = p.id and task_is_done(c.project_id, c.status)),
                     version = p.version + 1
  where p.project_id = new.project_id and p.subtask_count > 0
    and p.subtask_done_count is distinct from (select count(*) from tasks c where c.parent_id = p.id and task_is_done(c.project_id, c.status));
  return null;
end
$$;
create trigger project_statuses_recount_subtasks after update of category on project_statuses for each row
  when (old.category is distinct from new.category) execute function project_statuses_recount_subtasks();
