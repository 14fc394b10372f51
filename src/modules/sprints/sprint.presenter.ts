import type { Sprint } from '../../db/schema.ts';
import { iso, isoOrNull } from '../../lib/time.ts';

function tally(tasks: number | null, minutes: number | null) {
  return tasks === null ? null : { tasks, estimated_minutes: minutes ?? 0 };
}

export function presentSprint(s: Sprint) {
  return {
    id: s.id,
    workspace_id: s.workspace_id,
    project_id: s.project_id,
    name: s.name,
    goal: s.goal,
    start_date: s.start_date,
    end_date: s.end_date,
    status: s.status,
    started_at: isoOrNull(s.started_at),
    ended_at: isoOrNull(s.ended_at),
    committed: tally(s.committed_tasks, s.committed_minutes),
    completed: tally(s.completed_tasks, s.completed_minutes),
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
  };
}
