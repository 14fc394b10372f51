import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { ParallelReads } from '../../db/parallel-reads.ts';
import { ReportEntriesBuilder, type LabelledTasks, type ReportEntries } from './aggregate.ts';

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

export function reportRepository(db: Db) {
  return {
    /**
     * The finished entries that overlap [from, to) (epoch seconds), from the covering index on
     * (project_id, started_at): entries last at most 24 hours (a check on the table), which bounds
     * the scan from below. Running timers count once they stop. `withIds` reads entry ids too.
     * With `parallel`, spans of start times may be read at once on sessions of their own, in one
     * snapshot (for PostgreSQL, whose sessions run on several cores).
     */
    async entries(scope: ReportScope, from: number, to: number, o: { withIds?: boolean; parallel?: ParallelReads } = {}): Promise<ReportEntries> {
      const withIds = o.withIds ?? false;
      if (scope.userIds?.length === 0) return new ReportEntriesBuilder(0).build();
      // A row per user, its entries in one text value "[id,]task,billable,start,end;…": 12,000
      // rows of six columns took 35–70 ms to decode here, the same entries as one string 22–30 ms,
      // and as a string per user without the user's id and entry ids repeated, 15–25 ms (task and
      // user ids never hold ',' or ';'). date_part gives the epoch as a float8, exact for the whole
      // seconds that the table holds (a check), at half the cost of extract's numeric.
      const span = (on: Db, startsFrom: number, startsBefore: number) => {
        let q = on
          .selectFrom('time_entries as e')
          .select([
            'e.user_id',
            sql<number>`count(*)::int4`.as('n'),
            sql<string>`string_agg(${withIds ? sql`e.id || ',' || ` : sql``}e.task_id || case when e.billable then ',1,' else ',0,' end
              || date_part('epoch', e.started_at)::int8 || ',' || date_part('epoch', e.ended_at)::int8, ';')`.as('list'),
          ])
          .where('e.project_id', '=', scope.projectId)
          .where('e.started_at', '>=', sql<Date>`to_timestamp(${startsFrom})`)
          .where('e.started_at', '<', sql<Date>`to_timestamp(${startsBefore})`)
          .where('e.ended_at', '>', sql<Date>`to_timestamp(${from})`)
          .groupBy('e.user_id');
        if (scope.userIds) q = q.where('e.user_id', 'in', scope.userIds);
        if (scope.billable !== undefined) q = q.where('e.billable', '=', scope.billable);
        return q.execute();
      };
      // Whole seconds: an entry that starts 24 hours before `from` or earlier has ended by then.
      const first = from - 86_400 + 1;
      const spans = (parts: number) =>
        Array.from({ length: parts }, (_, i) => {
          const lo = first + Math.floor(((to - first) * i) / parts);
          const hi = i === parts - 1 ? to : first + Math.floor(((to - first) * (i + 1)) / parts);
          return (on: Db) => span(on, lo, hi);
        });
      const results = o.parallel ? await o.parallel.run(db, spans) : [await span(db, first, to)];
      const out = new ReportEntriesBuilder(
        results.reduce((n, rows) => rows.reduce((m, row) => m + row.n, n), 0),
        withIds,
      );
      for (const rows of results) for (const row of rows) parseEntries(out, out.user(row.user_id), row.list, withIds);
      return out.build();
    },

    /** The instants (epoch seconds) of the midnights in `tz` from `start` to the day after `end`. */
    async midnights(tz: string, start: string, end: string): Promise<number[]> {
      const { rows } = await sql<{ t: number }>`
        select extract(epoch from (d::date::timestamp at time zone ${tz}))::float8 as t
        from generate_series(${start}::date, ${end}::date + 1, interval '1 day') as d order by d`.execute(db);
      return rows.map((r) => r.t);
    },

    /**
     * The project's labels, each with the ids of its tasks, for reports by label: a row per label
     * rather than a row (or a JSON object) per task, which is less to send and to read.
     */
    async labels(projectId: string): Promise<Map<string, LabelledTasks>> {
      // Both aggregates read the rows in the same order.
      const { rows } = await sql<{ label: string; ids: string; positions: string }>`
        select label, string_agg(t.id, ',') as ids, string_agg(l.k::text, ',') as positions
        from tasks t cross join unnest(t.labels) with ordinality as l(label, k)
        where t.project_id = ${projectId} and t.labels <> '{}' group by label`.execute(db);
      return new Map(rows.map((row) => [row.label, { ids: row.ids.split(','), positions: row.positions.split(',').map(Number) }]));
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

/**
 * Reads one user's "[id,]task,billable,start,end;…" list (see entries()) into the columns, the
 * numbers digit by digit: splitting the text into arrays of strings and converting those was most
 * of a report's own CPU time.
 */
function parseEntries(out: ReportEntriesBuilder, user: number, list: string, withIds: boolean): void {
  const text = new Cursor(list);
  while (text.i < list.length) {
    const id = withIds ? text.until(',') : undefined;
    const task = out.task(text.until(','));
    const billable = text.until(',') === '1';
    const s = text.int();
    const e = text.int();
    out.add(user, task, billable, s, e, id);
  }
}

class Cursor {
  i = 0;
  constructor(private readonly text: string) {}

  /** The text up to the next `stop` (or the end), and past it. */
  until(stop: string): string {
    let at = this.text.indexOf(stop, this.i);
    if (at < 0) at = this.text.length;
    const part = this.text.slice(this.i, at);
    this.i = at + 1;
    return part;
  }

  /** An integer (an optional '-' and digits), and past the one character after it. */
  int(): number {
    const text = this.text;
    let i = this.i;
    const negative = text.charCodeAt(i) === 45; // '-'
    if (negative) i++;
    let n = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) n = n * 10 + (c - 48);
    this.i = i + 1;
    return negative ? -n : n;
  }
}
