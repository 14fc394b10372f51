import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { lockName } from '../../db/locks.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { Project } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/listing.ts';

export type ProjectSortColumn = 'created_at' | 'updated_at' | 'name' | 'slug';

export function projectRepository(db: Db) {
  return {
    async list(workspaceId: string, onlyProject: string | null, sort: SortSpec<ProjectSortColumn>, limit: number, offset: number) {
      let q = db.selectFrom('projects').where('workspace_id', '=', workspaceId);
      if (onlyProject) q = q.where('id', '=', onlyProject);
      const rows = await q.selectAll().orderBy(sort.column, sort.direction).orderBy('id', sort.direction).limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /** Only projects of the given workspaces are ever returned; `lock` holds the row for an update. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Project | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('proj', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('projects').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    async freeSlug(workspaceId: string, base: string): Promise<string> {
      await lockName(db, `project-slug:${workspaceId}:${base}`);
      const taken = await db
        .selectFrom('projects')
        .select('slug')
        .where('workspace_id', '=', workspaceId)
        .where(sql`lower(slug)`, 'like', `${base.replace(/[\\%_]/g, '\\$&')}%`)
        .execute();
      const set = new Set(taken.map((r) => r.slug.toLowerCase()));
      if (!set.has(base)) return base;
      for (let i = 2; ; i++) if (!set.has(`${base}-${i}`)) return `${base}-${i}`;
    },

    insert(row: { id: string; workspace_id: string; name: string; slug: string; description: string; created_at: Date; updated_at: Date }): Promise<Project> {
      return db.insertInto('projects').values(row).returningAll().executeTakeFirstOrThrow();
    },

    update(workspaceId: string, id: string, changes: Partial<Pick<Project, 'name' | 'slug' | 'description'>>, at: Date): Promise<Project> {
      return db
        .updateTable('projects')
        .set({ ...changes, updated_at: at, version: sql`version + 1` })
        .where('id', '=', id)
        .where('workspace_id', '=', workspaceId)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async delete(workspaceId: string, id: string): Promise<void> {
      await db.deleteFrom('projects').where('id', '=', id).where('workspace_id', '=', workspaceId).execute();
    },

    /**
     * Loads a project of the given workspaces and reserves its next task number in one statement
     * (`last_task_number` is the reserved one). The row lock it takes serialises concurrent creates
     * in one project until the transaction ends, so numbers are sequential and never reused.
     */
    /** Takes the project's next `n` task numbers; returns the last of them. The caller has checked the project. */
    async reserveTaskNumbers(id: string, n: number): Promise<number> {
      const row = await db
        .updateTable('projects')
        .set({ last_task_number: sql`last_task_number + ${n}` })
        .where('id', '=', id)
        .returning('last_task_number')
        .executeTakeFirstOrThrow();
      return row.last_task_number;
    },

    /** Sets the project's statuses to its columns' keys in board order (after a change to them), as a change to the project. */
    syncStatuses(id: string, at: Date): Promise<Project> {
      return db
        .updateTable('projects')
        .set({
          statuses: sql`(select coalesce(array_agg(s.key order by s.position), '{}'::text[]) from project_statuses s where s.project_id = ${id})`,
          version: sql`version + 1`,
          updated_at: at,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Projects by id (the caller has scoped the ids to what it may see). */
    findMany(ids: string[]): Promise<Project[]> {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('projects').selectAll().where('id', 'in', ids).execute();
    },

    reserveTaskNumber(workspaceIds: string[], id: string): Promise<Project | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('proj', id)) return Promise.resolve(undefined);
      return db
        .updateTable('projects')
        .set({ last_task_number: sql`last_task_number + 1` })
        .where('id', '=', id)
        .where('workspace_id', 'in', workspaceIds)
        .returningAll()
        .executeTakeFirst();
    },
  };
}
