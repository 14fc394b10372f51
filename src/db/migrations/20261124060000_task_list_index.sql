-- Boards filter a project's tasks by status and priority together; this index answers both the
-- page (already in created_at order) and its total without reading every row of the status.
create index tasks_project_status_priority_idx on tasks (project_id, status, priority, created_at desc, id desc);
