import type { Task } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export type Include = 'comments' | 'time_entries' | 'attachments';

/** Relations that have landed, loaded by the caller for the tasks it presents. */
export type Related = Partial<Record<Include, unknown[]>>;

export function presentTask(t: Task, include: readonly Include[] = [], related: Related = {}) {
  const out: Record<string, unknown> & { id: string } = {
    id: t.id,
    uuid: t.uuid,
    number: t.number,
    project_id: t.project_id,
    workspace_id: t.workspace_id,
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    labels: t.labels,
    assignee_id: t.assignee_id,
    due_date: t.due_date,
    estimated_minutes: t.estimated_minutes,
    sprint_id: t.sprint_id,
    parent_id: t.parent_id,
    progress: {
      subtasks: t.subtask_count,
      completed: t.subtask_done_count,
      percent: t.subtask_count === 0 ? null : Math.floor((t.subtask_done_count * 100) / t.subtask_count),
    },
    total_tracked_minutes: Math.floor((t.tracked_seconds + 30) / 60),
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
  // Relations whose features have not landed yet are embedded as empty lists.
  for (const rel of include) out[rel] = related[rel] ?? [];
  return out;
}
