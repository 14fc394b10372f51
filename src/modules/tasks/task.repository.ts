import { sql, type Insertable, type QueryCreator, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { DB, EventsTable, Priority, Task } from '../../db/schema.ts';
import { sprintLogRows, type SprintLogRow } from '../sprints/sprint-log.ts';
import type { SortSpec } from '../../lib/listing.ts';

/** `qc`, with the insert of the sprint log rows (if any) ahead of its statement. */
function withLog(qc: QueryCreator<DB>, rows: SprintLogRow[]): QueryCreator<DB> {
  return rows.length === 0 ? qc : (qc.with('sprint_log', (c) => c.insertInto('sprint_task_log').values(rows)) as unknown as QueryCreator<DB>);
}

/** The fields of a task a patch may set: what update() and updateMany() write. */
export const PATCHABLE_FIELDS = ['title', 'description', 'status', 'priority', 'labels', 'assignee_id', 'due_date', 'estimated_minutes', 'sprint_id', 'parent_id'] as const;
export type TaskChanges = Partial<Pick<Task, (typeof PATCHABLE_FIELDS)[number]>>;

export type TaskSortColumn = 'created_at' | 'updated_at' | 'number' | 'title' | 'priority' | 'status' | 'due_date' | 'rank';

export interface TaskFilter {
  /**
   * Either one project the caller was already shown to see (the database guarantees its tasks
   * are in its workspace), or the workspaces to search, optionally narrowed to a project.
   */
  scope: { project: string; onlyIfIn?: string[] } | { workspaceIds: string[]; projectId?: string };
  statuses?: string[];
  /** null: unassigned only. */
  assignees?: Array<string | null>;
  labels?: string[];
  priorities?: Priority[];
  /** null: in no sprint (the backlog). */
  sprints?: Array<string | null>;
  /** null: only tasks that are not subtasks. */
  parent?: string | null;
  createdAfter?: Date;
  createdBefore?: Date;
  updatedAfter?: Date;
}

// The list query is written with Kysely's `sql` template rather than its query builder: it runs
// on every board view, and building and compiling it took 30 µs with the builder, 6 µs this way.
// Column names come from the fixed set below, never from input.

/** The filter's conditions, joined with `and`. */
function conditions(f: TaskFilter): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [];
  if ('project' in f.scope) parts.push(sql`project_id = ${f.scope.project}`);
  else {
    parts.push(sql`workspace_id in (${sql.join(f.scope.workspaceIds)})`);
    if (f.scope.projectId) parts.push(sql`project_id = ${f.scope.projectId}`);
  }
  if (f.statuses?.length) parts.push(sql`status in (${sql.join(f.statuses)})`);
  if (f.priorities?.length) parts.push(sql`priority in (${sql.join(f.priorities)})`);
  if (f.assignees?.length) parts.push(eitherOrNull(sql`assignee_id`, f.assignees));
  if (f.labels?.length) parts.push(sql`labels @> ${f.labels}::text[]`);
  if (f.sprints?.length) parts.push(eitherOrNull(sql`sprint_id`, f.sprints));
  if (f.parent !== undefined) parts.push(eitherOrNull(sql`parent_id`, [f.parent]));
  if (f.createdAfter) parts.push(sql`created_at > ${f.createdAfter}`);
  if (f.createdBefore) parts.push(sql`created_at < ${f.createdBefore}`);
  if (f.updatedAfter) parts.push(sql`updated_at > ${f.updatedAfter}`);
  return sql<boolean>`${sql.join(parts, sql` and `)}`;
}

/** `column` is one of `values`, null among them meaning "is null". */
function eitherOrNull(column: RawBuilder<unknown>, values: Array<string | null>): RawBuilder<unknown> {
  const ids = values.filter((v): v is string => v !== null);
  const either: RawBuilder<unknown>[] = [];
  if (ids.length) either.push(sql`${column} in (${sql.join(ids)})`);
  if (values.includes(null)) either.push(sql`${column} is null`);
  return sql`(${sql.join(either, sql` or `)})`;
}

const SORT_EXPRESSIONS: Record<TaskSortColumn, RawBuilder<unknown>> = {
  created_at: sql`created_at`,
  updated_at: sql`updated_at`,
  number: sql`number`,
  title: sql`title`,
  // Priority sorts by rank, not alphabetically.
  priority: sql`array_position(array['low','medium','high','urgent']::text[], priority)`,
  status: sql`status`,
  due_date: sql`due_date`,
  // A task's place in its column (a board's order).
  rank: sql`rank`,
};

export function taskRepository(db: Db) {
  return {
    /**
     * A page and the total in one statement: the count is an uncorrelated subquery, evaluated once
     * and only when the page has a row. An empty page past the first counts separately.
     */
    async list(filter: TaskFilter, sort: SortSpec<TaskSortColumn>, limit: number, offset: number): Promise<{ rows: Task[]; total: number }> {
      if ('workspaceIds' in filter.scope && filter.scope.workspaceIds.length === 0) return { rows: [], total: 0 };
      const where = conditions(filter);
      // The project must be in one of these workspaces: checked once, before any row is read.
      const onlyIfIn = 'project' in filter.scope ? filter.scope.onlyIfIn : undefined;
      if (onlyIfIn?.length === 0) return { rows: [], total: 0 };
      const guard = onlyIfIn
        ? sql` and exists (select 1 from projects where id = ${(filter.scope as { project: string }).project} and workspace_id in (${sql.join(onlyIfIn)}))`
        : sql``;
      const direction = sort.direction === 'asc' ? sql`asc` : sql`desc`;
      const { rows } = await sql<Task & { total_matching: number }>`
        select tasks.*, (select count(*)::int from tasks where ${where}) as total_matching
        from tasks where ${where}${guard}
        order by ${SORT_EXPRESSIONS[sort.column]} ${direction}, id ${direction}
        limit ${limit} offset ${offset}`.execute(db);
      // An empty page behind the project check says nothing about the project: no count for it.
      if (rows.length === 0) {
        if (offset === 0 || onlyIfIn) return { rows: [], total: 0 };
        const counted = await sql<{ n: number }>`select count(*)::int as n from tasks where ${where}`.execute(db);
        return { rows: [], total: counted.rows[0]!.n };
      }
      // The rows keep their total_matching column: copying 25 rows without it cost more than the
      // rest of this function, and a task is only ever shown through presentTask, which names its fields.
      return { rows, total: rows[0]!.total_matching };
    },

    /** Only tasks of the given workspaces are ever returned; `lock` holds the row for an update. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Task | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('task', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('tasks').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    /**
     * Creates a task in one statement, which is atomic by itself: reserves the project's next
     * number (the row lock serialises creates in a project until the statement ends), inserts the
     * task and its outbox event. Nothing is written, and undefined returned, unless the project is
     * in one of `workspaceIds`, the status (or the project's first status) is one of the project's,
     * the assignee, if any, is a member of its workspace, and the sprint, if any, is one of the
     * project's that has not ended; the caller then finds out which.
     * `event.data` is the presented task but for what only the project knows (its number,
     * workspace and default status), which the statement fills in.
     */
    async createIfValid(
      workspaceIds: string[],
      projectId: string,
      draft: Omit<Task, 'workspace_id' | 'number' | 'status' | 'project_id'> & { status: string | null },
      event: { id: string; actorUserId: string | null; actorKeyId: string | null; data: Record<string, unknown> },
    ): Promise<Task | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('proj', projectId)) return undefined;
      // Every label must exist already (held FOR KEY SHARE, see labelRepository.byNames); a new
      // one sends the create down the checked path, which makes it.
      const { rows } = await sql<Task>`
        with lbl as (
          select u.k, l.name from unnest(${draft.labels}::text[]) with ordinality as u(n, k)
          join projects p on p.id = ${projectId}
          join labels l on l.workspace_id = p.workspace_id and lower(l.name) = lower(u.n)
          for key share of l
        ), project as (
          update projects set last_task_number = last_task_number + 1
          where id = ${projectId} and workspace_id in (${sql.join(workspaceIds)})
            and (select count(*) from lbl) = ${draft.labels.length}
            and coalesce(${draft.status}::text, statuses[1]) = any(statuses)
            -- A column with a WIP limit takes the checked path, which counts under a lock.
            and not exists (select 1 from project_statuses s where s.project_id = projects.id
                            and s.key = coalesce(${draft.status}::text, projects.statuses[1]) and s.wip_limit is not null)
            and (${draft.assignee_id}::text is null
                 or exists (select 1 from memberships m where m.workspace_id = projects.workspace_id and m.user_id = ${draft.assignee_id}::text))
            and (${draft.sprint_id}::text is null
                 or exists (select 1 from sprints s where s.id = ${draft.sprint_id}::text and s.project_id = projects.id and s.status <> 'completed' for share))
            -- Held (see taskRepository.parents): the parent cannot become a subtask meanwhile.
            and (${draft.parent_id}::text is null
                 or exists (select 1 from tasks pt where pt.id = ${draft.parent_id}::text and pt.project_id = projects.id and pt.parent_id is null for no key update))
          returning workspace_id, last_task_number, coalesce(${draft.status}::text, statuses[1]) as status,
            (select coalesce(array_agg(d.name order by d.k), '{}'::text[]) from (select name, min(k) as k from lbl group by name) d) as labels
        ), task as (
          insert into tasks (id, uuid, workspace_id, project_id, number, title, description, status, priority, labels,
                             assignee_id, due_date, estimated_minutes, sprint_id, parent_id, created_by, version, created_at, updated_at)
          select ${draft.id}, ${draft.uuid}::uuid, project.workspace_id, ${projectId}, project.last_task_number, ${draft.title},
                 ${draft.description}, project.status, ${draft.priority}, project.labels, ${draft.assignee_id}::text,
                 ${draft.due_date}::date, ${draft.estimated_minutes}::int, ${draft.sprint_id}::text, ${draft.parent_id}::text, ${draft.created_by}::text, ${draft.version}::int,
                 ${draft.created_at}::timestamptz, ${draft.updated_at}::timestamptz
          from project
          returning *
        ), scope as (
          insert into sprint_task_log (sprint_id, task_id, at, in_sprint, status, estimated_minutes)
          select task.sprint_id, task.id, task.created_at, true, task.status, task.estimated_minutes from task where task.sprint_id is not null
        ), outbox as (
          insert into events (id, workspace_id, project_id, type, resource_type, resource_id, actor_user_id, actor_key_id, data)
          select ${event.id}, task.workspace_id, task.project_id, 'task.created', 'task', task.id, ${event.actorUserId}::text, ${event.actorKeyId}::text,
                 ${JSON.stringify(event.data)}::jsonb || jsonb_build_object('number', task.number, 'workspace_id', task.workspace_id, 'status', task.status, 'labels', to_jsonb(task.labels))
          from task
        )
        select * from task`.execute(db);
      return rows[0];
    },

    /** Inserts the task, its outbox event and its sprint log row in one statement. */
    async insertWithEvent(row: Task, event: Insertable<EventsTable>): Promise<void> {
      await withLog(db, sprintLogRows(null, row, row.created_at))
        .with('outbox', (qc) => qc.insertInto('events').values(event))
        .insertInto('tasks')
        .values(row)
        .execute();
    },

    /** Changes' outbox events and sprint log rows, in one statement. */
    async recordChange(events: Insertable<EventsTable> | Array<Insertable<EventsTable>>, log: SprintLogRow[]): Promise<void> {
      await withLog(db, log).insertInto('events').values(events).execute();
    },

    /** Inserts tasks, their outbox events and their sprint log rows, in one statement. */
    async insertMany(rows: Task[], events: Array<Insertable<EventsTable>>): Promise<void> {
      await withLog(db, rows.flatMap((row) => sprintLogRows(null, row, row.created_at)))
        .with('outbox', (qc) => qc.insertInto('events').values(events))
        .insertInto('tasks')
        .values(rows)
        .execute();
    },

    /** The visible tasks among `ids`, in id order; `lock` takes them for a change (in that order, so that two batches cannot deadlock). */
    findMany(workspaceIds: string[], ids: string[], lock = false): Promise<Task[]> {
      const wanted = ids.filter((id) => looksLikeId('task', id));
      if (workspaceIds.length === 0 || wanted.length === 0) return Promise.resolve([]);
      const q = db.selectFrom('tasks').selectAll().where('id', 'in', wanted).where('workspace_id', 'in', workspaceIds).orderBy('id');
      return (lock ? q.forUpdate() : q).execute();
    },

    /**
     * Writes whole tasks (their fields a patch may change) in one statement, each with its version
     * moved on by one; the caller holds their locks. Returns how many it wrote.
     */
    async updateMany(rows: Task[], at: Date): Promise<number> {
      if (rows.length === 0) return 0;
      const values = rows.map((t) => ({ id: t.id, ...Object.fromEntries(PATCHABLE_FIELDS.map((f) => [f, t[f]])) }));
      const result = await sql`
        update tasks as t
        set title = v.title, description = v.description, status = v.status, priority = v.priority, labels = v.labels,
            assignee_id = v.assignee_id, due_date = v.due_date, estimated_minutes = v.estimated_minutes, sprint_id = v.sprint_id, parent_id = v.parent_id,
            version = t.version + 1, updated_at = ${at}
        from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(id text, title text, description text, status text, priority text, labels text[],
             assignee_id text, due_date date, estimated_minutes integer, sprint_id text, parent_id text)
        where t.id = v.id`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },

    update(
      workspaceId: string,
      id: string,
      changes: TaskChanges,
      at: Date,
    ): Promise<Task> {
      return db
        .updateTable('tasks')
        .set({ ...changes, updated_at: at, version: sql`version + 1` })
        .where('id', '=', id)
        .where('workspace_id', '=', workspaceId)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** The task's events (its history), in the order of the changes, and how many there are. */
    async activity(id: string, direction: 'asc' | 'desc', limit: number, offset: number) {
      // The literal (not a parameter) lets generic plans use the partial index on task events.
      const q = db.selectFrom('events').where(sql<boolean>`resource_type = 'task'`).where('resource_id', '=', id);
      const rows = await q
        .select(['id', 'type', 'occurred_at', 'actor_user_id', 'actor_key_id', 'changes'])
        .orderBy('seq', direction)
        .limit(limit)
        .offset(offset)
        .execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /**
     * Would-be parents among `ids`, in id order, held FOR NO KEY UPDATE: none becomes a subtask
     * meanwhile, and the subtask triggers' update of their counts cannot deadlock, as two shared
     * locks upgraded at once would.
     */
    parents(ids: string[]): Promise<Array<Pick<Task, 'id' | 'project_id' | 'parent_id'>>> {
      const wanted = ids.filter((id) => looksLikeId('task', id));
      if (wanted.length === 0) return Promise.resolve([]);
      return db.selectFrom('tasks').select(['id', 'project_id', 'parent_id']).where('id', 'in', wanted).orderBy('id').forNoKeyUpdate().execute();
    },

    /** The project's tasks in a status, locked for a change, in id order. */
    inStatus(projectId: string, status: string): Promise<Task[]> {
      return db.selectFrom('tasks').selectAll().where('project_id', '=', projectId).where('status', '=', status).orderBy('id').forUpdate().execute();
    },

    /**
     * The rank that puts a task at `position` (from 0) among the others in its column, ordered by
     * rank: halfway between its neighbours there. When they are too close to halve, the column's
     * ranks are spread out first (ranks are only an order, never shown).
     */
    async rankAt(projectId: string, status: string, position: number, taskId: string): Promise<number> {
      for (let attempt = 0; attempt < 2; attempt++) {
        const { rows } = await sql<{ rank: number }>`
          select rank from tasks where project_id = ${projectId} and status = ${status} and id <> ${taskId}
          order by rank, id limit 2 offset ${Math.max(position - 1, 0)}`.execute(db);
        if (position === 0) return rows.length ? rows[0]!.rank - 1024 : 0;
        if (rows.length === 0) {
          const last = await sql<{ rank: number | null }>`select max(rank) as rank from tasks where project_id = ${projectId} and status = ${status} and id <> ${taskId}`.execute(db);
          return (last.rows[0]?.rank ?? 0) + 1024;
        }
        if (rows.length === 1) return rows[0]!.rank + 1024;
        const [before, after] = [rows[0]!.rank, rows[1]!.rank];
        if (after - before > 1e-6) return before + (after - before) / 2;
        await sql`
          update tasks as t set rank = r.n * 1024
          from (select id, row_number() over (order by rank, id) as n from tasks where project_id = ${projectId} and status = ${status}) r
          where t.id = r.id`.execute(db);
      }
      throw new Error('could not find a rank between two tasks after spreading their column');
    },

    async setRank(id: string, rank: number): Promise<void> {
      await db.updateTable('tasks').set({ rank }).where('id', '=', id).execute();
    },

    /** Deletes the task; its sprint, if any, logs its departure at `at`. */
    async delete(task: Task, at: Date): Promise<void> {
      await withLog(db, sprintLogRows(task, null, at)).deleteFrom('tasks').where('id', '=', task.id).where('workspace_id', '=', task.workspace_id).execute();
    },
  };
}
