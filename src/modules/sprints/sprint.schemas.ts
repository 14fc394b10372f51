import { Type, type Static } from 'typebox';
import { CsvOf, DateOnly, Id, Nullable, NullableTimestamp, ListQuery, StringEnum, Timestamp } from '../../http/schemas.ts';

/** The fields the list can be sorted by. */
export const SPRINT_SORTS = ['created_at', 'updated_at', 'name', 'start_date'] as const;

export const SPRINT_STATUSES = ['planned', 'active', 'completed'] as const;

const Tally = (description: string) =>
  Nullable(
    Type.Object(
      {
        tasks: Type.Integer({ description: 'Tasks' }),
        estimated_minutes: Type.Integer({ description: 'Their estimates summed (tasks without one count 0)' }),
      },
      { additionalProperties: false },
    ),
    { description },
  );

export const SprintSchema = Type.Object(
  {
    id: Id('spr'),
    workspace_id: Id('ws'),
    project_id: Id('proj'),
    name: Type.String({ description: 'Unique in the project, whatever its case' }),
    goal: Type.String(),
    start_date: Nullable(DateOnly, { description: 'Planned first day' }),
    end_date: Nullable(DateOnly, { description: 'Planned last day' }),
    status: StringEnum(SPRINT_STATUSES, { description: 'planned, then active (at most one per project), then completed' }),
    started_at: NullableTimestamp,
    ended_at: NullableTimestamp,
    committed: Tally('The tasks in the sprint when it started (null until then)'),
    completed: Tally("The sprint's tasks that were finished (in the project's last workflow status) when it ended (null until then)"),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Goal = Type.String({ maxLength: 10_000 });
const Day = Nullable(DateOnly);

export const CreateSprintBody = Type.Object(
  { name: Name, goal: Type.Optional(Goal), start_date: Type.Optional(Day), end_date: Type.Optional(Day) },
  { additionalProperties: false },
);
export type CreateSprintInput = Static<typeof CreateSprintBody>;

export const UpdateSprintBody = Type.Object(
  { name: Type.Optional(Name), goal: Type.Optional(Goal), start_date: Type.Optional(Day), end_date: Type.Optional(Day) },
  { additionalProperties: false },
);
export type UpdateSprintInput = Static<typeof UpdateSprintBody>;

export const EndSprintBody = Type.Object(
  {
    move_to: Type.Optional(
      Type.String({ maxLength: 64, description: 'Where the unfinished tasks go: `backlog` (the default) or the id of another of the project\'s sprints that has not started' }),
    ),
  },
  { additionalProperties: false },
);
export type EndSprintInput = Static<typeof EndSprintBody>;

const Average = Type.Object(
  {
    tasks: Type.Number({ description: 'Completed tasks summed over the sprints, divided by their number, to two decimals' }),
    estimated_minutes: Type.Number({ description: 'Completed estimated minutes summed over the sprints, divided by their number, to two decimals' }),
  },
  { additionalProperties: false },
);

export const VelocitySchema = Type.Object(
  {
    sprints: Type.Array(
      Type.Object(
        {
          id: Id('spr'),
          name: Type.String(),
          started_at: Timestamp,
          ended_at: Timestamp,
          committed: Tally('What the sprint held when it started'),
          completed: Tally('What of it was finished when it ended'),
        },
        { additionalProperties: false },
      ),
      { description: 'The last completed sprints, oldest first' },
    ),
    average_completed: Nullable(Average, { description: 'null when no sprint has been completed' }),
  },
  { additionalProperties: false },
);

export const VelocityQuery = Type.Object({
  sprints: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'How many of the last completed sprints (default 5)' })),
});
export type VelocityInput = Static<typeof VelocityQuery>;

export const ListSprintsQuery = Type.Object({
  ...ListQuery(SPRINT_SORTS),
  status: Type.Optional(CsvOf(SPRINT_STATUSES, { maxLength: 100, description: 'planned, active or completed; several separated by commas' })),
});
export type ListSprintsInput = Static<typeof ListSprintsQuery>;

const Counts = (description: string) =>
  Type.Object(
    {
      tasks: Type.Integer({ description: 'Tasks' }),
      estimated_minutes: Type.Integer({ description: 'Their estimates summed (tasks without one count 0)' }),
    },
    { additionalProperties: false, description },
  );

const ScopeChange = (description: string) =>
  Type.Object(
    {
      tasks: Type.Integer({ description: 'Distinct tasks' }),
      estimated_minutes: Type.Integer({ description: 'Their estimates when they joined (or left) the sprint, summed' }),
      task_ids: Type.Array(Id('task'), { description: 'The tasks, in the order they joined (or left)' }),
    },
    { additionalProperties: false, description },
  );

const Ideal = Type.Object(
  {
    tasks: Type.Number({ description: 'committed.tasks × (planned days − days so far) ÷ planned days, to two decimals' }),
    estimated_minutes: Type.Number({ description: 'committed.estimated_minutes × (planned days − days so far) ÷ planned days, to two decimals' }),
  },
  {
    additionalProperties: false,
    description:
      'The straight line from the commitment at the sprint\'s start to 0 at the end of its planned last day (end_date, or the last day shown if it has none); "days so far" counts this day',
  },
);

export const SprintReportSchema = Type.Object(
  {
    sprint: SprintSchema,
    time_zone: Type.String({ description: 'The IANA zone whose days the burndown counts' }),
    committed: Counts('The tasks in the sprint when it started'),
    completed: Counts("The sprint's finished tasks (in the project's last workflow status) when it ended, or now while it runs"),
    remaining: Counts('Its unfinished tasks when it ended (before they moved on), or now while it runs'),
    scope_added: ScopeChange('Tasks that joined the sprint after it started (and before it ended)'),
    scope_removed: ScopeChange('Tasks that left the sprint, or were deleted, after it started and before it ended; the unfinished tasks moved on by its end are in `remaining`'),
    burndown: Type.Array(
      Type.Object(
        {
          date: DateOnly,
          scope: Nullable(Counts('In the sprint'), { description: 'At the end of the day (or now, today; or when the sprint ended, on its last day); null for a day still to come' }),
          completed: Nullable(Counts('In the sprint and finished'), { description: 'As `scope`, of the finished tasks' }),
          remaining: Nullable(Counts('In the sprint and unfinished'), { description: 'scope − completed' }),
          ideal_remaining: Ideal,
        },
        { additionalProperties: false },
      ),
      { description: 'A day each, from the day the sprint started to the day it ended (while it runs: to today, or to end_date if that is later); at most the last 366' },
    ),
  },
  { additionalProperties: false },
);

export const SprintReportQuery = Type.Object({
  tz: Type.Optional(Type.String({ maxLength: 64, description: "The IANA time zone whose days the burndown counts (default: the workspace's)" })),
});
export type SprintReportInput = Static<typeof SprintReportQuery>;
