import type { Label } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentLabel(l: Label) {
  return {
    id: l.id,
    workspace_id: l.workspace_id,
    name: l.name,
    color: l.color,
    description: l.description,
    created_at: iso(l.created_at),
    updated_at: iso(l.updated_at),
  };
}
