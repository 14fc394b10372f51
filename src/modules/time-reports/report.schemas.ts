import { Type, type Static } from 'typebox';
import { CsvOf, DateOnly, Id, Nullable, PageQuery, StringEnum } from '../../http/schemas.ts';
import { Slugs } from '../time-entries/time-entry.schemas.ts';
import { MAX_REPORT_DAYS, PERIODS } from './period.ts';
import { FOCUS_MINUTES, GROUP_BY } from './report.service.ts';

export const ReportFilters = {
  ...Slugs,
  period: Type.Optional(
    StringEnum(PERIODS, {
      description: `A preset range of local days in \`tz\`: today, yesterday, the last 7, 14 or 30 days up to and including today, this calendar month (all of it), the last one. Default last-30-days, unless start/end are given (not together with period).`,
    }),
  ),
  start: Type.Optional(Type.Unsafe<string>({ ...DateOnly, description: `First local day of the range (in \`tz\`), YYYY-MM-DD; at most ${MAX_REPORT_DAYS} days to end` })),
  end: Type.Optional(Type.Unsafe<string>({ ...DateOnly, description: 'Last local day of the range, included (default today, or start if later)' })),
  users: Type.Optional(CsvOf({ item: '[^,\\s](?:[^,]*[^,\\s])?' }, { maxLength: 4000, nonEmpty: true, description: 'Only these users: comma-separated user ids (user_…) or usernames' })),
  billable: Type.Optional(StringEnum(['true', 'false'], { description: 'Only billable (true) or non-billable (false) entries' })),
  tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone whose midnights split the entries into days (default the workspace's time_zone)" })),
};

export const ReportQuerySchema = Type.Object(ReportFilters);
export const GroupedReportQuery = Type.Object({
  ...ReportFilters,
  group_by: Type.Optional(StringEnum(GROUP_BY, { description: 'How to group the time (default user). label: an entry on a task with n labels gives each label 1/n of its seconds (whole seconds, apportioned so that they add up); unlabelled tasks are under key null' })),
});
export type GroupedReportInput = Static<typeof GroupedReportQuery>;

export const TimelineQuery = Type.Object({
  ...ReportFilters,
  page: PageQuery.page,
  per_page: PageQuery.per_page,
  limit: PageQuery.limit,
});

const Seconds = (description: string) => Type.Integer({ minimum: 0, description });
const Hours = (description: string) => Type.Number({ minimum: 0, description: `${description}, in hours rounded to 2 decimals (exact in the *_seconds figure)` });

export const PeriodSchema = Type.Object(
  {
    start: Type.Unsafe<string>({ ...DateOnly, description: 'First local day' }),
    end: Type.Unsafe<string>({ ...DateOnly, description: 'Last local day, included' }),
    days: Type.Integer({ description: 'Days from start to end, both included' }),
    tz: Type.String({ description: 'The time zone the days are in' }),
    starts_at: Type.String({ format: 'date-time', description: 'The instant of the first midnight' }),
    ends_at: Type.String({ format: 'date-time', description: 'The instant of the midnight after the last day (excluded): the range is [starts_at, ends_at)' }),
  },
  { additionalProperties: false },
);

const COUNTING =
  'Every figure counts finished entries of the project (running timers count once stopped), each cut to the period and at every midnight of tz, in whole seconds; totals are sums of those pieces, so every grouping adds up to the total exactly.';

export const AnalyticsSchema = Type.Object(
  {
    total_hours: Hours('Tracked time in the period'),
    average_daily_hours: Hours('total_seconds ÷ the days of the period up to and including today (all of them for a past period; at least 1)'),
    top_contributors: Type.Array(
      Type.Object(
        { username: Type.String(), name: Type.String(), total_hours: Hours('Their time'), total_seconds: Seconds('Their time'), tasks_tracked: Type.Integer({ description: 'Distinct tasks they tracked time on' }) },
        { additionalProperties: false },
      ),
      { description: 'The 5 users with the most time, most first' },
    ),
    by_task_type: Type.Array(
      Type.Object(
        { type: Nullable(Type.String(), { description: 'A label (tasks are typed by their labels); null: tasks without labels' }), total_hours: Hours('Its time'), total_seconds: Seconds('Its time: an entry on a task with n labels gives each 1/n, apportioned in whole seconds'), tasks_tracked: Type.Integer() },
        { additionalProperties: false },
      ),
      { description: 'Time by label, most first; adds up to total_seconds' },
    ),
    trend: Type.Array(
      Type.Object({ date: Type.Unsafe<string>({ ...DateOnly }), total_hours: Hours("The day's time"), total_seconds: Seconds("The day's time") }, { additionalProperties: false }),
      { description: 'Every day of the period, oldest first (days without time: 0)' },
    ),
    total_seconds: Seconds('Tracked time in the period'),
    entries: Type.Integer({ description: 'Entries with time in the period' }),
    period: PeriodSchema,
  },
  { additionalProperties: false, description: COUNTING },
);

export const TeamSchema = Type.Object(
  {
    team_members: Type.Array(
      Type.Object(
        {
          username: Type.String(),
          name: Type.String(),
          total_hours: Hours('Their time'),
          total_seconds: Seconds('Their time'),
          tasks_tracked: Type.Integer({ description: 'Distinct tasks they tracked time on' }),
          entries: Type.Integer({ description: 'Their entries with time in the period' }),
        },
        { additionalProperties: false },
      ),
      { description: "The workspace's members (with users=, those named), and anyone else with time in the period; most time first" },
    ),
    total_hours: Hours('Everyone’s time'),
    total_seconds: Seconds('Everyone’s time'),
    period: PeriodSchema,
  },
  { additionalProperties: false, description: COUNTING },
);

export const ReportGroupSchema = Type.Object(
  {
    key: Nullable(Type.String(), { description: 'user: username; task: uuid; day: YYYY-MM-DD; week: ISO week (2026-W03); month: YYYY-MM; label: the label (null: none); billable: "true" or "false"' }),
    name: Type.String({ description: "What to show: the user's name, the task's title, the date, the label…" }),
    hours: Hours("The group's time"),
    seconds: Seconds("The group's time"),
    entries: Type.Integer({ description: 'Entries with time in the group' }),
    tasks: Type.Integer({ description: 'Distinct tasks with time in the group' }),
    start_date: Type.Optional(Type.Unsafe<string>({ ...DateOnly, description: "day, week, month: the group's first day within the period" })),
    end_date: Type.Optional(Type.Unsafe<string>({ ...DateOnly, description: "day, week, month: the group's last day within the period" })),
    user: Type.Optional(Type.Object({ id: Id('user'), username: Type.String(), name: Type.String() }, { additionalProperties: false })),
    task: Type.Optional(Type.Object({ id: Id('task'), uuid: Type.String(), number: Type.Integer(), title: Type.String() }, { additionalProperties: false })),
    billable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ReportSchema = Type.Object(
  {
    group_by: StringEnum(GROUP_BY),
    total_hours: Hours('Tracked time in the period'),
    total_seconds: Seconds('Tracked time in the period; the groups’ seconds add up to it'),
    entries: Type.Integer({ description: 'Entries with time in the period' }),
    groups: Type.Array(ReportGroupSchema, { description: 'day, week, month: every one of the period, in order; otherwise groups with time, most first' }),
    period: PeriodSchema,
  },
  { additionalProperties: false, description: `${COUNTING} With Accept: text/csv, the groups as CSV (key,name,seconds,hours,entries,tasks).` },
);

const productivityFigures = {
  total_hours: Hours('Tracked time'),
  total_seconds: Seconds('Tracked time'),
  focus_hours: Hours('Focus time'),
  focus_seconds: Seconds(`Focus time: the time of entries lasting at least ${FOCUS_MINUTES} minutes in all (the part within the period)`),
  sessions: Type.Integer({ description: 'Entries with time in the period' }),
  average_session_minutes: Type.Number({ description: 'total_seconds ÷ sessions ÷ 60, to one decimal (0 without sessions)' }),
  context_switches: Type.Integer({ description: "Per user and local day, entries in order of start: each entry on another task than the one before it that day counts 1" }),
  efficiency_score: Nullable(Type.Integer({ minimum: 0, maximum: 100 }), { description: 'round(100 × focus_seconds ÷ total_seconds); null without time' }),
};

export const ProductivitySchema = Type.Object(
  {
    ...productivityFigures,
    focus_threshold_minutes: Type.Integer({ description: 'How long an entry lasts, at least, to count as focus time' }),
    by_user: Type.Array(Type.Object({ username: Type.String(), name: Type.String(), ...productivityFigures }, { additionalProperties: false }), { description: 'Users with time in the period, most time first' }),
    period: PeriodSchema,
  },
  { additionalProperties: false, description: COUNTING },
);
