import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Sprint, SprintStatus, Task } from '../../db/schema.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { SortSpec } from '../../lib/listing.ts';
import type { LogEntry } from './sprint-report.ts';

export type SprintSortColumn = 'created_at' | 'updated_at' | 'name' | 'start_date';

/** A finished task: in a column of its project's workflow in the done category. */
const FINISHED = sql<boolean>`exists (select 1 from project_statuses s where s.project_id = t.project_id and s.key = t.status and s.category = 'done')`;

export function sprintRepository(db: Db) {
  return {
    async list(projectId: string, statuses: SprintStatus[] | undefined, sort: SortSpec<SprintSortColumn>, limit: number, offset: number) {
      let q = db.selectFrom('sprints').where('project_id', '=', projectId);
      if (statuses?.length) q = q.where('status', 'in', statuses);
      const rows = await q.selectAll().orderBy(sort.column, sort.direction).orderBy('id', sort.direction).limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /**
     * Only sprints of the given workspaces are ever returned; `lock` holds the row for a change.
     * The lock is FOR NO KEY UPDATE, which lets tasks take their foreign-key share lock on the row
     * meanwhile: with FOR UPDATE, ending a sprint while a task was being planned into it deadlocked.
     */
    find(workspaceIds: string[], id: string, lock = false): Promise<Sprint | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('spr', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('sprints').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forNoKeyUpdate() : q).executeTakeFirst();
    },

    /**
     * `share`: FOR SHARE, for planning a task into the sprint: a sprint being ended holds its row
     * until it has moved its tasks, so a task planned meanwhile waits and then sees it completed,
     * or is planned first and moved with the others.
     */
    findInProject(projectId: string, id: string, share = false): Promise<Sprint | undefined> {
      const q = db.selectFrom('sprints').selectAll().where('id', '=', id).where('project_id', '=', projectId);
      return (share ? q.forShare() : q).executeTakeFirst();
    },

    /**
     * The sprints among `ids` of the given workspaces, in id order, FOR SHARE (see findInProject):
     * a batch takes them before it locks its tasks, as a sprint's end takes its sprint first.
     */
    findManyForShare(workspaceIds: string[], ids: string[]): Promise<Sprint[]> {
      const wanted = ids.filter((id) => looksLikeId('spr', id));
      if (workspaceIds.length === 0 || wanted.length === 0) return Promise.resolve([]);
      return db.selectFrom('sprints').selectAll().where('id', 'in', wanted).where('workspace_id', 'in', workspaceIds).orderBy('id').forShare().execute();
    },

    /** The project's last `n` completed sprints, most recently ended first. */
    lastCompleted(projectId: string, n: number): Promise<Sprint[]> {
      return db
        .selectFrom('sprints')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('status', '=', 'completed')
        .orderBy('ended_at', 'desc')
        .orderBy('id', 'desc')
        .limit(n)
        .execute();
    },

    active(projectId: string): Promise<Sprint | undefined> {
      return db.selectFrom('sprints').selectAll().where('project_id', '=', projectId).where('status', '=', 'active').executeTakeFirst();
    },

    insert(row: Pick<Sprint, 'id' | 'workspace_id' | 'project_id' | 'name' | 'goal' | 'start_date' | 'end_date' | 'created_at' | 'updated_at'>): Promise<Sprint> {
      return db.insertInto('sprints').values(row).returningAll().executeTakeFirstOrThrow();
    },

    update(id: string, changes: Partial<Pick<Sprint, 'name' | 'goal' | 'start_date' | 'end_date' | 'status' | 'started_at' | 'ended_at' | 'committed_tasks' | 'committed_minutes' | 'completed_tasks' | 'completed_minutes'>>, at: Date): Promise<Sprint> {
      return db
        .updateTable('sprints')
        .set({ ...changes, updated_at: at, version: sql`version + 1` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('sprints').where('id', '=', id).execute();
    },

    /** The sprint's log, in the order of the changes, with epoch milliseconds. */
    async log(id: string): Promise<LogEntry[]> {
      const { rows } = await sql<LogEntry>`
        select task_id, round(date_part('epoch', at) * 1000)::float8 as at, in_sprint, status, estimated_minutes
        from sprint_task_log where sprint_id = ${id} order by at, seq`.execute(db);
      return rows;
    },

    /** The statuses of the sprint's project that count as finished (its done columns), and its workspace's time zone. */
    async context(projectId: string): Promise<{ done: string[]; time_zone: string }> {
      const { rows } = await sql<{ done: string[]; time_zone: string }>`
        select coalesce((select array_agg(s.key) from project_statuses s where s.project_id = p.id and s.category = 'done'), '{}'::text[]) as done, w.time_zone
        from projects p join workspaces w on w.id = p.workspace_id where p.id = ${projectId}`.execute(db);
      return rows[0]!;
    },

    /** The sprint's tasks and their estimates: all of them, and the finished ones. */
    async tally(id: string): Promise<{ tasks: number; minutes: number; finished: number; finishedMinutes: number }> {
      return db
        .selectFrom('tasks as t')
        .select([
          sql<number>`count(*)::int`.as('tasks'),
          sql<number>`coalesce(sum(t.estimated_minutes), 0)::int`.as('minutes'),
          sql<number>`(count(*) filter (where ${FINISHED}))::int`.as('finished'),
          sql<number>`coalesce(sum(t.estimated_minutes) filter (where ${FINISHED}), 0)::int`.as('finishedMinutes'),
        ])
        .where('t.sprint_id', '=', id)
        .executeTakeFirstOrThrow();
    },

    /**
     * Moves the sprint's tasks (only the unfinished ones, with `unfinishedOnly`) to another sprint
     * or to the backlog (null), and returns them as they were before and after.
     */
    async moveTasks(id: string, to: string | null, unfinishedOnly: boolean, at: Date): Promise<Array<{ before: Task; after: Task }>> {
      const before = await db
        .selectFrom('tasks as t')
        .selectAll('t')
        .where('t.sprint_id', '=', id)
        .$if(unfinishedOnly, (q) => q.where(sql<boolean>`not (${FINISHED})`))
        .orderBy('t.number')
        .forUpdate()
        .execute();
      if (before.length === 0) return [];
      const after = await db
        .updateTable('tasks')
        .set({ sprint_id: to, updated_at: at, version: sql`version + 1` })
        .where('id', 'in', before.map((t) => t.id))
        .returningAll()
        .execute();
      const byId = new Map(after.map((t) => [t.id, t]));
      return before.map((t) => ({ before: t, after: byId.get(t.id)! }));
    },
  };
}
