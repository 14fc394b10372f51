import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { Membership, Role, User } from '../../db/schema.ts';
import type { SortSpec } from '../../lib/listing.ts';

export type MemberRow = Membership & Pick<User, 'username' | 'name' | 'email'>;
export type MemberSortColumn = 'm.created_at' | 'm.role' | 'u.username';

function withUser(db: Db) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .selectAll('m')
    .select(['u.username', 'u.name', 'u.email']);
}

export function memberRepository(db: Db) {
  return {
    async list(workspaceId: string, role: Role | undefined, sort: SortSpec<MemberSortColumn>, limit: number, offset: number) {
      let q = withUser(db).where('m.workspace_id', '=', workspaceId);
      if (role) q = q.where('m.role', '=', role);
      const rows = await q.orderBy(sort.column, sort.direction).orderBy('m.id', sort.direction).limit(limit).offset(offset).execute();
      let c = db.selectFrom('memberships').select(sql<number>`count(*)::int`.as('n')).where('workspace_id', '=', workspaceId);
      if (role) c = c.where('role', '=', role);
      const total = (await c.executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /** Only memberships of the given workspaces are ever returned. */
    find(workspaceIds: string[], id: string): Promise<MemberRow | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('mem', id)) return Promise.resolve(undefined);
      return withUser(db).where('m.id', '=', id).where('m.workspace_id', 'in', workspaceIds).executeTakeFirst();
    },

    findForUpdate(workspaceIds: string[], id: string): Promise<MemberRow | undefined> {
      if (workspaceIds.length === 0) return Promise.resolve(undefined);
      return withUser(db).where('m.id', '=', id).where('m.workspace_id', 'in', workspaceIds).forUpdate().executeTakeFirst();
    },

    async insert(row: { id: string; workspace_id: string; user_id: string; role: Role; created_at: Date; updated_at: Date }): Promise<MemberRow> {
      await db.insertInto('memberships').values(row).execute();
      return withUser(db).where('m.id', '=', row.id).executeTakeFirstOrThrow();
    },

    async setRole(id: string, role: Role, at: Date): Promise<MemberRow> {
      await db.updateTable('memberships').set({ role, updated_at: at, version: sql`version + 1` }).where('id', '=', id).execute();
      return withUser(db).where('m.id', '=', id).executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('memberships').where('id', '=', id).execute();
    },

    /** Owners of a workspace, locked, so two concurrent demotions cannot remove the last one. */
    async lockOwners(workspaceId: string): Promise<string[]> {
      const rows = await db.selectFrom('memberships').select('id').where('workspace_id', '=', workspaceId).where('role', '=', 'owner').forUpdate().execute();
      return rows.map((r) => r.id);
    },

    /** Which of `userIds` are members of which of `workspaceIds`, as "workspace user" pairs. */
    async membersAmong(workspaceIds: string[], userIds: string[]): Promise<Set<string>> {
      if (workspaceIds.length === 0 || userIds.length === 0) return new Set();
      const rows = await db.selectFrom('memberships').select(['workspace_id', 'user_id']).where('workspace_id', 'in', workspaceIds).where('user_id', 'in', userIds).execute();
      return new Set(rows.map((r) => `${r.workspace_id} ${r.user_id}`));
    },

    isMember(workspaceId: string, userId: string): Promise<boolean> {
      return db
        .selectFrom('memberships')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
        .then(Boolean);
    },
  };
}
