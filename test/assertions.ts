import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../src/db/database.ts';
import type { Response } from './app.ts';

/** The response is an error envelope with this status (and code and param, when given). */
export function expectError(res: Response, status: number, code?: string, param?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(typeof res.body?.error?.code).toBe('string');
  expect(typeof res.body?.error?.message).toBe('string');
  if (code !== undefined) expect(res.body.error.code).toBe(code);
  if (param !== undefined) expect(res.body.error.param).toBe(param);
}

/**
 * Every row a write could touch, as one comparable value: equal before and after a refused
 * request proves it changed nothing (api_keys.last_used_at is bookkeeping, left out).
 */
export async function fingerprint(db: Db): Promise<Record<string, unknown>> {
  const { rows } = await sql<Record<string, string | null>>`select
    (select string_agg(concat_ws(',', id, email, username, name, is_instance_admin), '|' order by id) from users) as users,
    (select string_agg(concat_ws(',', id, slug, name, plan, time_zone, allow_overlapping_time_entries, max_timer_minutes, version, updated_at), '|' order by id) from workspaces) as workspaces,
    (select string_agg(concat_ws(',', id, workspace_id, user_id, role, version), '|' order by id) from memberships) as memberships,
    (select string_agg(concat_ws(',', id, workspace_id, name, slug, description, statuses::text, last_task_number, version), '|' order by id) from projects) as projects,
    (select string_agg(concat_ws(',', id, project_id, title, description, status, priority, labels::text, assignee_id, due_date, estimated_minutes, sprint_id, parent_id, subtask_count, subtask_done_count, version), '|' order by id) from tasks) as tasks,
    (select string_agg(concat_ws(',', id, project_id, name, goal, start_date, end_date, status, started_at, ended_at, version), '|' order by id) from sprints) as sprints,
    (select string_agg(concat_ws(',', id, user_id, name, scopes::text, project_id, expires_at, revoked_at), '|' order by id) from api_keys) as api_keys,
    (select string_agg(concat_ws(',', id, task_id, user_id, started_at, ended_at, description, billable, auto_stopped, version), '|' order by id) from time_entries) as time_entries,
    (select count(*)::text from events) as events,
    (select count(*)::text from sprint_task_log) as sprint_task_log,
    (select string_agg(concat_ws(',', id, task_id, author_id, body, version), '|' order by id) from comments) as comments,
    (select string_agg(concat_ws(',', id, project_id, key, name, category, wip_limit, position, version), '|' order by id) from project_statuses) as project_statuses,
    (select string_agg(concat_ws(',', id, workspace_id, name, color, description, version), '|' order by id) from labels) as labels,
    (select count(*)::text from idempotency_keys) as idempotency_keys`.execute(db);
  return rows[0]!;
}
