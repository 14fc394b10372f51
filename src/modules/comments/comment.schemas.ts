import { Type, type Static } from 'typebox';
import { Id, Nullable, PageQuery, StringEnum, Timestamp } from '../../http/schemas.ts';

export const CommentSchema = Type.Object(
  {
    id: Id('cmt'),
    task_id: Id('task'),
    project_id: Id('proj'),
    workspace_id: Id('ws'),
    author_id: Nullable(Id('user'), { description: 'Who wrote it (null once their account is gone)' }),
    body: Type.String({ description: 'Markdown' }),
    edited: Type.Boolean({ description: 'Changed since it was written' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const Body = Type.String({ minLength: 1, maxLength: 65_535, description: 'Markdown' });

export const CommentBody = Type.Object({ body: Body }, { additionalProperties: false });
export type CommentInput = Static<typeof CommentBody>;

export const ListCommentsQuery = Type.Object({
  page: PageQuery.page,
  per_page: PageQuery.per_page,
  limit: PageQuery.limit,
  order: Type.Optional(StringEnum(['asc', 'desc'], { description: 'asc (default): oldest first' })),
});
export type ListCommentsInput = Static<typeof ListCommentsQuery>;
