import type { ProjectStatus } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentStatus(s: ProjectStatus, taskCount: number) {
  return {
    id: s.id,
    project_id: s.project_id,
    key: s.key,
    name: s.name,
    category: s.category,
    wip_limit: s.wip_limit,
    position: s.position,
    task_count: taskCount,
    created_at: iso(s.created_at),
    updated_at: iso(s.updated_at),
  };
}
