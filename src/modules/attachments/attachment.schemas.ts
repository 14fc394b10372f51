import { Type } from 'typebox';
import { Id, Nullable, Timestamp } from '../../http/schemas.ts';
import { ACCEPTED } from './content-type.ts';

export const AttachmentSchema = Type.Object(
  {
    id: Id('att'),
    task_id: Id('task'),
    project_id: Id('proj'),
    workspace_id: Id('ws'),
    uploaded_by: Nullable(Id('user'), { description: 'Who uploaded it (null once their account is gone)' }),
    filename: Type.String({ description: 'As uploaded, without any directory part' }),
    content_type: Type.String({ description: `One of: ${Object.keys(ACCEPTED).join(', ')}` }),
    size_bytes: Type.Integer(),
    sha256: Type.String({ description: 'Hex SHA-256 of the bytes (also the download\'s ETag)' }),
    download_url: Type.String({ description: 'GET it for the bytes (with access to the task)' }),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);
