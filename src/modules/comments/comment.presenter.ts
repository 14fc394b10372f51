import type { Comment } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentComment(c: Comment) {
  return {
    id: c.id,
    task_id: c.task_id,
    project_id: c.project_id,
    workspace_id: c.workspace_id,
    author_id: c.author_id,
    body: c.body,
    edited: c.version > 1,
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}
