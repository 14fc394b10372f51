-- A task's workspace is its project's workspace, enforced by the database: the composite key
-- replaces the plain project reference, so that a query scoped to a project the caller may see
-- needs no second workspace filter (which forced a heap visit per row in index-only counts).
create unique index projects_id_workspace_key on projects (id, workspace_id);
alter table tasks
  add constraint tasks_project_workspace_fkey foreign key (project_id, workspace_id) references projects (id, workspace_id) on delete cascade;
alter table tasks drop constraint tasks_project_id_fkey;
