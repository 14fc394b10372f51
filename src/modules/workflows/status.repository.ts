import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { ProjectStatus } from '../../db/schema.ts';

export type StatusChanges = Partial<Pick<ProjectStatus, 'name' | 'category' | 'wip_limit' | 'position'>>;

export function statusRepository(db: Db) {
  return {
    /** The project's columns in board order, each with how many tasks it holds. */
    async list(projectId: string): Promise<Array<ProjectStatus & { task_count: number }>> {
      const { rows } = await sql<ProjectStatus & { task_count: number }>`
        select s.*, (select count(*) from tasks t where t.project_id = s.project_id and t.status = s.key)::int as task_count
        from project_statuses s where s.project_id = ${projectId} order by s.position`.execute(db);
      return rows;
    },

    /** `lock`: FOR UPDATE, for a change to the column (its removal waits for tasks being moved into it). */
    find(projectId: string, key: string, lock = false): Promise<ProjectStatus | undefined> {
      const q = db.selectFrom('project_statuses').selectAll().where('project_id', '=', projectId).where('key', '=', key);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    async taskCount(projectId: string, key: string): Promise<number> {
      const row = await db.selectFrom('tasks').select(sql<number>`count(*)::int`.as('n')).where('project_id', '=', projectId).where('status', '=', key).executeTakeFirstOrThrow();
      return row.n;
    },

    insert(row: Omit<ProjectStatus, 'version'>): Promise<ProjectStatus> {
      return db.insertInto('project_statuses').values(row).returningAll().executeTakeFirstOrThrow();
    },

    update(id: string, changes: StatusChanges, at: Date): Promise<ProjectStatus> {
      return db.updateTable('project_statuses').set({ ...changes, updated_at: at, version: sql`version + 1` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('project_statuses').where('id', '=', id).execute();
    },

    /** Moves the columns at positions from..to (both included) by `delta` (the position rule is checked at commit). */
    async shift(projectId: string, from: number, to: number, delta: 1 | -1): Promise<void> {
      if (from > to) return;
      await db
        .updateTable('project_statuses')
        .set({ position: sql`position + ${delta}` })
        .where('project_id', '=', projectId)
        .where('position', '>=', from)
        .where('position', '<=', to)
        .execute();
    },

    /**
     * Room left in the columns among `keys` that have a WIP limit, not counting the tasks in
     * `moving` (which are being moved, and may already be in one of them). Each such column is
     * held FOR NO KEY UPDATE (in key order) until the transaction ends, so that two moves into a
     * full column cannot both pass; tasks' own references to it (FOR KEY SHARE) do not wait.
     */
    async room(projectId: string, keys: string[], moving: string[]): Promise<Map<string, { limit: number; room: number }>> {
      if (keys.length === 0) return new Map();
      const limited = await db
        .selectFrom('project_statuses')
        .select(['key', 'wip_limit'])
        .where('project_id', '=', projectId)
        .where('key', 'in', keys)
        .where('wip_limit', 'is not', null)
        .orderBy('key')
        .forNoKeyUpdate()
        .execute();
      if (limited.length === 0) return new Map();
      // Counted in a statement of its own: its snapshot is taken once the locks are held, so it
      // sees the moves of whoever held them before (the locking statement's own snapshot would not).
      const { rows } = await sql<{ status: string; n: number }>`
        select status, count(*)::int as n from tasks
        where project_id = ${projectId} and status = any(${limited.map((l) => l.key)}::text[]) and not (id = any(${moving}::text[]))
        group by status`.execute(db);
      const counts = new Map(rows.map((r) => [r.status, r.n]));
      return new Map(limited.map((l) => [l.key, { limit: l.wip_limit!, room: Math.max(0, l.wip_limit! - (counts.get(l.key) ?? 0)) }]));
    },
  };
}
