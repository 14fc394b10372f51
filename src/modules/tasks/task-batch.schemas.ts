import { Type, type Static } from 'typebox';
import { Id, StringEnum } from '../../http/schemas.ts';
import { CreateTaskBody, MoveTaskBody, TaskSchema, UpdateTaskBody } from './task.schemas.ts';

/** PRODUCT.md, "Limits": batch operations take at most 100 items. */
export const MAX_BATCH_ITEMS = 100;

const Atomic = Type.Optional(
  Type.Boolean({ description: 'true (the default): all items are applied or none is (a 422 lists every refused item). false: each item that can be applied is, and each has its own result' }),
);

const Items = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) =>
  Type.Array(item, { minItems: 1, maxItems: MAX_BATCH_ITEMS, description: `${description}; 1 to ${MAX_BATCH_ITEMS}` });

const TaskRef = {
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The task; each at most once in a batch' }),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'The version the change was made against (the number in the ETag): another gives this item a 412' })),
};

export const BatchCreateBody = Type.Object(
  { tasks: Items(CreateTaskBody, 'The tasks to create, in order'), atomic: Atomic },
  { additionalProperties: false },
);
export type BatchCreateInput = Static<typeof BatchCreateBody>;

export const BatchUpdateBody = Type.Object(
  {
    tasks: Items(Type.Object({ ...TaskRef, ...UpdateTaskBody.properties }, { additionalProperties: false }), 'Merge patches: the fields sent are set (null clears), the others are never touched'),
    atomic: Atomic,
  },
  { additionalProperties: false },
);
export type BatchUpdateInput = Static<typeof BatchUpdateBody>;

export const BatchMoveBody = Type.Object(
  {
    tasks: Items(Type.Object({ ...TaskRef, ...MoveTaskBody.properties }, { additionalProperties: false }), 'Each task and the status it moves to'),
    atomic: Atomic,
  },
  { additionalProperties: false },
);
export type BatchMoveInput = Static<typeof BatchMoveBody>;

export const BatchQuery = Type.Object({
  atomic: Type.Optional(StringEnum(['true', 'false'], { description: 'As `atomic` in the body (giving both with different values is a 400)' })),
});
export type BatchQueryInput = Static<typeof BatchQuery>;

const ItemError = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    param: Type.Optional(Type.String({ description: 'The offending field, as `tasks[i].field`' })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const BatchResultSchema = Type.Object(
  {
    index: Type.Integer({ description: "The item's place in the request, from 0" }),
    id: Type.Union([Id('task'), Type.Null()], { description: 'The task (null for a create that was refused)' }),
    status: Type.Integer({ description: 'What a request of the item alone would have answered: 200 or 201, or its 4xx' }),
    data: Type.Optional(TaskSchema),
    error: Type.Optional(ItemError),
  },
  { additionalProperties: false },
);

/** Every item of a batch that met its rules (atomic) or each item's own outcome (atomic=false). */
export const BatchResponse = Type.Object(
  {
    data: Type.Array(BatchResultSchema, { description: 'One result per item, in the order of the request' }),
    meta: Type.Object(
      {
        atomic: Type.Boolean(),
        total: Type.Integer(),
        succeeded: Type.Integer(),
        failed: Type.Integer(),
        changed: Type.Integer({ description: 'Tasks written (a patch that changes nothing writes nothing, and has no event)' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type BatchResult = Static<typeof BatchResultSchema>;
