import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { ApiKey, Role } from '../../db/schema.ts';

export interface KeyWithOwner extends ApiKey {
  is_instance_admin: boolean;
}

export interface MembershipPlan {
  workspace_id: string;
  role: Role;
  plan: 'free' | 'pro' | 'enterprise';
  rate_limit_hourly: number | null;
  rate_limit_burst: number | null;
}

export function apiKeyRepository(db: Db) {
  return {
    findBySecretHash(hash: string): Promise<KeyWithOwner | undefined> {
      return db
        .selectFrom('api_keys as k')
        .innerJoin('users as u', 'u.id', 'k.user_id')
        .selectAll('k')
        .select('u.is_instance_admin')
        .where('k.secret_hash', '=', hash)
        .executeTakeFirst();
    },

    membershipsWithPlans(userId: string): Promise<MembershipPlan[]> {
      return db
        .selectFrom('memberships as m')
        .innerJoin('workspaces as w', 'w.id', 'm.workspace_id')
        .select(['m.workspace_id', 'm.role', 'w.plan', 'w.rate_limit_hourly', 'w.rate_limit_burst'])
        .where('m.user_id', '=', userId)
        .execute();
    },

    insert(row: {
      id: string;
      user_id: string;
      name: string;
      secret_hash: string;
      display_prefix: string;
      scopes: string[];
      workspace_id: string | null;
      project_id: string | null;
      expires_at: Date;
      created_at: Date;
    }): Promise<ApiKey> {
      return db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
    },

    listForUser(userId: string, direction: 'asc' | 'desc', limit: number, offset: number): Promise<ApiKey[]> {
      return db
        .selectFrom('api_keys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', direction)
        .orderBy('id', direction)
        .limit(limit)
        .offset(offset)
        .execute();
    },

    async countForUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('api_keys')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return row.n;
    },

    findForUser(userId: string, id: string): Promise<ApiKey | undefined> {
      if (!looksLikeId('key', id)) return Promise.resolve(undefined);
      return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
    },

    revoke(userId: string, id: string, at: Date): Promise<ApiKey | undefined> {
      if (!looksLikeId('key', id)) return Promise.resolve(undefined);
      return db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },

    touch(id: string, at: Date, ip: string | null): Promise<unknown> {
      return db.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip }).where('id', '=', id).execute();
    },
  };
}
