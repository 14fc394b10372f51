import { sql, type Insertable, type QueryCreator, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DB, EventsTable, TimeEntriesTable } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/listing.ts';
import type { EntryRow } from './time-entry.presenter.ts';

export type EntrySortColumn = 'started_at' | 'ended_at' | 'created_at' | 'updated_at';

export interface EntryFilter {
  workspaceIds: string[];
  /** A project key's project, or the project asked for. */
  projectId?: string;
  taskId?: string;
  userId?: string;
  /** Entries of any of these users. */
  userIds?: string[];
  billable?: boolean;
  running?: boolean;
  /** Entries that overlap [from, to). */
  from?: Date;
  to?: Date;
}

/** A time entry id as the API shows it: a positive integer (in a path, its decimal text). */
export function looksLikeEntryId(id: string | number): boolean {
  const text = String(id);
  return /^[1-9][0-9]{0,15}$/.test(text);
}

const EVENT_COLUMNS = ['id', 'workspace_id', 'project_id', 'type', 'resource_type', 'resource_id', 'actor_user_id', 'actor_key_id', 'data', 'changes'] as const;

/** An event row as a select from the statement's `x` (one row when the entry was written, none otherwise). */
function eventSelect(d: QueryCreator<DB & { x: { id: string } }>, e: Insertable<EventsTable>) {
  return d
    .selectFrom('x')
    .select([
      sql<string>`${e.id}::text`.as('id'),
      sql<string>`${e.workspace_id}::text`.as('workspace_id'),
      sql<string | null>`${e.project_id ?? null}::text`.as('project_id'),
      sql<string>`${e.type}::text`.as('type'),
      sql<string>`${e.resource_type}::text`.as('resource_type'),
      sql<string>`${e.resource_id}::text`.as('resource_id'),
      sql<string | null>`${e.actor_user_id ?? null}::text`.as('actor_user_id'),
      sql<string | null>`${e.actor_key_id ?? null}::text`.as('actor_key_id'),
      sql<string>`${e.data}::jsonb`.as('data'),
      sql<string | null>`${e.changes ?? null}::jsonb`.as('changes'),
    ]);
}

/** The row a statement's `x` wrote, with its task's uuid and its user's names. */
function withNamesOf<Q extends SelectQueryBuilder<DB & { x: Selectable<TimeEntriesTable> }, 'x', object>>(q: Q) {
  return q
    .innerJoin('tasks as t', 't.id', 'x.task_id')
    .innerJoin('users as u', 'u.id', 'x.user_id')
    .selectAll('x')
    .select(['t.uuid as task_uuid', 'u.username as username', 'u.name as user_name']);
}

export function timeEntryRepository(db: Db) {
  /** The entries a filter selects, before anything is selected from them. */
  function scoped(f: EntryFilter) {
    let q = db.selectFrom('time_entries as e').where('e.workspace_id', 'in', f.workspaceIds);
    if (f.projectId !== undefined) q = q.where('e.project_id', '=', f.projectId);
    if (f.taskId !== undefined) q = q.where('e.task_id', '=', f.taskId);
    if (f.userId !== undefined) q = q.where('e.user_id', '=', f.userId);
    if (f.userIds !== undefined) q = f.userIds.length ? q.where('e.user_id', 'in', f.userIds) : q.where(sql<boolean>`false`);
    if (f.billable !== undefined) q = q.where('e.billable', '=', f.billable);
    if (f.running === true) q = q.where('e.ended_at', 'is', null);
    if (f.running === false) q = q.where('e.ended_at', 'is not', null);
    // Half-open intervals: an entry ending exactly at `from` is not in the range.
    if (f.to !== undefined) q = q.where('e.started_at', '<', f.to);
    if (f.from !== undefined) {
      q = q.where((eb) => eb.or([eb('e.ended_at', 'is', null), eb('e.ended_at', '>', f.from!)]));
      // A lower bound for the index: a finished entry lasts at most 24 hours (a check on the
      // table), and a running one started no earlier than the oldest running timer in scope.
      let running = db.selectFrom('time_entries as r').select(sql<Date>`min(r.started_at)`.as('m')).where('r.ended_at', 'is', null).where('r.workspace_id', 'in', f.workspaceIds);
      if (f.projectId !== undefined) running = running.where('r.project_id', '=', f.projectId);
      q = q.where('e.started_at', '>=', sql<Date>`least(${new Date(f.from.getTime() - 86_400_000)}::timestamptz, (${running}))`);
    }
    return q;
  }

  /** Entries with their task's uuid and their user's names. */
  function withNames(q: ReturnType<typeof scoped>) {
    return q
      .innerJoin('tasks as t', 't.id', 'e.task_id')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .selectAll('e')
      .select(['t.uuid as task_uuid', 'u.username as username', 'u.name as user_name']);
  }

  const byId = (workspaceIds: string[], id: string) => withNames(db.selectFrom('time_entries as e').where('e.id', '=', id).where('e.workspace_id', 'in', workspaceIds));

  return {
    async list(f: EntryFilter, sort: SortSpec<EntrySortColumn>, limit: number, offset: number): Promise<{ rows: EntryRow[]; total: number }> {
      if (f.workspaceIds.length === 0) return { rows: [], total: 0 };
      const rows = (await withNames(scoped(f))
        .orderBy(`e.${sort.column}`, sort.direction)
        .orderBy('e.id', sort.direction)
        .limit(limit)
        .offset(offset)
        .execute()) as EntryRow[];
      const counted = await scoped(f)
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow();
      return { rows, total: counted.n };
    },

    /** Only entries of the given workspaces are ever returned; `lock` holds the row for an update. */
    async find(workspaceIds: string[], id: string | number, lock = false): Promise<EntryRow | undefined> {
      if (workspaceIds.length === 0 || !looksLikeEntryId(id)) return undefined;
      const q = byId(workspaceIds, String(id));
      return (await (lock ? q.forUpdate('e') : q).executeTakeFirst()) as EntryRow | undefined;
    },

    /** As find, with the slugs of the entry's workspace and project (the GitScrum surface names them). */
    async findWithSlugs(workspaceIds: string[], id: string | number): Promise<(EntryRow & { workspace_slug: string; project_slug: string; workspace_max_timer_minutes: number }) | undefined> {
      if (workspaceIds.length === 0 || !looksLikeEntryId(id)) return undefined;
      const q = byId(workspaceIds, String(id))
        .innerJoin('projects as pr', 'pr.id', 'e.project_id')
        .innerJoin('workspaces as w', 'w.id', 'e.workspace_id')
        .select(['pr.slug as project_slug', 'w.slug as workspace_slug', 'w.max_timer_minutes as workspace_max_timer_minutes']);
      return (await q.executeTakeFirst()) as (EntryRow & { workspace_slug: string; project_slug: string; workspace_max_timer_minutes: number }) | undefined;
    },

    /** The user's running timer, in whatever workspace it runs. */
    async running(userId: string): Promise<EntryRow | undefined> {
      const q = withNames(db.selectFrom('time_entries as e').where('e.user_id', '=', userId).where('e.ended_at', 'is', null));
      return (await q.executeTakeFirst()) as EntryRow | undefined;
    },

    /**
     * Whether another of the user's entries in the workspace overlaps [start, end) (end null:
     * open-ended), where the workspace refuses overlapping entries (always false where it allows them).
     */
    async overlaps(workspaceId: string, userId: string, start: Date, end: Date | null, exceptId?: string): Promise<boolean> {
      let q = db
        .selectFrom('time_entries')
        .select('id')
        .where(sql<boolean>`not (select w.allow_overlapping_time_entries from workspaces w where w.id = ${workspaceId})`)
        .where('workspace_id', '=', workspaceId)
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', start)]));
      if (end !== null) q = q.where('started_at', '<', end);
      if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
      return (await q.limit(1).executeTakeFirst()) !== undefined;
    },

    /** Inserts an entry and returns it with its names, in one statement. */
    async insert(row: Insertable<TimeEntriesTable>): Promise<EntryRow> {
      return (await withNamesOf(db.with('x', (d) => d.insertInto('time_entries').values(row).returningAll()).selectFrom('x')).executeTakeFirstOrThrow()) as EntryRow;
    },

    /**
     * Inserts a running timer with its event row, in one statement, unless the user has a running
     * timer already (then nothing is written and this returns false). The id was taken from the
     * sequence beforehand (TimeEntryService.taskBySlugs), so that the event can carry the entry.
     */
    async insertTimer(row: Insertable<TimeEntriesTable> & { id: string }, event: Insertable<EventsTable>): Promise<boolean> {
      const inserted = await db
        .with('x', (d) =>
          d
            .insertInto('time_entries')
            .values(row)
            .onConflict((oc) => oc.column('user_id').where('ended_at', 'is', null).doNothing())
            .returning('id'),
        )
        .with('ev', (d) => d.insertInto('events').columns(EVENT_COLUMNS).expression(eventSelect(d, event)))
        .selectFrom('x')
        .select('x.id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /**
     * Stops the timer at `end` and writes its event row, in one statement, if it is still running
     * at `version`; false (nothing written) otherwise.
     */
    async stopWithEvent(id: string, version: number, end: Date, autoStopped: boolean, at: Date, event: Insertable<EventsTable>): Promise<boolean> {
      const stopped = await db
        .with('x', (d) =>
          d
            .updateTable('time_entries')
            .set({ ended_at: end, auto_stopped: autoStopped, updated_at: at, version: sql`version + 1` })
            .where('id', '=', id)
            .where('ended_at', 'is', null)
            .where('version', '=', version)
            .returning('id'),
        )
        .with('ev', (d) => d.insertInto('events').columns(EVENT_COLUMNS).expression(eventSelect(d, event)))
        .selectFrom('x')
        .select('x.id')
        .executeTakeFirst();
      return stopped !== undefined;
    },

    /** Updates an entry and returns it with its names, in one statement. */
    async update(
      id: string,
      changes: { description?: string; billable?: boolean; auto_stopped?: boolean; started_at?: Date; ended_at?: Date | null },
      at: Date,
    ): Promise<EntryRow> {
      const updated = db.with('x', (d) => d.updateTable('time_entries').set({ ...changes, updated_at: at, version: sql`version + 1` }).where('id', '=', id).returningAll());
      return (await withNamesOf(updated.selectFrom('x')).executeTakeFirstOrThrow()) as EntryRow;
    },

    /** Each task's most recent entries (at most `perTask`), newest first, for embedding in tasks. */
    async recentForTasks(taskIds: string[], perTask: number): Promise<Map<string, EntryRow[]>> {
      const out = new Map<string, EntryRow[]>();
      if (taskIds.length === 0) return out;
      const ranked = db
        .selectFrom('time_entries as e')
        .where('e.task_id', 'in', taskIds)
        .select(['e.id', sql<number>`row_number() over (partition by e.task_id order by e.started_at desc, e.id desc)`.as('rank')])
        .as('r');
      const rows = (await withNames(db.selectFrom('time_entries as e').innerJoin(ranked, 'r.id', 'e.id').where('r.rank', '<=', perTask))
        .orderBy('e.started_at', 'desc')
        .orderBy('e.id', 'desc')
        .execute()) as EntryRow[];
      for (const row of rows) {
        const list = out.get(row.task_id);
        if (list) list.push(row);
        else out.set(row.task_id, [row]);
      }
      return out;
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('time_entries').where('id', '=', id).execute();
    },

    /**
     * Stops, at their workspace's limit, up to `limit` timers that have run longer than it by
     * `now`, and returns them as they are now. Rows another transaction holds (a user stopping
     * their timer, another instance doing this) are skipped, and `ended_at is null` is checked
     * again on the locked row, so a timer is stopped once, by whoever gets there first.
     */
    async stopOverdue(now: Date, limit: number): Promise<EntryRow[]> {
      const { rows } = await sql<EntryRow>`
        with due as (
          select e.id, e.started_at + make_interval(mins => w.max_timer_minutes) as stop_at
          from time_entries e join workspaces w on w.id = e.workspace_id
          where e.ended_at is null and e.started_at + make_interval(mins => w.max_timer_minutes) <= ${now}
          order by e.started_at
          limit ${limit}
          for update of e skip locked
        ), stopped as (
          update time_entries e
          set ended_at = due.stop_at, auto_stopped = true, version = e.version + 1, updated_at = ${now}
          from due
          where e.id = due.id and e.ended_at is null
          returning e.*
        )
        select s.*, t.uuid as task_uuid, u.username, u.name as user_name
        from stopped s
        join tasks t on t.id = s.task_id
        join users u on u.id = s.user_id
        order by s.started_at, s.id`.execute(db);
      return rows;
    },
  };
}
