import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.ts';

/** What a report covers: a project's finished entries, clipped to local days `start`–`end` in `tz`. */
export interface ReportScope {
  projectId: string;
  tz: string;
  /** Local dates, both included. */
  start: string;
  end: string;
  /** Only these users' entries (undefined: everyone's). */
  userIds?: string[];
  billable?: boolean;
}

/** The groupings a report can ask for; `total` is the one group of everything. */
export type Dimension = 'total' | 'user' | 'task' | 'day' | 'week' | 'month' | 'billable' | 'label';

export interface GroupRow {
  dim: Dimension;
  /** The group: a user or task id, a date (day; Monday of the week; first of the month), 'true'/'false', a label (null: none). */
  key: string | null;
  seconds: number;
  /** Entries with time in the group (an entry split at midnight counts in both days). */
  entries: number;
  /** Distinct tasks with time in the group. */
  tasks: number;
}

/**
 * The report's raw material as SQL: `clipped`, each entry that overlaps the period cut to it, and
 * `pieces`, those cut again at every midnight of the time zone, with whole `seconds` (entries are
 * kept to the second, and midnights fall on whole seconds in every zone). Running timers are not
 * counted until they stop. Entries last at most 24 hours (a check on the table), which bounds the
 * scan of the (project_id, started_at) index.
 */
function piecesCte(s: ReportScope): RawBuilder<unknown> {
  const from = sql`(${s.start}::date::timestamp at time zone ${s.tz})`;
  const to = sql`((${s.end}::date + 1)::timestamp at time zone ${s.tz})`;
  const users = s.userIds ? sql`and e.user_id in (${sql.join(s.userIds)})` : sql``;
  const billable = s.billable === undefined ? sql`` : sql`and e.billable = ${s.billable}`;
  return sql`
    clipped as (
      select e.id, e.user_id, e.task_id, e.billable, e.started_at, e.ended_at,
        greatest(e.started_at, ${from}) as s, least(e.ended_at, ${to}) as en
      from time_entries e
      where e.project_id = ${s.projectId} and e.ended_at is not null
        and e.started_at < ${to} and e.started_at > ${from} - interval '24 hours' and e.ended_at > ${from}
        ${users} ${billable}
    ),
    pieces as materialized (
      select c.id, c.user_id, c.task_id, c.billable, c.started_at, c.ended_at, c.s, d.day::date as day,
        extract(epoch from
          least(c.en, (d.day::date + 1)::timestamp at time zone ${s.tz})
          - greatest(c.s, d.day::date::timestamp at time zone ${s.tz}))::bigint as seconds
      from clipped c
      cross join lateral generate_series(
        (c.s at time zone ${s.tz})::date, ((c.en - interval '1 second') at time zone ${s.tz})::date, interval '1 day') as d(day)
      where c.en > c.s
    )`;
}

const GROUP_KEY: Record<Exclude<Dimension, 'label' | 'total'>, RawBuilder<unknown>> = {
  user: sql`p.user_id`,
  task: sql`p.task_id`,
  day: sql`p.day::text`,
  // Dates only: no time zone comes into it (date_trunc would go through timestamptz).
  week: sql`(p.day - (extract(isodow from p.day)::int - 1))::text`,
  month: sql`to_char(p.day, 'YYYY-MM-01')`,
  billable: sql`p.billable::text`,
};

function groupQuery(dim: Dimension): RawBuilder<unknown> {
  const figures = sql`sum(p.seconds)::float8 as seconds, count(distinct p.id)::int as entries, count(distinct p.task_id)::int as tasks`;
  if (dim === 'total') return sql`select 'total' as dim, null::text as key, coalesce(sum(p.seconds), 0)::float8 as seconds, count(distinct p.id)::int as entries, count(distinct p.task_id)::int as tasks from pieces p`;
  if (dim === 'label') {
    // A piece on a task with n labels gives each label its n-th share, in whole seconds: the first
    // (seconds mod n) labels get one second more, so that the shares add up to the piece exactly.
    return sql`
      select 'label' as dim, l.label as key,
        sum(p.seconds / greatest(cardinality(t.labels), 1) + case when l.i <= p.seconds % greatest(cardinality(t.labels), 1) then 1 else 0 end)::float8 as seconds,
        count(distinct p.id)::int as entries, count(distinct p.task_id)::int as tasks
      from pieces p
      join tasks t on t.id = p.task_id
      cross join lateral unnest(case when cardinality(t.labels) = 0 then array[null::text] else t.labels end) with ordinality as l(label, i)
      group by l.label`;
  }
  return sql`select ${sql.lit(dim)} as dim, ${GROUP_KEY[dim]} as key, ${figures} from pieces p group by 2`;
}

export function reportRepository(db: Db) {
  return {
    /** The period's totals by each of the dimensions asked for, in one statement. */
    async groups(scope: ReportScope, dims: Dimension[]): Promise<GroupRow[]> {
      if (scope.userIds?.length === 0 || dims.length === 0) return [];
      const selects = sql.join(dims.map((d) => sql`(${groupQuery(d)})`), sql` union all `);
      const { rows } = await sql<GroupRow>`with ${piecesCte(scope)} ${selects}`.execute(db);
      return rows;
    },

    /**
     * Per user: clipped seconds, focus seconds (of entries lasting at least `focusSeconds` in
     * all), sessions (entries) and context switches (consecutive entries of one local day, by
     * start, on different tasks).
     */
    async productivity(scope: ReportScope, focusSeconds: number) {
      if (scope.userIds?.length === 0) return [];
      const { rows } = await sql<{ user_id: string; seconds: number; focus_seconds: number; sessions: number; switches: number }>`
        with ${piecesCte(scope)},
        per_user as (
          select p.user_id, sum(p.seconds)::float8 as seconds,
            coalesce(sum(p.seconds) filter (where p.ended_at - p.started_at >= make_interval(secs => ${focusSeconds})), 0)::float8 as focus_seconds,
            count(distinct p.id)::int as sessions
          from pieces p group by p.user_id
        ),
        ordered as (
          select c.user_id, c.task_id,
            lag(c.task_id) over (partition by c.user_id, (c.s at time zone ${scope.tz})::date order by c.s, c.id) as previous
          from clipped c where c.en > c.s
        ),
        switches as (
          select o.user_id, count(*) filter (where o.previous is not null and o.previous <> o.task_id)::int as switches
          from ordered o group by o.user_id
        )
        select u.user_id, u.seconds, u.focus_seconds, u.sessions, coalesce(s.switches, 0) as switches
        from per_user u left join switches s on s.user_id = u.user_id`.execute(db);
      return rows;
    },

    /** Today's date in `tz` at `now`; throws the database's error for a zone it does not know. */
    async today(tz: string, now: Date): Promise<string> {
      const { rows } = await sql<{ today: string }>`select ((${now}::timestamptz at time zone ${tz})::date)::text as today`.execute(db);
      return rows[0]!.today;
    },

    /** The instants of the period's first midnight and of the midnight after its last day. */
    async bounds(tz: string, start: string, end: string): Promise<{ from: Date; to: Date }> {
      const { rows } = await sql<{ from: Date; to: Date }>`
        select (${start}::date::timestamp at time zone ${tz}) as "from", ((${end}::date + 1)::timestamp at time zone ${tz}) as "to"`.execute(db);
      return rows[0]!;
    },

    async users(ids: string[]) {
      if (ids.length === 0) return [];
      return db.selectFrom('users').select(['id', 'username', 'name']).where('id', 'in', ids).execute();
    },

    async tasks(ids: string[]) {
      if (ids.length === 0) return [];
      return db.selectFrom('tasks').select(['id', 'uuid', 'number', 'title']).where('id', 'in', ids).execute();
    },

    /** User ids for `users=` values: ids (`user_…`) or usernames (case-insensitive). */
    async resolveUsers(values: string[]): Promise<string[]> {
      const ids = values.filter((v) => v.startsWith('user_'));
      const names = values.filter((v) => !v.startsWith('user_')).map((v) => v.toLowerCase());
      if (names.length === 0) return ids;
      const rows = await db.selectFrom('users').select('id').where(sql<string>`lower(username)`, 'in', names).execute();
      return [...new Set([...ids, ...rows.map((r) => r.id)])];
    },

    /** The workspace's members, for team reports that show who tracked nothing too. */
    async members(workspaceId: string) {
      return db
        .selectFrom('memberships as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.username', 'u.name'])
        .where('m.workspace_id', '=', workspaceId)
        .execute();
    },
  };
}
