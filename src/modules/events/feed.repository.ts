import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';

export interface FeedFilter {
  workspaceIds: string[];
  /** A project key's project: only its events. */
  projectId: string | null;
  /** Events after this position. */
  after: number;
  /** Exact types and type prefixes (`task.` for `task.*`); both absent: every type. */
  types?: { exact: string[]; prefixes: string[] };
  limit: number;
}

export interface FeedRow {
  id: string;
  type: string;
  occurred_at: Date;
  workspace_id: string;
  project_id: string | null;
  resource_type: string;
  resource_id: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  data: Record<string, unknown>;
  changes: Record<string, { from: unknown; to: unknown }> | null;
  /** int8 as text. */
  position: string;
}

export function feedRepository(db: Db) {
  return {
    /**
     * The next `limit` events by position across the workspaces: each workspace's are read from
     * its (workspace_id, position) index, at most `limit` of them, and the pieces merged, so
     * that a small workspace on a busy server reads only its own.
     */
    async page(f: FeedFilter): Promise<FeedRow[]> {
      if (f.workspaceIds.length === 0) return [];
      const conditions = [sql`e.workspace_id = w.id`, sql`e.position > ${f.after}`];
      if (f.projectId !== null) conditions.push(sql`e.project_id = ${f.projectId}`);
      if (f.types) {
        const either = [...(f.types.exact.length ? [sql`e.type in (${sql.join(f.types.exact)})`] : []), ...f.types.prefixes.map((prefix) => sql`starts_with(e.type, ${prefix})`)];
        conditions.push(sql`(${sql.join(either, sql` or `)})`);
      }
      const { rows } = await sql<FeedRow>`
        select p.* from unnest(${f.workspaceIds}::text[]) as w(id) cross join lateral (
          select e.id, e.type, e.occurred_at, e.workspace_id, e.project_id, e.resource_type, e.resource_id,
                 e.actor_user_id, e.actor_key_id, e.data, e.changes, e.position
          from events e
          where ${sql.join(conditions, sql` and `)}
          order by e.position limit ${f.limit}
        ) p
        order by p.position limit ${f.limit}`.execute(db);
      return rows;
    },
  };
}
