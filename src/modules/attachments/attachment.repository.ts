import type { Db } from '../../db/database.ts';
import type { Insertable } from 'kysely';
import type { Attachment, AttachmentsTable } from '../../db/schema.ts';
import { looksLikeId } from '../../lib/ids.ts';

export function attachmentRepository(db: Db) {
  return {
    list(taskId: string): Promise<Attachment[]> {
      return db.selectFrom('attachments').selectAll().where('task_id', '=', taskId).orderBy('created_at').orderBy('id').execute();
    },

    /** Only attachments of the given workspaces are ever returned. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Attachment | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('att', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('attachments').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    insert(row: Insertable<AttachmentsTable>): Promise<Attachment> {
      return db.insertInto('attachments').values(row).returningAll().executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('attachments').where('id', '=', id).execute();
    },

    /** The ids of a task's attachments (to remove their files once the task is gone). */
    async idsOfTask(taskId: string): Promise<string[]> {
      return (await db.selectFrom('attachments').select('id').where('task_id', '=', taskId).execute()).map((r) => r.id);
    },

    /** Which of `ids` still have a row. */
    async existing(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      return new Set((await db.selectFrom('attachments').select('id').where('id', 'in', ids).execute()).map((r) => r.id));
    },

    /** Each task's attachments, oldest first. */
    async forTasks(taskIds: string[]): Promise<Map<string, Attachment[]>> {
      const out = new Map<string, Attachment[]>();
      if (taskIds.length === 0) return out;
      const rows = await db.selectFrom('attachments').selectAll().where('task_id', 'in', taskIds).orderBy('created_at').orderBy('id').execute();
      for (const row of rows) {
        const list = out.get(row.task_id);
        if (list) list.push(row);
        else out.set(row.task_id, [row]);
      }
      return out;
    },
  };
}
