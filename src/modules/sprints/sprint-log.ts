import type { Insertable } from 'kysely';
import type { SprintTaskLogTable, Task } from '../../db/schema.ts';

export type SprintLogRow = Insertable<SprintTaskLogTable>;

type Scoped = Pick<Task, 'id' | 'sprint_id' | 'status' | 'estimated_minutes'>;

/**
 * The sprint log rows of a change to a task (`before` null for a creation, `after` null for a
 * deletion), at `at`: its departure from one sprint, its arrival in another, or its new status or
 * estimate while it stays. Every writer of tasks writes these with the change, in its transaction.
 */
export function sprintLogRows(before: Scoped | null, after: Scoped | null, at: Date): SprintLogRow[] {
  const rows: SprintLogRow[] = [];
  const from = before?.sprint_id ?? null;
  const to = after?.sprint_id ?? null;
  if (from !== null && from !== to) {
    rows.push({ sprint_id: from, task_id: before!.id, at, in_sprint: false, status: before!.status, estimated_minutes: before!.estimated_minutes });
  }
  if (to !== null && (from !== to || before!.status !== after!.status || before!.estimated_minutes !== after!.estimated_minutes)) {
    rows.push({ sprint_id: to, task_id: after!.id, at, in_sprint: true, status: after!.status, estimated_minutes: after!.estimated_minutes });
  }
  return rows;
}
