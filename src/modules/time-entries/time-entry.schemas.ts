import { Type, type Static } from 'typebox';
import { INSTANT_PATTERN } from '../../lib/time.ts';
import { DateOnly, DateOrDateTime, Id, ListQuery, Nullable, PathId, StringEnum, Timestamp } from '../../http/schemas.ts';

/** The fields the list can be sorted by. */
export const ENTRY_SORTS = ['started_at', 'ended_at', 'created_at', 'updated_at'] as const;

/** A date-time that carries its offset or Z: times without one are refused. */
export const Instant = Type.String({
  maxLength: 40,
  pattern: INSTANT_PATTERN,
  description: 'RFC 3339 date-time with an offset or Z (kept to the second: fractions are dropped)',
});

const EntryId = Type.Integer({ description: 'Time entry id' });
const Description = Type.String({ maxLength: 10_000 });
const Minutes = Type.Integer({ minimum: 1, maximum: 1440, description: 'Whole minutes, 1 to 1440 (24 hours)' });
const BoolText = StringEnum(['true', 'false']);

export const TimeEntrySchema = Type.Object(
  {
    id: EntryId,
    task_id: Id('task'),
    task_uuid: Type.String({ format: 'uuid' }),
    project_id: Id('proj'),
    workspace_id: Id('ws'),
    user_id: Id('user'),
    user: Type.Object({ id: Id('user'), username: Type.String(), name: Type.String() }, { additionalProperties: false }),
    started_at: Timestamp,
    ended_at: Nullable(Timestamp, { description: 'Null while the timer runs; the interval is [started_at, ended_at)' }),
    running: Type.Boolean(),
    duration_seconds: Nullable(Type.Integer(), { description: 'ended_at − started_at in whole seconds; null while running' }),
    duration_minutes: Nullable(Type.Integer(), { description: 'duration_seconds / 60, rounded to the nearest minute (half up); null while running' }),
    description: Type.String(),
    billable: Type.Boolean(),
    is_manual: Type.Boolean(),
    auto_stopped: Type.Boolean({ description: "Stopped by the server at the workspace's max_timer_minutes" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CreateTimeEntryBody = Type.Object(
  {
    task_id: Type.String({ maxLength: 64 }),
    duration_minutes: Type.Optional(Minutes),
    date: Type.Optional(Type.Unsafe<string>({ ...DateOnly, description: "With duration_minutes: the day worked, in the workspace's time zone (default today); the entry starts at its midnight" })),
    started_at: Type.Optional(Instant),
    ended_at: Type.Optional(Instant),
    description: Type.Optional(Description),
    billable: Type.Optional(Type.Boolean({ description: 'Default true' })),
  },
  { additionalProperties: false, description: 'Either started_at and ended_at, or duration_minutes (with started_at or date, or neither: today)' },
);
export type CreateTimeEntryInput = Static<typeof CreateTimeEntryBody>;

export const UpdateTimeEntryBody = Type.Object(
  {
    started_at: Type.Optional(Instant),
    ended_at: Type.Optional(Instant),
    duration_minutes: Type.Optional(Minutes),
    description: Type.Optional(Description),
    billable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateTimeEntryInput = Static<typeof UpdateTimeEntryBody>;

const EntryFilters = {
  user: Type.Optional(Type.String({ maxLength: 64, description: 'User id' })),
  billable: Type.Optional(BoolText),
  running: Type.Optional(BoolText),
  from: Type.Optional(DateOrDateTime),
  to: Type.Optional(DateOrDateTime),
};

export const ListTimeEntriesQuery = Type.Object({
  ...ListQuery(ENTRY_SORTS),
  ...EntryFilters,
  project: Type.Optional(Type.String({ maxLength: 64, description: 'Project id' })),
  task: Type.Optional(Type.String({ maxLength: 64, description: 'Task id' })),
});
export type ListTimeEntriesInput = Static<typeof ListTimeEntriesQuery>;

export const TaskTimeEntriesQuery = Type.Object({ ...ListQuery(ENTRY_SORTS), ...EntryFilters });
export type TaskTimeEntriesInput = Static<typeof TaskTimeEntriesQuery>;

/** Entries have numeric ids; like every path id, a malformed one simply names nothing (404). */
export const EntryPathId = PathId;

// The GitScrum-style surface (spec/time-tracking.txt).

export const Slugs = {
  company_slug: Type.String({ minLength: 1, maxLength: 63, description: "The workspace's slug" }),
  project_slug: Type.String({ minLength: 1, maxLength: 63, description: "The project's slug" }),
};

export const TrackingSchema = Type.Object(
  {
    id: EntryId,
    task_uuid: Type.String({ format: 'uuid' }),
    user: Type.Object({ username: Type.String(), name: Type.String() }, { additionalProperties: false }),
    started_at: Timestamp,
    ended_at: Nullable(Timestamp),
    duration_minutes: Nullable(Type.Integer(), { description: '(ended_at − started_at) in minutes, rounded to the nearest (half up); null while running' }),
    description: Type.String(),
    is_manual: Type.Boolean(),
    created_at: Timestamp,
  },
  { additionalProperties: false },
);

export const TrackingScopeQuery = Type.Object(Slugs);
export type TrackingScopeInput = Static<typeof TrackingScopeQuery>;

export const ListTrackingsQuery = Type.Object({ ...Slugs, ...ListQuery(ENTRY_SORTS), ...EntryFilters });
export type ListTrackingsInput = Static<typeof ListTrackingsQuery>;

export const StartTrackingBody = Type.Object(
  {
    ...Slugs,
    task_uuid: Type.String({ maxLength: 64 }),
    started_at: Type.Optional(Instant),
    ended_at: Type.Optional(Instant),
    description: Type.Optional(Description),
  },
  { additionalProperties: false, description: 'Without started_at and ended_at: starts a timer. With both: a manual entry.' },
);
export type StartTrackingInput = Static<typeof StartTrackingBody>;

export const StopTrackingBody = Type.Object(Slugs, { additionalProperties: false });
