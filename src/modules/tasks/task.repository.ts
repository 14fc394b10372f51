import { sql, type Insertable, type SelectQueryBuilder } from 'kysely';
import type { Db } from '../../db/database.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { DB, EventsTable, Priority, Task } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/listing.ts';

export type TaskSortColumn = 'created_at' | 'updated_at' | 'number' | 'title' | 'priority' | 'status' | 'due_date';

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
  createdAfter?: Date;
  createdBefore?: Date;
  updatedAfter?: Date;
}

type TaskQuery = SelectQueryBuilder<DB, 'tasks', object>;

function applyFilter(q: TaskQuery, f: TaskFilter): TaskQuery {
  if ('project' in f.scope) q = q.where('project_id', '=', f.scope.project);
  else {
    q = q.where('workspace_id', 'in', f.scope.workspaceIds);
    if (f.scope.projectId) q = q.where('project_id', '=', f.scope.projectId);
  }
  if (f.statuses?.length) q = q.where('status', 'in', f.statuses);
  if (f.priorities?.length) q = q.where('priority', 'in', f.priorities);
  if (f.assignees?.length) {
    const ids = f.assignees.filter((a): a is string => a !== null);
    const none = f.assignees.includes(null);
    q = q.where((eb) => {
      const parts = [];
      if (ids.length) parts.push(eb('assignee_id', 'in', ids));
      if (none) parts.push(eb('assignee_id', 'is', null));
      return eb.or(parts);
    });
  }
  if (f.labels?.length) q = q.where(sql<boolean>`labels @> ${sql.val(f.labels)}::text[]`);
  if (f.createdAfter) q = q.where('created_at', '>', f.createdAfter);
  if (f.createdBefore) q = q.where('created_at', '<', f.createdBefore);
  if (f.updatedAfter) q = q.where('updated_at', '>', f.updatedAfter);
  return q;
}

// Priority sorts by rank, not alphabetically.
const PRIORITY_RANK = sql<number>`array_position(array['low','medium','high','urgent']::text[], priority)`;

export function taskRepository(db: Db) {
  return {
    /**
     * A page and the total in one statement: the count is an uncorrelated subquery, evaluated once
     * and only when the page has a row. An empty page past the first counts separately.
     */
    async list(filter: TaskFilter, sort: SortSpec<TaskSortColumn>, limit: number, offset: number): Promise<{ rows: Task[]; total: number }> {
      if ('workspaceIds' in filter.scope && filter.scope.workspaceIds.length === 0) return { rows: [], total: 0 };
      const count = () => applyFilter(db.selectFrom('tasks'), filter).select(sql<number>`count(*)::int`.as('n'));
      let page = applyFilter(db.selectFrom('tasks'), filter)
        .selectAll()
        .select(count().as('total_matching'));
      // The project must be in one of these workspaces: checked once, before any row is read.
      const onlyIfIn = 'project' in filter.scope ? filter.scope.onlyIfIn : undefined;
      if (onlyIfIn) {
        if (onlyIfIn.length === 0) return { rows: [], total: 0 };
        const project = (filter.scope as { project: string }).project;
        page = page.where(({ exists, selectFrom }) => exists(selectFrom('projects').select('projects.id').where('projects.id', '=', project).where('projects.workspace_id', 'in', onlyIfIn)));
      }
      page = sort.column === 'priority' ? page.orderBy(PRIORITY_RANK, sort.direction) : page.orderBy(sort.column, sort.direction);
      const rows = await page.orderBy('id', sort.direction).limit(limit).offset(offset).execute();
      // An empty page behind the project check says nothing about the project: no count for it.
      if (rows.length === 0) return { rows: [], total: offset === 0 || onlyIfIn ? 0 : (await count().executeTakeFirstOrThrow()).n };
      const total = rows[0]!.total_matching ?? 0;
      return { rows: rows.map(({ total_matching: _, ...task }) => task), total };
    },

    /** Only tasks of the given workspaces are ever returned; `lock` holds the row for an update. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Task | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('task', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('tasks').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    /** Inserts the task and its outbox event in one statement. */
    async insertWithEvent(row: Task, event: Insertable<EventsTable>): Promise<void> {
      await db
        .with('outbox', (qc) => qc.insertInto('events').values(event))
        .insertInto('tasks')
        .values(row)
        .execute();
    },

    update(
      workspaceId: string,
      id: string,
      changes: Partial<Pick<Task, 'title' | 'description' | 'status' | 'priority' | 'labels' | 'assignee_id' | 'due_date' | 'estimated_minutes'>>,
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

    async delete(workspaceId: string, id: string): Promise<void> {
      await db.deleteFrom('tasks').where('id', '=', id).where('workspace_id', '=', workspaceId).execute();
    },
  };
}
