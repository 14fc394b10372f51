import { sql, type Insertable } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Webhook, WebhookAttempt, WebhookDeliveriesTable, WebhookDelivery, WebhooksTable } from '../../db/schema.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { SortSpec } from '../../lib/listing.ts';
import type { FeedRow } from '../events/feed.repository.ts';

export type WebhookSortColumn = 'created_at' | 'updated_at';

/** A due delivery a worker has claimed, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  payload: string;
  attempts: number;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
}

export function webhookRepository(db: Db) {
  return {
    insert(row: Insertable<WebhooksTable>): Promise<Webhook> {
      return db.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
    },

    /** Only webhooks of the given workspaces are ever returned; `lock` holds the row for a change. */
    find(workspaceIds: string[], id: string, lock = false): Promise<Webhook | undefined> {
      if (workspaceIds.length === 0 || !looksLikeId('wh', id)) return Promise.resolve(undefined);
      const q = db.selectFrom('webhooks').selectAll().where('id', '=', id).where('workspace_id', 'in', workspaceIds);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    /** The webhooks of `workspaceIds` (and, for a project key, of its project only). */
    async list(f: { workspaceIds: string[]; projectId?: string; onlyProject?: string }, sort: SortSpec<WebhookSortColumn>, limit: number, offset: number) {
      if (f.workspaceIds.length === 0) return { rows: [] as Webhook[], total: 0 };
      let q = db.selectFrom('webhooks').where('workspace_id', 'in', f.workspaceIds);
      if (f.projectId !== undefined) q = q.where('project_id', '=', f.projectId);
      if (f.onlyProject !== undefined) q = q.where('project_id', '=', f.onlyProject);
      const rows = await q.selectAll().orderBy(sort.column, sort.direction).orderBy('id', sort.direction).limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    update(id: string, changes: Partial<Omit<Webhook, 'id' | 'workspace_id' | 'version' | 'created_at'>>, at: Date): Promise<Webhook> {
      return db.updateTable('webhooks').set({ ...changes, updated_at: at, version: sql`version + 1` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('webhooks').where('id', '=', id).execute();
    },

    insertDeliveries(rows: Array<Insertable<WebhookDeliveriesTable>>): Promise<unknown> {
      if (rows.length === 0) return Promise.resolve();
      return db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing()).execute();
    },

    findDelivery(webhookId: string, id: string, lock = false): Promise<WebhookDelivery | undefined> {
      const q = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('id', '=', id);
      return (lock ? q.forUpdate() : q).executeTakeFirst();
    },

    async deliveries(webhookId: string, status: string | undefined, limit: number, offset: number) {
      let q = db.selectFrom('webhook_deliveries').where('webhook_id', '=', webhookId);
      if (status !== undefined) q = q.where('status', '=', status as WebhookDelivery['status']);
      // Newest first: the log is read to see what just happened.
      const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
      const total = (await q.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
      return { rows, total };
    },

    /** The last 50 attempts of each delivery, oldest first. */
    async attempts(deliveryIds: string[]): Promise<Map<string, WebhookAttempt[]>> {
      const out = new Map<string, WebhookAttempt[]>(deliveryIds.map((id) => [id, []]));
      if (deliveryIds.length === 0) return out;
      const rows = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', 'in', deliveryIds)
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('webhook_attempts as a')
            .select('a.id')
            .whereRef('a.delivery_id', '=', 'webhook_attempts.delivery_id')
            .orderBy('a.id', 'desc')
            .limit(50),
        )
        .orderBy('id')
        .execute();
      for (const r of rows) out.get(r.delivery_id)!.push(r);
      return out;
    },

    /** Makes a delivery due now again (a redelivery): the same id, so the same webhook-id. */
    redeliver(id: string, at: Date): Promise<WebhookDelivery> {
      return db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: at, lease_until: null, updated_at: at })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    // The dispatcher's and the workers' statements.

    /** The feed events after the dispatcher's position (its row locked for the fan-out). */
    async eventsToDispatch(limit: number): Promise<FeedRow[]> {
      const state = await db.selectFrom('webhook_dispatch_state').select('last_position').forUpdate().executeTakeFirstOrThrow();
      const events = await db
        .selectFrom('events')
        .select(['id', 'type', 'occurred_at', 'workspace_id', 'project_id', 'resource_type', 'resource_id', 'actor_user_id', 'actor_key_id', 'data', 'changes', 'position'])
        .where('position', '>', state.last_position)
        .orderBy('position')
        .limit(limit)
        .execute();
      return events as FeedRow[];
    },

    /**
     * The active webhooks that receive each of the events: of its workspace, watching it or its
     * project, subscribed to its type (exactly, by its resource's wildcard, or by *), and whose
     * creator is still a member of the workspace (who may see it). A webhook receives the events
     * not yet fanned out when it is created, so a change made just before it may reach it too.
     */
    async subscribers(events: FeedRow[]): Promise<Array<{ event_id: string; webhook_id: string }>> {
      if (events.length === 0) return [];
      const { rows } = await sql<{ event_id: string; webhook_id: string }>`
        select e.id as event_id, w.id as webhook_id
        from unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.workspace_id)}::text[], ${events.map((e) => e.project_id)}::text[],
                    ${events.map((e) => e.type)}::text[]) as e(id, workspace_id, project_id, type)
        join webhooks w on w.workspace_id = e.workspace_id and w.active
          and (w.project_id is null or w.project_id = e.project_id)
          and (e.type = any(w.events) or split_part(e.type, '.', 1) || '.*' = any(w.events) or '*' = any(w.events))
        join memberships m on m.workspace_id = w.workspace_id and m.user_id = w.created_by`.execute(db);
      return rows;
    },

    async setDispatched(position: string): Promise<void> {
      await db.updateTable('webhook_dispatch_state').set({ last_position: position }).execute();
    },

    /**
     * Claims up to `limit` due deliveries of active webhooks for this worker until `leaseUntil`:
     * rows other workers are claiming are skipped (FOR UPDATE SKIP LOCKED), and a claimed row is
     * not due again until its lease ends, so no two workers send one delivery at once.
     */
    async claim(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
      const { rows } = await sql<ClaimedDelivery>`
        with due as (
          select d.id from webhook_deliveries d
          where d.status = 'pending' and d.next_attempt_at <= ${now} and (d.lease_until is null or d.lease_until <= ${now})
            and exists (select 1 from webhooks w where w.id = d.webhook_id and w.active)
          order by d.next_attempt_at
          limit ${limit}
          for update of d skip locked
        )
        update webhook_deliveries d set lease_until = ${leaseUntil}
        from due, webhooks w
        where d.id = due.id and w.id = d.webhook_id
        returning d.id, d.webhook_id, d.payload, d.attempts, w.url, w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at`.execute(db);
      return rows;
    },

    async recordAttempt(row: Omit<WebhookAttempt, 'id'>): Promise<void> {
      await db.insertInto('webhook_attempts').values(row).execute();
    },

    /** The delivery after an attempt: done (succeeded or failed for good) or due again at `next`. */
    async settle(id: string, outcome: { status: WebhookDelivery['status']; next: Date | null }, at: Date): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({ status: outcome.status, next_attempt_at: outcome.next, lease_until: null, attempts: sql`attempts + 1`, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
  };
}
