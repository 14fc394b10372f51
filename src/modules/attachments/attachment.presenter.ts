import type { Attachment } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentAttachment(a: Attachment) {
  return {
    id: a.id,
    task_id: a.task_id,
    project_id: a.project_id,
    workspace_id: a.workspace_id,
    uploaded_by: a.uploaded_by,
    filename: a.filename,
    content_type: a.content_type,
    size_bytes: Number(a.size_bytes),
    sha256: a.sha256,
    download_url: `/v1/attachments/${a.id}/content`,
    created_at: iso(a.created_at),
  };
}
