import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { lockName } from '../../db/locks.ts';
import type { Workspace } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/listing.ts';

export type WorkspaceSortColumn = 'created_at' | 'name' | 'slug';

export function workspaceRepository(db: Db) {
  return {
    async list(ids: string[], sort: SortSpec<WorkspaceSortColumn>, limit: number, offset: number): Promise<Workspace[]> {
      if (ids.length === 0) return [];
      return db
        .selectFrom('workspaces')
        .selectAll()
        .where('id', 'in', ids)
        .orderBy(sort.column, sort.direction)
        .orderBy('id', sort.direction)
        .limit(limit)
        .offset(offset)
        .execute();
    },

    /** Only workspaces in `visible` are ever returned. */
    find(visible: string[], id: string): Promise<Workspace | undefined> {
      if (!visible.includes(id)) return Promise.resolve(undefined); // also refuses malformed ids
      return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
    },

    findForUpdate(id: string): Promise<Workspace | undefined> {
      return db.selectFrom('workspaces').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    async freeSlug(base: string): Promise<string> {
      await lockName(db, `workspace-slug:${base}`);
      const taken = await db
        .selectFrom('workspaces')
        .select('slug')
        .where(sql`lower(slug)`, 'like', `${base.replace(/[\\%_]/g, '\\$&')}%`)
        .execute();
      const set = new Set(taken.map((r) => r.slug.toLowerCase()));
      if (!set.has(base)) return base;
      for (let i = 2; ; i++) if (!set.has(`${base}-${i}`)) return `${base}-${i}`;
    },

    insert(row: { id: string; slug: string; name: string; time_zone: string; created_at: Date; updated_at: Date }): Promise<Workspace> {
      return db.insertInto('workspaces').values(row).returningAll().executeTakeFirstOrThrow();
    },

    update(id: string, changes: Partial<Pick<Workspace, 'name' | 'slug' | 'time_zone' | 'plan' | 'allow_overlapping_time_entries' | 'max_timer_minutes'>>, at: Date): Promise<Workspace> {
      return db
        .updateTable('workspaces')
        .set({ ...changes, updated_at: at, version: sql`version + 1` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },
  };
}
