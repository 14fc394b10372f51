import { Type, type Static } from 'typebox';
import { Id, Nullable, PathSegment, StringEnum, Timestamp } from '../../http/schemas.ts';

export const CATEGORIES = ['todo', 'in_progress', 'done'] as const;
/** PRODUCT.md has no number; a board of more than 50 columns is not a board. */
export const MAX_STATUSES = 50;

export const StatusKey = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,49}$', maxLength: 50, description: 'The status tasks carry: lower-case letters, digits, `_` and `-`; fixed once made' });
const Name = Type.String({ minLength: 1, maxLength: 100, description: 'Unique in the project, whatever its case' });
const Category = StringEnum(CATEGORIES, { description: 'todo, in_progress or done: tasks in a done column count as finished (sprints, reports)' });
const WipLimit = Nullable(Type.Integer({ minimum: 1, maximum: 100_000 }), { description: 'At most this many tasks in the column (a move or create past it is a 409 WIP_LIMIT_REACHED); null: no limit' });
const Position = Type.Integer({ minimum: 0, maximum: MAX_STATUSES - 1, description: 'Its place on the board, from 0 (the default for a new column: the end)' });

export const StatusSchema = Type.Object(
  {
    id: Id('sts'),
    project_id: Id('proj'),
    key: Type.String(),
    name: Type.String(),
    category: StringEnum(CATEGORIES),
    wip_limit: Nullable(Type.Integer()),
    position: Type.Integer({ description: 'Its place on the board, from 0' }),
    task_count: Type.Integer({ description: 'Tasks in the column now' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CreateStatusBody = Type.Object(
  { key: StatusKey, name: Name, category: Category, wip_limit: Type.Optional(WipLimit), position: Type.Optional(Position) },
  { additionalProperties: false },
);
export type CreateStatusInput = Static<typeof CreateStatusBody>;

export const UpdateStatusBody = Type.Object(
  { name: Type.Optional(Name), category: Type.Optional(Category), wip_limit: Type.Optional(WipLimit), position: Type.Optional(Position) },
  { additionalProperties: false },
);
export type UpdateStatusInput = Static<typeof UpdateStatusBody>;

export const StatusPath = Type.Object({ id: PathSegment(200), key: PathSegment(50) });

export const DeleteStatusQuery = Type.Object({
  move_to: Type.Optional(Type.String({ maxLength: 50, description: "Another of the project's statuses: where the column's tasks go. Required when the column holds tasks" })),
});
export type DeleteStatusInput = Static<typeof DeleteStatusQuery>;
