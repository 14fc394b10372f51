import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Comment } from '../../db/schema.ts';
import { looksLikeId } from '../../lib/ids.ts';

export function commentRepository(db: Db) {
  return {
    async list(taskId: string, direction: 'asc' | 'desc', limit: number, offset: number) {
      const q = db.selectFrom('comments').where('task_id', '=', taskId);
      const rows = await q.selectAll().orderBy('created_at', direction).orderBy('id', direction).limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /** Only comments of the given workspaces are ever returned; `lock` holds the row for a change. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Comment | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('cmt', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('comments').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    insert(row: Omit<Comment, 'version'>): Promise<Comment> {
      return db.insertInto('comments').values(row).returningAll().executeTakeFirstOrThrow();
    },

    update(id: string, body: string, at: Date): Promise<Comment> {
      return db.updateTable('comments').set({ body, updated_at: at, version: sql`version + 1` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('comments').where('id', '=', id).execute();
    },

    /** The `perTask` most recent comments of each task, newest first. */
    async recentForTasks(taskIds: string[], perTask: number): Promise<Map<string, Comment[]>> {
      const out = new Map<string, Comment[]>();
      if (taskIds.length === 0) return out;
      const { rows } = await sql<Comment>`
        select c.* from (
          select c.*, row_number() over (partition by c.task_id order by c.created_at desc, c.id desc) as n
          from comments c where c.task_id = any(${taskIds}::text[])
        ) c where c.n <= ${perTask} order by c.created_at desc, c.id desc`.execute(db);
      for (const row of rows) {
        const list = out.get(row.task_id);
        if (list) list.push(row);
        else out.set(row.task_id, [row]);
      }
      return out;
    },
  };
}
