-- A task's history (GET /v1/tasks/:id/activity) is its events: every change to a task writes one,
-- with the actor and each field's old and new value. Per task they are in seq order, which is the
-- order of the changes (each change holds the task's row lock until it commits).
create index events_task_idx on events (resource_id, seq) where resource_type = 'task';
