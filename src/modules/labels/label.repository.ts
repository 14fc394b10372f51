import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Label, Task } from '../../db/schema.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { SortSpec } from '../../lib/listing.ts';

export type LabelSortColumn = 'name' | 'created_at' | 'updated_at';

export function labelRepository(db: Db) {
  return {
    async list(workspaceId: string, sort: SortSpec<LabelSortColumn>, limit: number, offset: number) {
      const q = db.selectFrom('labels').where('workspace_id', '=', workspaceId);
      const order = sort.column === 'name' ? sql`lower(name)` : sql.ref(sort.column);
      const rows = await q.selectAll().orderBy(order, sort.direction).orderBy('id', sort.direction).limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /** Only labels of the given workspaces are ever returned; `lock` holds the row (FOR UPDATE) for a change. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Label | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('lbl', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('labels').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    insert(row: Pick<Label, 'id' | 'workspace_id' | 'name' | 'color' | 'description' | 'created_at' | 'updated_at'>): Promise<Label> {
      return db.insertInto('labels').values(row).returningAll().executeTakeFirstOrThrow();
    },

    /** Inserts the labels that do not exist yet (by name, whatever its case); returns those it inserted. */
    insertMissing(rows: Array<Pick<Label, 'id' | 'workspace_id' | 'name' | 'color' | 'created_at' | 'updated_at'>>): Promise<Label[]> {
      if (rows.length === 0) return Promise.resolve([]);
      return db.insertInto('labels').values(rows).onConflict((oc) => oc.doNothing()).returningAll().execute();
    },

    update(id: string, changes: Partial<Pick<Label, 'name' | 'color' | 'description'>>, at: Date): Promise<Label> {
      return db.updateTable('labels').set({ ...changes, updated_at: at, version: sql`version + 1` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('labels').where('id', '=', id).execute();
    },

    /**
     * The labels of the workspace that `names` name (whatever their case), as [position in
     * `names`, label name]. FOR KEY SHARE: a label cannot be renamed or deleted (both lock it FOR
     * UPDATE) until the tasks being given it are written, so that its rename or removal reaches them.
     */
    async byNames(workspaceId: string, names: string[]): Promise<Array<{ k: number; name: string }>> {
      const { rows } = await sql<{ k: string | number; name: string }>`
        select u.k, l.name from unnest(${names}::text[]) with ordinality as u(n, k)
        join labels l on l.workspace_id = ${workspaceId} and lower(l.name) = lower(u.n)
        for key share of l`.execute(db);
      return rows.map((r) => ({ k: Number(r.k), name: r.name }));
    },

    /** The workspace's tasks that carry the label, locked for a change, in id order. */
    tasksWith(workspaceId: string, name: string): Promise<Task[]> {
      return db.selectFrom('tasks').selectAll().where('workspace_id', '=', workspaceId).where(sql<boolean>`labels @> array[${name}]::text[]`).orderBy('id').forUpdate().execute();
    },
  };
}
