import type { Role, Workspace } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentWorkspace(w: Workspace, role: Role) {
  return {
    id: w.id,
    slug: w.slug,
    name: w.name,
    plan: w.plan,
    time_zone: w.time_zone,
    allow_overlapping_time_entries: w.allow_overlapping_time_entries,
    max_timer_minutes: w.max_timer_minutes,
    role,
    created_at: iso(w.created_at),
    updated_at: iso(w.updated_at),
  };
}
