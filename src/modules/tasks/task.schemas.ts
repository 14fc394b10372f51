import { Type, type Static } from 'typebox';
import { ActorSchema, ChangesSchema, CsvOf, DateOnly, DateOrDateTime, Id, Nullable, ListQuery, PageQuery, StringEnum, Timestamp } from '../../http/schemas.ts';
import { AttachmentSchema } from '../attachments/attachment.schemas.ts';
import { CommentSchema } from '../comments/comment.schemas.ts';
import { LabelName } from '../labels/label.schemas.ts';
import { TimeEntrySchema } from '../time-entries/time-entry.schemas.ts';

/** The fields the list can be sorted by. */
export const TASK_SORTS = ['created_at', 'updated_at', 'number', 'title', 'priority', 'status', 'due_date', 'position'] as const;

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export const PrioritySchema = StringEnum(PRIORITIES, { description: 'Priority level' });

/** The relations `include` embeds. */
export const INCLUDES = ['comments', 'time_entries', 'attachments'] as const;

export const TaskSchema = Type.Object(
  {
    id: Id('task'),
    uuid: Type.String({ format: 'uuid', description: 'The `task_uuid` of the time-tracking API' }),
    number: Type.Integer({ description: 'Sequential per project, never reused' }),
    project_id: Id('proj'),
    workspace_id: Id('ws'),
    title: Type.String(),
    description: Type.String(),
    status: Type.String({ description: "The key of one of the project's workflow columns (GET /v1/projects/{id}/statuses)" }),
    priority: PrioritySchema,
    labels: Type.Array(Type.String()),
    assignee_id: Nullable(Id('user')),
    due_date: Nullable(DateOnly),
    estimated_minutes: Nullable(Type.Integer()),
    sprint_id: Nullable(Id('spr'), { description: 'The sprint the task is planned in (one of its project\'s), or null: the backlog' }),
    parent_id: Nullable(Id('task'), { description: 'The task this is a subtask of (one of its project\'s, not a subtask itself), or null' }),
    progress: Type.Object(
      {
        subtasks: Type.Integer({ description: 'Its subtasks' }),
        completed: Type.Integer({ description: 'Those in a done column' }),
        percent: Nullable(Type.Integer(), { description: 'floor(completed × 100 ÷ subtasks); null without subtasks' }),
      },
      { additionalProperties: false },
    ),
    total_tracked_minutes: Type.Integer({ description: "The task's finished time entries: their seconds summed, then rounded to the nearest minute (half up); running timers count once stopped" }),
    created_at: Timestamp,
    updated_at: Timestamp,
    comments: Type.Optional(Type.Array(CommentSchema, { description: "With include=comments: the task's 100 most recent comments, newest first (GET /v1/tasks/{id}/comments lists them all)" })),
    time_entries: Type.Optional(Type.Array(TimeEntrySchema, { description: "With include=time_entries: the task's 100 most recent entries, newest first (GET /v1/tasks/{id}/time-entries lists them all)" })),
    attachments: Type.Optional(Type.Array(AttachmentSchema, { description: "With include=attachments: the task's attachments, oldest first" })),
  },
  { additionalProperties: false },
);

const Title = Type.String({ minLength: 1, maxLength: 500 });
const Description = Type.String({ maxLength: 65_535 });
const Status = Type.String({ minLength: 1, maxLength: 50 });
const Labels = Type.Array(LabelName, { maxItems: 50, description: "Label names: each the workspace's label of that name (whatever its case), created if it has none" });
const Assignee = Nullable(Type.String({ maxLength: 64 }), { description: 'A member of the workspace, or null' });
const DueDate = Nullable(DateOnly);
const Estimate = Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }), { description: 'Minutes' });
const ParentRef = Nullable(Type.String({ maxLength: 64 }), { description: "Another task of the project that is not a subtask itself (the task must have no subtasks), or null" });
const SprintRef = Nullable(Type.String({ maxLength: 64 }), { description: "One of the project's sprints that has not ended, or null: the backlog" });

export const CreateTaskBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    priority: Type.Optional(PrioritySchema),
    labels: Type.Optional(Labels),
    assignee_id: Type.Optional(Assignee),
    due_date: Type.Optional(DueDate),
    estimated_minutes: Type.Optional(Estimate),
    sprint_id: Type.Optional(SprintRef),
    parent_id: Type.Optional(ParentRef),
  },
  { additionalProperties: false },
);
export type CreateTaskInput = Static<typeof CreateTaskBody>;

export const UpdateTaskBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    priority: Type.Optional(PrioritySchema),
    labels: Type.Optional(Labels),
    assignee_id: Type.Optional(Assignee),
    due_date: Type.Optional(DueDate),
    estimated_minutes: Type.Optional(Estimate),
    sprint_id: Type.Optional(SprintRef),
    parent_id: Type.Optional(ParentRef),
  },
  { additionalProperties: false },
);
export type UpdateTaskInput = Static<typeof UpdateTaskBody>;

export const TaskActivitySchema = Type.Object(
  {
    id: Id('evt', 'The event behind this entry (the same id as in the change feed)'),
    type: StringEnum(['task.created', 'task.updated', 'task.moved'], { description: 'What happened' }),
    occurred_at: Timestamp,
    actor: ActorSchema,
    changes: ChangesSchema('Each changed field, from its old to its new value; null for task.created'),
  },
  { additionalProperties: false },
);

export const TaskActivityQuery = Type.Object({
  page: PageQuery.page,
  per_page: PageQuery.per_page,
  limit: PageQuery.limit,
  order: Type.Optional(StringEnum(['asc', 'desc'], { description: 'asc (default): oldest first' })),
});
export type TaskActivityInput = Static<typeof TaskActivityQuery>;

export const MoveTaskBody = Type.Object(
  {
    status: Status,
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Its place in the column, from 0 (the top); past the end: the end. Without it, the task keeps its place in the order. Lists show the order with sort=position' })),
  },
  { additionalProperties: false },
);
export type MoveTaskInput = Static<typeof MoveTaskBody>;

const Include = CsvOf(INCLUDES, { maxLength: 100, description: 'Comma-separated: comments, time_entries, attachments' });

export const TaskQuery = Type.Object({ include: Type.Optional(Include) });
export type TaskQueryInput = Static<typeof TaskQuery>;

const CsvFilter = (description: string) => Type.String({ maxLength: 500, description });

export const ListTasksQuery = Type.Object({
  ...ListQuery(TASK_SORTS),
  status: Type.Optional(CsvFilter('Status, or several separated by commas')),
  assignee: Type.Optional(CsvFilter('Assignee user id, or `none` for unassigned')),
  label: Type.Optional(CsvFilter('Label; several separated by commas must all be present')),
  priority: Type.Optional(CsvOf(PRIORITIES, { maxLength: 500, description: 'Priority, or several separated by commas' })),
  sprint: Type.Optional(CsvFilter('Sprint id, or `none` for the backlog; several separated by commas')),
  parent: Type.Optional(Type.String({ maxLength: 64, description: 'Only the subtasks of this task; `none`: only tasks that are not subtasks' })),
  created_after: Type.Optional(DateOrDateTime),
  created_before: Type.Optional(DateOrDateTime),
  updated_after: Type.Optional(DateOrDateTime),
  include: Type.Optional(Include),
});
export type ListTasksInput = Static<typeof ListTasksQuery>;

export const ListAllTasksQuery = Type.Object({
  ...ListTasksQuery.properties,
  project: Type.Optional(Type.String({ maxLength: 64, description: 'Only this project' })),
  workspace: Type.Optional(Type.String({ maxLength: 64, description: 'Only this workspace' })),
});
export type ListAllTasksInput = Static<typeof ListAllTasksQuery>;
