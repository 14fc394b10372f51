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
     * Claims up to `limit` due deliveries of active webhooks for this worker until `leaseUntil`,
     * at most `perEndpoint` in flight for any one webhook (counting what every worker holds), and
     * one for a webhook whose attempts are failing (a receiver that hangs or errs is tried one
     * delivery at a time until it answers again), the longest-due first. Rows other workers are
     * claiming are skipped (FOR UPDATE SKIP LOCKED), and a claimed row is not due again until its
     * lease ends, so no two workers send one delivery at once. Two workers claiming at the same
     * moment may each fill an endpoint's share: the cap keeps a slow receiver from taking every
     * slot, and holds to within that.
     */
    async claim(now: Date, leaseUntil: Date, limit: number, perEndpoint: number): Promise<ClaimedDelivery[]> {
      // Every read of webhook_deliveries here is by an endpoint's index: a plan made while the
      // table was small (prepared statements keep theirs) must not turn into a scan of it.
      const { rows } = await sql<ClaimedDelivery>`
        with due as (
          select c.id from webhooks w
          cross join lateral (
            select d.id, d.next_attempt_at from webhook_deliveries d
            where d.webhook_id = w.id and d.status = 'pending' and d.next_attempt_at <= ${now}
              and (d.lease_until is null or d.lease_until <= ${now})
            order by d.next_attempt_at
            limit greatest(0, (case when w.failing_since is null then ${perEndpoint}::int else 1 end) - (
              select count(*) from webhook_deliveries l
              where l.webhook_id = w.id and l.status = 'pending' and l.lease_until is not null and l.lease_until > ${now}))
            for update of d skip locked
          ) c
          where w.active
          order by c.next_attempt_at
          limit ${limit}
        )
        update webhook_deliveries d set lease_until = ${leaseUntil}
        from due, webhooks w
        where d.id = due.id and w.id = d.webhook_id
        returning d.id, d.webhook_id, d.payload, d.attempts, w.url, w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at`.execute(db);
      return rows;
    },

    async recordAttempts(rows: Array<Omit<WebhookAttempt, 'id'>>): Promise<void> {
      if (rows.length > 0) await db.insertInto('webhook_attempts').values(rows).execute();
    },

    /** Deliveries after an attempt each: done (succeeded or failed for good) or due again at `next`. */
    async settleMany(outcomes: SettleOutcome[], at: Date): Promise<void> {
      if (outcomes.length === 0) return;
      await sql`
        update webhook_deliveries d
        set status = o.status, next_attempt_at = o.next::timestamptz, lease_until = null, attempts = d.attempts + 1, updated_at = ${at}
        from unnest(${outcomes.map((o) => o.id)}::text[], ${outcomes.map((o) => o.status)}::text[], ${outcomes.map((o) => o.next?.toISOString() ?? null)}::text[]) as o(id, status, next)
        where d.id = o.id`.execute(db);
    },

    /**
     * Keeps each endpoint's failing_since (since when every attempt has failed) after a batch of
     * attempts: cleared for those whose last attempt succeeded, now for those whose failures began
     * within the batch, kept or now for those that only failed. Returns the active endpoints of the
     * last kind failing since `disableBefore` or earlier (to be disabled).
     */
    async markFailing(e: { recovered: string[]; failing: string[]; failingAnew: string[] }, at: Date, disableBefore: Date): Promise<string[]> {
      if (e.recovered.length > 0) await db.updateTable('webhooks').set({ failing_since: null }).where('id', 'in', e.recovered).where('failing_since', 'is not', null).execute();
      if (e.failingAnew.length > 0) await db.updateTable('webhooks').set({ failing_since: at }).where('id', 'in', e.failingAnew).execute();
      if (e.failing.length === 0) return [];
      // Only the rows that change are written: those starting to fail, and those to be disabled
      // (an endpoint failing for less long is not touched on each of its attempts).
      const rows = await db
        .updateTable('webhooks')
        .set({ failing_since: sql`coalesce(failing_since, ${at})` })
        .where('id', 'in', e.failing)
        .where((eb) => eb.or([eb('failing_since', 'is', null), eb.and([eb('active', '=', true), eb('failing_since', '<=', disableBefore)])]))
        .returning(['id', 'failing_since'])
        .execute();
      return rows.filter((w) => w.failing_since! <= disableBefore).map((w) => w.id);
    },
  };
}

/** What an attempt leaves a delivery as. */
export interface SettleOutcome {
  id: string;
  status: WebhookDelivery['status'];
  next: Date | null;
}
