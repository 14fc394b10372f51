import type { Project } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentProject(p: Project) {
  return {
    id: p.id,
    workspace_id: p.workspace_id,
    name: p.name,
    slug: p.slug,
    description: p.description,
    statuses: p.statuses,
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
  };
}
